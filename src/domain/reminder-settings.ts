import { z } from 'zod';

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be HH:MM' });

/**
 * When and how the bot reminds: data in the campaign file (`reminders`), every field defaulted, so
 * a deployment changes only what it needs.
 */
export const reminderSettingsSchema = z.object({
  /** Working days at this time: overdue and due-soon items, countdowns, expiring policies, silent units, unconfirmed visits. */
  dailyAt: clockTime.default('09:00'),
  /** The weekly coverage digest to the leaders' group: the first working day of the week, at this time. */
  digestAt: clockTime.default('09:00'),
  /**
   * Overdue items escalate, rung by rung (RUNGS in src/schedule/rules/01-obligations.ts): to the unit's 责任人 after
   * this many working days overdue, to its 分管领导 after these, to the leaders' group after
   * `escalateAfterWorkingDays` …
   */
  escalateToResponsibleAfterWorkingDays: z.number().int().min(0).default(1),
  escalateToInChargeAfterWorkingDays: z.number().int().min(0).default(2),
  escalateAfterWorkingDays: z.number().int().min(0).default(3),
  /** … or, each of them, after this many reminders to the unit (steps of the ladder) without any reaction. */
  escalateAfterReminders: z.number().int().min(1).default(3),
  /**
   * The steps in time every item climbs on each rung (audience, see RUNGS in src/schedule/rules/01-obligations.ts): the first notice,
   * again after `againAfterWorkingDays`, then every `thenEveryWorkingDays` (weekly), whatever runs late.
   */
  ladder: z
    .object({
      againAfterWorkingDays: z.number().int().min(1).default(3),
      thenEveryWorkingDays: z.number().int().min(1).default(5),
    })
    .default({ againAfterWorkingDays: 3, thenEveryWorkingDays: 5 }),
  countdownWorkingDays: z.array(z.number().int().min(1)).default([7, 3, 1]),
  policyExpiryDays: z.array(z.number().int().min(1)).default([30, 7]),
  silentDays: z.number().int().min(1).default(7),
  visitConfirmWorkingDays: z.number().int().min(1).default(3),
  /** Routine messages are not sent between these times; they wait for the end. */
  quietHours: z.object({ from: clockTime, to: clockTime }).default({ from: '20:00', to: '08:00' }),
  /** A run missed while the service was down is sent late when younger than this, skipped otherwise. */
  catchUpHours: z.number().min(0).default(12),
});

export type ReminderSettings = z.output<typeof reminderSettingsSchema>;

export function reminderSettings(json: string | null | undefined): ReminderSettings {
  return reminderSettingsSchema.parse(json ? JSON.parse(json) : {});
}
