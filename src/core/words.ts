// Numbers and dates as people type them in Chinese chats: 三十八, 12/13, 10月31日, 明天, 本月底, 下周一.
import { addDays } from '../clock.ts';

const DIGITS: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};
const UNITS: Record<string, number> = { 十: 10, 百: 100, 千: 1000, 万: 10000 };

/** The largest whole number the database stores (a 32-bit Int): a larger one is no count, id or headcount. */
export const MAX_COUNT = 2_147_483_647;

/** A whole number in digits or Chinese numerals (三十八, 一百零五, 两千, 1万); null if it is not one. */
export function parseCount(text: string): number | null {
  const n = readCount(text);
  return n !== null && n <= MAX_COUNT ? n : null;
}

function readCount(text: string): number | null {
  const s = text.trim().replace(/[个家人名户]$/, '');
  if (/^\d+$/.test(s)) return Number(s);
  if (/^\d+万$/.test(s)) return Number(s.slice(0, -1)) * 10000;
  if (!s || ![...s].every((c) => c in DIGITS || c in UNITS)) return null;
  // 三八 or 一〇五: digits read one by one.
  if (![...s].some((c) => c in UNITS)) return Number([...s].map((c) => DIGITS[c]).join(''));
  let total = 0;
  let section = 0;
  let digit = 0;
  for (const c of s) {
    if (c in DIGITS) digit = DIGITS[c]!;
    else {
      const unit = UNITS[c]!;
      if (unit === 10000) {
        total += (section + digit) * unit;
        section = 0;
      } else section += (digit || (unit === 10 ? 1 : 0)) * unit; // 十五 = 15
      digit = 0;
    }
  }
  return total + section + digit;
}

/** '12/13' or '12／13' or '十二/十三' → insured and total; null unless insured ≤ total. */
export function parseRatio(text: string): { insured: number; total: number } | null {
  const m = /^([^/／]+)[/／]([^/／]+)$/.exec(text.trim());
  if (!m) return null;
  const [insured, total] = [parseCount(m[1]!), parseCount(m[2]!)];
  return insured === null || total === null || insured > total || total === 0 ? null : { insured, total };
}

const WEEKDAYS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 7, 天: 7 };

/**
 * How a day typed without its year is placed, by what its field looks at: a deadline, extension
 * or snooze looks `forward` (the next such day on or after today); a visit, accident, payment or
 * report looks `backward` (the last on or before today); a policy's end comes after its start
 * (`{ after: start }`); a policy's start is the `nearest` such day.
 */
export type DayField = 'forward' | 'backward' | 'nearest' | { after: string };

/** How far ahead a forward-looking day (a deadline, an extension, a snooze) may lie. */
export const FORWARD_LIMIT_YEARS = 2;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function valid(y: number, m: number, d: number): string | null {
  const day = `${y}-${pad(m)}-${pad(d)}`;
  const t = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === day ? day : null;
}

function monthEnd(y: number, m: number): string {
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** The same day `years` later; 29 February becomes the 28th in a common year. */
export function yearsLater(day: string, years: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return valid(y + years, m, d) ?? monthEnd(y + years, m);
}

/** Monday = 1 … Sunday = 7 of a 'YYYY-MM-DD' day. */
export function weekday(day: string): number {
  return new Date(`${day}T00:00:00Z`).getUTCDay() || 7;
}

const daysBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 86_400_000;

/** Month and day without a year, placed as its field looks (see DayField); null when no year has that day. */
function place(month: number, day: number, today: string, field: DayField): string | null {
  const from = typeof field === 'object' ? field.after : today;
  const base = Number(from.slice(0, 4));
  // Eight years either side: 29 February is in two of them even across 2100, a century year that is not a leap year.
  const days = Array.from({ length: 17 }, (_, i) => i - 8)
    .map((k) => valid(base + k, month, day))
    .filter((d): d is string => d !== null);
  if (field === 'forward') return days.find((d) => d >= today) ?? null;
  if (field === 'backward') return days.findLast((d) => d <= today) ?? null;
  if (typeof field === 'object') return days.find((d) => d > field.after) ?? null;
  return days.reduce<string | null>(
    (best, d) => (best === null || Math.abs(daysBetween(today, d)) < Math.abs(daysBetween(today, best)) ? d : best),
    null,
  );
}

/** Chinese numerals before 年, 月, 日, 号 and 天 become digits: 十二月三十一日 → 12月31日, 三天后 → 3天后. */
function withDigits(text: string): string {
  return text
    .trim()
    .replace(/\s+/g, '')
    .replace(/[〇零一二两三四五六七八九十]+(?=[年月日号天])/g, (w) => String(parseCount(w) ?? w));
}

const FULL = /^(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?|(\d{2})(\d{2}))$/;
const MONTH_DAY = /^(\d{1,2})[月/-](\d{1,2})[日号]?$/;

/** Written as a date (2026-02-30, 2月30日, 20260230), whether or not that day exists: such a word is "not a date", not some other word. */
export function dateShaped(text: string): boolean {
  const s = withDigits(text);
  return FULL.test(s) || MONTH_DAY.test(s);
}

/**
 * A calendar day from what people type, relative to `today` (in the campaign's timezone):
 * 2027-01-15, 2027/1/15, 2027年1月15日, 20270115; 1月15日 and 十二月三十一日 without a year,
 * placed as `field` looks; 今天, 明天, 后天, 昨天, 前天, 3天后, 三天前; 本月底/月底, 下月底/下个月底,
 * 年底; 周五/本周五, 下周一, 下下周一. Null when it is not a date.
 */
export function parseDay(text: string, today: string, field: DayField): string | null {
  const s = withDigits(text);
  let m = FULL.exec(s);
  if (m) return valid(Number(m[1]), Number(m[2] ?? m[4]), Number(m[3] ?? m[5]));
  m = MONTH_DAY.exec(s);
  if (m) return place(Number(m[1]), Number(m[2]), today, field);
  const year = Number(today.slice(0, 4));
  const month = Number(today.slice(5, 7));
  const relative: Record<string, number> = {
    今天: 0,
    今日: 0,
    明天: 1,
    明日: 1,
    后天: 2,
    昨天: -1,
    昨日: -1,
    前天: -2,
  };
  if (Object.hasOwn(relative, s)) return addDays(today, relative[s]!);
  m = /^(\d{1,4})天(后|以后|之后|前|以前|之前)$/.exec(s);
  if (m) return addDays(today, Number(m[1]) * (m[2]!.endsWith('前') ? -1 : 1));
  if (s === '本月底' || s === '月底') return monthEnd(year, month);
  if (s === '下月底' || s === '下个月底') return monthEnd(month === 12 ? year + 1 : year, (month % 12) + 1);
  if (s === '年底' || s === '本年底' || s === '今年底') return `${year}-12-31`;
  if (s === '明年底') return `${year + 1}-12-31`;
  m = /^(本周|这周|周|星期|下周|下星期|下下周|下下星期)([一二三四五六日天])$/.exec(s);
  if (m) {
    const weeks = m[1]!.startsWith('下下') ? 2 : m[1]!.startsWith('下') ? 1 : 0;
    return addDays(today, WEEKDAYS[m[2]!]! - weekday(today) + 7 * weeks);
  }
  return null;
}

/** The words members type for a set of codes (statuses, kinds, roles, outcomes): one reader for each such table. */
export interface WordTable<C extends string> {
  /** The code a word names — one of its words or the code itself, case and surrounding space aside; null when none. */
  code(word: string): C | null;
  /** The first word listed for a code: how it is usually written (for a button's command, say). */
  word(code: C): string;
  /** Every code, in the table's order. */
  readonly codes: readonly C[];
  /** Every word and code, lower-cased, with its code; longest first, so a prefix reader takes 隐患排查 before 隐患. */
  readonly words: readonly { word: string; code: C }[];
}

/**
 * A word table from each code's words, usual word first: `wordTable({ stopped: ['停产', '停业'], … })`.
 * Every code also answers to itself. A word listed under two codes is a mistake and throws.
 */
export function wordTable<const C extends string>(entries: Record<C, readonly string[]>): WordTable<C> {
  const codes = Object.keys(entries) as C[];
  const byWord = new Map<string, C>();
  for (const code of codes)
    for (const w of [code, ...entries[code]].map((x) => x.trim().toLowerCase())) {
      const other = byWord.get(w);
      if (other !== undefined && other !== code) throw new Error(`word table: “${w}” names both ${other} and ${code}`);
      byWord.set(w, code);
    }
  const words = [...byWord].map(([word, code]) => ({ word, code })).sort((a, b) => b.word.length - a.word.length);
  return {
    code: (word) => byWord.get(word.trim().toLowerCase()) ?? null,
    word: (code) => entries[code][0] ?? code,
    codes,
    words,
  };
}
