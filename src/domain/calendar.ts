import { isWorkday } from 'chinese-days';
import { addDays } from '../clock.ts';

/** Days a deployment adds or corrects: 'holiday' or 'workday' (调休 make-up day). */
export type CalendarOverrides = Record<string, 'holiday' | 'workday'>;

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
    return isWorkday(day);
  }

  /** The day n working days after `day` (n ≥ 0; 0 gives the next working day from `day` on). */
  addWorkingDays(day: string, n: number): string {
    let d = day;
    while (!this.isWorkingDay(d)) d = addDays(d, 1);
    for (let left = n; left > 0; ) {
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
