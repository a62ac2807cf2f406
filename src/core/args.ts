// Argument types shared by command specs: each reads what people type and refuses with a locale key.
import { z } from 'zod';
import { parseCount, parseDay } from './words.ts';

/** A record's number as people type it (12, #12, ＃12, 十二), within what the database stores. */
export const recordId = (message: string) =>
  z.string().transform((v, ctx) => {
    const n = parseCount(v.replace(/^[#＃]/, ''));
    return n && n > 0 ? n : (ctx.addIssue({ code: 'custom', message }), z.NEVER);
  });

/** A day as people type it (2027-01-20, 1月20日, 下周一, 本月底), relative to today. */
export const dayArg = (today: string, message: string) =>
  z.string().transform((v, ctx) => parseDay(v, today) ?? (ctx.addIssue({ code: 'custom', message }), z.NEVER));
