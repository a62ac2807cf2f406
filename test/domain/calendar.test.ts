import { describe, expect, it } from 'vitest';
import { WorkCalendar } from '../../src/domain/calendar.ts';

describe('the working-day calendar', () => {
  const cal = new WorkCalendar();
  it('follows statutory holidays and 调休 make-up days', () => {
    expect(cal.isWorkingDay('2026-11-30')).toBe(true); // Monday
    expect(cal.isWorkingDay('2026-11-29')).toBe(false); // Sunday
    expect(cal.isWorkingDay('2025-10-01')).toBe(false); // 国庆
    expect(cal.isWorkingDay('2025-09-28')).toBe(true); // a Sunday worked for 国庆 (调休)
  });

  it('knows fixed-date holidays of a year the package lags on, and takes a deployment’s corrections', () => {
    expect(cal.isWorkingDay('2027-01-01')).toBe(false);
    const corrected = new WorkCalendar({ '2027-02-20': 'workday', '2027-02-15': 'holiday' });
    expect(corrected.isWorkingDay('2027-02-20')).toBe(true);
    expect(corrected.isWorkingDay('2027-02-15')).toBe(false);
  });

  it('counts working days', () => {
    expect(cal.addWorkingDays('2026-11-27', 1)).toBe('2026-11-30'); // Friday + 1 = Monday
    expect(cal.addWorkingDays('2026-11-29', 0)).toBe('2026-11-30');
    expect(cal.workingDaysBetween('2026-11-27', '2026-12-02')).toBe(3);
    expect(cal.workingDaysBetween('2026-12-02', '2026-11-27')).toBe(0);
  });
});
