// Argument types shared by command specs: each reads what people type and refuses with a locale key.
import { z } from 'zod';
import { dateShaped, FORWARD_LIMIT_YEARS, parseCount, parseDay, yearsLater, type DayField } from './words.ts';

/** A record's number as people type it (12, #12, ＃12, 十二), within what the database stores. */
export const recordId = (message: string) =>
  z.string().transform((v, ctx) => {
    const n = parseCount(v.replace(/^[#＃]/, ''));
    return n && n > 0 ? n : (ctx.addIssue({ code: 'custom', message }), z.NEVER);
  });

/**
 * A day as people type it (2027-01-20, 1月20日, 下周一, 本月底), placed by its field (see DayField).
 * Written as a date that does not exist (2月30日), it is "not a date" (`day.not_a_date`); otherwise
 * refused with `message`. A forward-looking day more than FORWARD_LIMIT_YEARS ahead is refused
 * with the limit named (`day.too_far`).
 */
export function readDay(
  text: string,
  today: string,
  field: DayField,
  message: string,
  ctx: z.RefinementCtx,
  path: string[] = [],
): string {
  const day = parseDay(text, today, field);
  if (!day)
    return (
      ctx.addIssue({
        code: 'custom',
        path,
        message: dateShaped(text) ? 'day.not_a_date' : message,
        params: { value: text },
      }),
      z.NEVER
    );
  const limit = yearsLater(today, FORWARD_LIMIT_YEARS);
  if (field === 'forward' && day > limit)
    return (ctx.addIssue({ code: 'custom', path, message: 'day.too_far', params: { day, limit } }), z.NEVER);
  return day;
}

/** An argument that is a day of the given field. */
export const dayArg = (today: string, field: DayField, message: string) =>
  z.string().transform((v, ctx) => readDay(v, today, field, message, ctx));
