import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { dayArg } from '../src/core/args.ts';
import { obligationId, ownOpenObligation, transition } from '../src/domain/obligations.ts';

/**
 * /暂缓: the responsible unit pauses the routine reminders of one item until a day, with a reason;
 * they resume that day. An overdue item still escalates to the leaders' group meanwhile.
 */
export default defineCommand({
  name: 'snooze',
  aliases: ['暂缓'],
  summary: 'snooze.summary',
  usage: 'snooze.usage',
  examples: ['/暂缓 12 12月10日 等待企业补交材料'],
  params: ['id', 'date', '...reason'],
  args: ({ today }) =>
    z.object({
      id: obligationId,
      date: dayArg(today, 'forward', 'snooze.bad_date'),
      reason: z.string().trim().min(1).max(300),
    }),
  roles: ['liaison', 'leader', 'insurer'],
  writes: true,
  async run(ctx, { id, date, reason }) {
    const { t, today } = ctx;
    const o = await ownOpenObligation(ctx, id);
    if (date <= today) throw new UserError('snooze.not_future', { date, today });
    // A snooze ends by the item's deadline; an item already overdue keeps escalating anyway.
    if (o.dueOn >= today && date > o.dueOn) throw new UserError('snooze.after_due', { date, due: o.dueOn });
    await transition(
      ctx,
      o,
      { toStatus: o.status, note: `snoozed until ${date}: ${reason}` },
      { snoozedUntil: date, snoozeReason: reason },
    );
    return {
      text: [
        t('snooze.done', { id, title: o.title, date, reason }),
        ...(o.dueOn < today ? [t('snooze.still_escalates')] : []),
      ].join('\n'),
    };
  },
});
