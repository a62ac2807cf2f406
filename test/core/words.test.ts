import { describe, expect, it } from 'vitest';
import { dateShaped, parseCount, parseDay, parseRatio, wordTable, type DayField } from '../../src/core/words.ts';
import { parseRole } from '../../src/core/roles.ts';
import { chatPurpose } from '../../src/domain/members.ts';
import { parseFindingKind } from '../../src/domain/findings.ts';
import { parseOutcome } from '../../src/domain/claims.ts';
import { parseServiceType } from '../../src/domain/visits.ts';
import { parseFindings } from '../../src/domain/inspections.ts';

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

describe('word tables', () => {
  const status = wordTable({ operating: ['在营', '正常'], stopped: ['停产', '停产整顿'], closed: ['关闭'] });

  it('reads a word or the code itself, case and surrounding space aside; anything else is null', () => {
    expect(['在营', ' 正常 ', '停产整顿', 'Closed', 'operating', '关门', ''].map((w) => status.code(w))).toEqual([
      'operating',
      'operating',
      'stopped',
      'closed',
      'operating',
      null,
      null,
    ]);
  });

  it("gives the codes in order, each code's usual word, and every word longest first", () => {
    expect(status.codes).toEqual(['operating', 'stopped', 'closed']);
    expect(status.codes.map((c) => status.word(c))).toEqual(['在营', '停产', '关闭']);
    expect(status.words[0]).toEqual({ word: 'operating', code: 'operating' });
    expect(status.words.find((w) => '停产整顿三个月'.startsWith(w.word))?.word).toBe('停产整顿');
    expect(status.words.map((w) => w.word.length)).toEqual(
      [...status.words].map((w) => w.word.length).sort((a, b) => b - a),
    );
  });

  it('refuses a word listed under two codes', () => {
    expect(() => wordTable({ a: ['其他'], b: ['其它', '其他'] })).toThrow(/其他/);
  });

  it("never answers with an object's built-in names, which the plain-object tables used to", () => {
    for (const word of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(
        [parseRole, chatPurpose, parseFindingKind, parseOutcome, parseServiceType, parseFindings, status.code].map(
          (read) => read(word),
        ),
        word,
      ).toEqual([null, null, null, null, null, null, null]);
  });

  it('every table of the commands reads its words and its codes', () => {
    expect(['管理员', 'admin', '第三方', 'Viewer'].map(parseRole)).toEqual(['admin', 'admin', 'agency', 'viewer']);
    expect(['县领导群', 'leaders', '管理员', '东坪镇'].map(chatPurpose)).toEqual([
      'leaders',
      'leaders',
      'admins',
      null,
    ]);
    expect(['走访缺失', 'visit_late'].map(parseFindingKind)).toEqual(['visit_missing', 'visit_late']);
    expect(['和解', 'referred'].map(parseOutcome)).toEqual(['agreed', 'referred']);
    expect(['隐患', 'technology'].map(parseServiceType)).toEqual(['hazard_inspection', 'technology']);
    expect(parseFindings('摊派保费、uninsured')).toEqual(['charged', 'uninsured']);
  });
});
