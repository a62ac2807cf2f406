import { existsSync, readFileSync } from 'node:fs';
import chineseDays from 'chinese-days';
import { z } from 'zod';
import { addDays } from '../clock.ts';

/** Days a deployment adds or corrects: 'holiday' or 'workday' (调休 make-up day). */
const overridesSchema = z.record(
  z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'keys must be days YYYY-MM-DD' }),
  z.enum(['holiday', 'workday']),
);
export type CalendarOverrides = z.output<typeof overridesSchema>;

/** Reads the deployment's calendar file; a missing file means no corrections. */
export function readCalendarFile(file: string): CalendarOverrides {
  if (!existsSync(file)) return {};
  const result = overridesSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!result.success)
    throw new Error(`${file}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data;
}

// Statutory holidays on fixed dates are known even for a year the package has not caught up with.
const FIXED_HOLIDAYS = ['01-01', '05-01', '10-01', '10-02', '10-03'];

/**
 * China's working days: statutory holidays and 调休 make-up days from `chinese-days`, corrected
 * by the deployment's overrides (the State Council publishes each year late in the year before).
 */
export class WorkCalendar {
  constructor(private readonly overrides: CalendarOverrides = {}) {}

  isWorkingDay(day: string): boolean {
    const o = this.overrides[day];
    if (o) return o === 'workday';
    if (FIXED_HOLIDAYS.includes(day.slice(5))) return false;
    return chineseDays.isWorkday(day);
  }

  /** Whether the year's holiday arrangement is known: from the package, or from the deployment's corrections. */
  knowsYear(year: number): boolean {
    return (
      Object.keys(this.overrides).some((d) => d.startsWith(`${year}-`)) ||
      chineseDays.getHolidaysInRange(`${year}-01-01`, `${year}-12-31`, false).length > 0
    );
  }

  /** The day n working days after `day` (n ≥ 0; 0 gives the next working day from `day` on). */
  addWorkingDays(day: string, n: number): string {
    let d = day;
    while (!this.isWorkingDay(d)) d = addDays(d, 1);
    for (let left = n; left > 0;) {
      d = addDays(d, 1);
      if (this.isWorkingDay(d)) left--;
    }
    return d;
  }

  /** Working days after `from` up to and including `to` (0 when `to` is not after `from`). */
  workingDaysBetween(from: string, to: string): number {
    let n = 0;
    for (let d = addDays(from, 1); d <= to; d = addDays(d, 1)) if (this.isWorkingDay(d)) n++;
    return n;
  }
}
