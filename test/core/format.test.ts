import { describe, expect, it } from 'vitest';
import { toldLines } from '../../src/core/format.ts';
import { neutral, SUBSTITUTIONS, trusted } from '../../src/core/neutral.ts';
import { translator } from '../../src/i18n.ts';

const t = translator('zh-CN');

describe('neutral', () => {
  it('replaces every markdown character by its full-width twin and puts the text on one line', () => {
    expect(neutral('[a](http://x.example/b) **c** <@u> # `d`\n> e\r\nf')).toBe(
      '［a］（http://x.example/b） ＊＊c＊＊ ＜@u＞ ＃ ｀d｀ ＞ e f',
    );
    for (const [from, to] of Object.entries(SUBSTITUTIONS)) expect(neutral(from)).toBe(to);
    expect(neutral('东坪镇（演示）2026-12-09 66.6%')).toBe('东坪镇（演示）2026-12-09 66.6%');
  });

  it('is applied by the translator to every string value, and not to trusted text of our own', () => {
    expect(t('notice.missed', { who: '**东坪**\n> 截止', why: trusted('**ours**') })).toBe(
      '⚠️ 未能通知＊＊东坪＊＊ ＞ 截止：**ours**。',
    );
  });
});

describe('toldLines', () => {
  it('names every audience not reached, one line per reason', () => {
    const lines = toldLines(t, {
      reached: [{ via: 'group', name: '东坪镇工作群' }],
      missed: [
        { who: '仙溪镇', why: 'no_destination' },
        { who: '大福镇', why: 'no_destination' },
        { who: 'leaders', why: 'no_destination' },
        { who: '旧群', why: 'unreachable_chat' },
      ],
    });
    expect(lines).toEqual([
      '📨 已通知 1 个工作群：东坪镇工作群。',
      '⚠️ 以下 3 个未能通知（没有可用的工作群，也没有登记联络员，请管理员用 /群 或 /绑定 补上）：仙溪镇、大福镇、县领导。',
      '⚠️ 未能通知旧群：这个群没有机器人，也无法通过长连接发送。',
    ]);
  });
});
