import { describe, expect, it } from 'vitest';
import { parseCount, parseDay, parseRatio } from '../../src/core/words.ts';

describe('numbers as people type them', () => {
  it('reads digits and Chinese numerals', () => {
    const cases: [string, number | null][] = [
      ['38', 38],
      ['三十八', 38],
      ['十五', 15],
      ['十', 10],
      ['一百零五', 105],
      ['两千', 2000],
      ['一万二千', 12000],
      ['3万', 30000],
      ['二十家', 20],
      ['零', 0],
      ['三八', 38],
      ['abc', null],
      ['', null],
      ['十五点', null],
    ];
    for (const [text, n] of cases) expect(parseCount(text), text).toBe(n);
  });

  it('reads insured/total and refuses impossible pairs', () => {
    expect(parseRatio('12/13')).toEqual({ insured: 12, total: 13 });
    expect(parseRatio('十二／十三')).toEqual({ insured: 12, total: 13 });
    expect(parseRatio('14/13')).toBeNull();
    expect(parseRatio('1/0')).toBeNull();
    expect(parseRatio('12')).toBeNull();
  });
});

describe('dates as people type them', () => {
  const today = '2026-11-29'; // a Sunday
  const cases: [string, string | null][] = [
    ['2021-10-31', '2021-10-31'],
    ['2021/10/31', '2021-10-31'],
    ['2021年10月31日', '2021-10-31'],
    ['10月31日', '2026-10-31'],
    ['12月3号', '2026-12-03'],
    ['今天', '2026-11-29'],
    ['明天', '2026-11-30'],
    ['后天', '2026-12-01'],
    ['昨天', '2026-11-28'],
    ['本月底', '2026-11-30'],
    ['下月底', '2026-12-31'],
    ['年底', '2026-12-31'],
    ['下周一', '2026-11-30'],
    ['周五', '2026-11-27'],
    ['下周日', '2026-12-06'],
    ['2026-02-30', null],
    ['13月1日', null],
    ['whenever', null],
  ];
  for (const [text, day] of cases) it(`${text} → ${day}`, () => expect(parseDay(text, today)).toBe(day));
  it('crosses the year at December’s end', () => expect(parseDay('下月底', '2026-12-15')).toBe('2027-01-31'));
});
