import { z } from 'zod';
import { toldLines } from '../src/core/format.ts';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { dayArg } from '../src/core/args.ts';
import { obligationId, ownOpenObligation, transition } from '../src/domain/obligations.ts';

/** /延期: the responsible unit asks for a later due date; a leader grants it (/批准) or not (/驳回). */
export default defineCommand({
  name: 'extend',
  aliases: ['延期'],
  summary: 'extend.summary',
  usage: 'extend.usage',
  examples: ['/延期 12 12月20日 等待企业补交材料'],
  params: ['id', 'date', '...reason'],
  args: ({ today }) =>
    z.object({
      id: obligationId,
      date: dayArg(today, 'forward', 'extend.bad_date'),
      reason: z.string().trim().min(1).max(300),
    }),
  roles: ['liaison', 'leader', 'insurer'],
  writes: true,
  async run(ctx, { id, date, reason }) {
    const { t } = ctx;
    const o = await ownOpenObligation(ctx, id);
    if (o.requestedDueOn) throw new UserError('extend.pending', { id, date: o.requestedDueOn });
    if (date <= o.dueOn) throw new UserError('extend.not_after', { date, due: o.dueOn });
    await transition(
      ctx,
      o,
      { toStatus: 'extension_requested', note: reason, dueOn: date },
      { requestedDueOn: date, requestReason: reason },
    );
    const told = await ctx.tell('leaders', {
      markdown: ctx.groupT('extend.notice', { id, unit: o.unit.name, title: o.title, due: o.dueOn, date, reason }),
    });
    return {
      text: [t('extend.done', { id, due: o.dueOn, date }), ...toldLines(t, told)].join('\n'),
    };
  },
});
