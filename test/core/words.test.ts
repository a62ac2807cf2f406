import { describe, expect, it } from 'vitest';
import { dateShaped, parseCount, parseDay, parseRatio, type DayField } from '../../src/core/words.ts';

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
    ['20270115', '2027-01-15'],
    ['二〇二七年一月十五日', '2027-01-15'],
    ['今天', '2026-11-29'],
    ['明天', '2026-11-30'],
    ['后天', '2026-12-01'],
    ['昨天', '2026-11-28'],
    ['3天后', '2026-12-02'],
    ['三天前', '2026-11-26'],
    ['本月底', '2026-11-30'],
    ['下月底', '2026-12-31'],
    ['下个月底', '2026-12-31'],
    ['年底', '2026-12-31'],
    ['下周一', '2026-11-30'],
    ['下下周一', '2026-12-07'],
    ['周五', '2026-11-27'],
    ['下周日', '2026-12-06'],
    ['2026-02-30', null],
    ['20260230', null],
    ['2月30日', null],
    ['13月1日', null],
    ['whenever', null],
  ];
  for (const [text, day] of cases)
    it(`${text} → ${day}`, () => {
      for (const field of ['forward', 'backward', 'nearest'] as const) expect(parseDay(text, today, field)).toBe(day);
    });
  it('crosses the year at December’s end', () => {
    expect(parseDay('下月底', '2026-12-15', 'forward')).toBe('2027-01-31');
    expect(parseDay('下个月底', '2026-12-15', 'backward')).toBe('2027-01-31');
    expect(parseDay('3天后', '2026-12-30', 'forward')).toBe('2027-01-02');
    expect(parseDay('下下周一', '2026-12-30', 'forward')).toBe('2027-01-11');
  });
  it('knows a date that does not exist from a word that is no date', () => {
    for (const text of ['2月30日', '二月三十日', '2026-02-30', '20260230', '13月1日'])
      expect(dateShaped(text), text).toBe(true);
    for (const text of ['下周一', '东坪', '12', 'whenever']) expect(dateShaped(text), text).toBe(false);
  });
});

describe('a date without its year takes the year its field looks to', () => {
  // At the turn of a year, each field: the same words, placed differently.
  const december = '2026-12-30';
  const january = '2027-01-03';
  const cases: [today: string, text: string, field: DayField, day: string][] = [
    // Forward (deadlines, extensions, snoozes): the next such day on or after today.
    [december, '1月15日', 'forward', '2027-01-15'],
    [december, '十二月三十一日', 'forward', '2026-12-31'],
    [december, '12月30日', 'forward', '2026-12-30'],
    [december, '12月29日', 'forward', '2027-12-29'],
    [january, '1月3日', 'forward', '2027-01-03'],
    [january, '12月28日', 'forward', '2027-12-28'],
    // Backward (visits, accidents, payments, reports): the last on or before today.
    [january, '12月28日', 'backward', '2026-12-28'],
    [january, '1月3日', 'backward', '2027-01-03'],
    [january, '1月4日', 'backward', '2026-01-04'],
    [december, '1月15日', 'backward', '2026-01-15'],
    // A policy's start: the nearest.
    [december, '1月1日', 'nearest', '2027-01-01'],
    [january, '12月1日', 'nearest', '2026-12-01'],
    [january, '7月1日', 'nearest', '2027-07-01'],
    // A policy's end: the first such day after its start.
    [december, '12月31日', { after: '2027-01-01' }, '2027-12-31'],
    [january, '1月1日', { after: '2026-12-01' }, '2027-01-01'],
    [january, '11月30日', { after: '2026-12-01' }, '2027-11-30'],
    [january, '12月1日', { after: '2026-12-01' }, '2027-12-01'],
    // 29 February: the nearest year that has one, as the field looks.
    [december, '2月29日', 'forward', '2028-02-29'],
    [december, '2月29日', 'backward', '2024-02-29'],
  ];
  for (const [today, text, field, day] of cases)
    it(`${today}: ${text} as ${JSON.stringify(field)} → ${day}`, () => expect(parseDay(text, today, field)).toBe(day));
});
