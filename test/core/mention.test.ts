import { describe, expect, it } from 'vitest';
import { stripMentions } from '../../src/core/mention.ts';

describe('stripMentions', () => {
  it.each([
    ['@安责险助手 /覆盖率', '/覆盖率'],
    ['@安责险助手\u3000/coverage 危化', '/coverage 危化'],
    ['  @安责险助手   /coverage  ', '/coverage'],
    ['@安责险助手\n查询', '查询'],
    ['@安责险助手', ''],
    ['@安责险助手/覆盖率', '/覆盖率'],
    ['@安责险助手／覆盖率', '／覆盖率'],
    ['@安责险助手 @张三 /交办 应急局 报送台账 明天', '/交办 应急局 报送台账 明天'],
    ['＠安责险助手 /覆盖率', '/覆盖率'],
    ['  /coverage 危化 ', '/coverage 危化'],
    ['问一下 @安责险助手 覆盖率', '问一下 @安责险助手 覆盖率'],
    ['/交办 应急局 联系@张三 明天', '/交办 应急局 联系@张三 明天'],
    ['', ''],
  ])('%j -> %j', (input, expected) => {
    expect(stripMentions(input)).toBe(expected);
  });
});
