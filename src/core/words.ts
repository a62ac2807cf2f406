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

/** Monday = 1 … Sunday = 7 of a 'YYYY-MM-DD' day. */
export function weekday(day: string): number {
  return new Date(`${day}T00:00:00Z`).getUTCDay() || 7;
}

/**
 * A calendar day from what people type, relative to `today` (in the campaign's timezone):
 * 2021-10-31, 2021/10/31, 2021年10月31日, 10月31日 (this year), 今天, 明天, 后天, 昨天, 前天,
 * 本月底/月底, 下月底, 年底, 周五/本周五, 下周一. Null when it is not a date.
 */
export function parseDay(text: string, today: string): string | null {
  const s = text.trim().replace(/\s+/g, '');
  let m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?$/.exec(s);
  if (m) return valid(Number(m[1]), Number(m[2]), Number(m[3]));
  const year = Number(today.slice(0, 4));
  const month = Number(today.slice(5, 7));
  m = /^(\d{1,2})[月/-](\d{1,2})[日号]?$/.exec(s);
  if (m) return valid(year, Number(m[1]), Number(m[2]));
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
  if (s === '本月底' || s === '月底') return monthEnd(year, month);
  if (s === '下月底') return monthEnd(month === 12 ? year + 1 : year, (month % 12) + 1);
  if (s === '年底' || s === '本年底') return `${year}-12-31`;
  m = /^(本周|这周|周|星期|下周|下星期)([一二三四五六日天])$/.exec(s);
  if (m) {
    const next = m[1]!.startsWith('下') ? 7 : 0;
    return addDays(today, WEEKDAYS[m[2]!]! - weekday(today) + next);
  }
  return null;
}
