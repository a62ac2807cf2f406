import { z } from 'zod';
import { toldLines } from '../src/core/format.ts';
import { defineCommand } from '../src/bot/spec.ts';
import { assertOpen, findObligation, obligationId, pendingRequest, transition } from '../src/domain/obligations.ts';

/** /批准: a leader grants an extension request; the new due date replaces the old one. */
export default defineCommand({
  name: 'approve',
  aliases: ['批准'],
  summary: 'approve.summary',
  usage: 'approve.usage',
  examples: ['/批准 14'],
  params: ['id'],
  args: z.object({ id: obligationId }),
  roles: ['leader'],
  writes: true,
  async run(ctx, { id }) {
    const { t } = ctx;
    const o = await findObligation(ctx, id);
    assertOpen(o);
    const date = pendingRequest(o);
    // The event keeps the old due date in its note, the new one in dueOn.
    await transition(
      ctx,
      o,
      { toStatus: 'extended', note: o.dueOn, dueOn: date },
      { status: 'extended', dueOn: date, requestedDueOn: null, requestReason: null },
    );
    const told = await ctx.tell(
      { unit: o.unitId },
      { markdown: ctx.groupT('approve.notice', { id, title: o.title, due: o.dueOn, date }) },
    );
    return {
      text: [t('approve.done', { id, unit: o.unit.name, due: o.dueOn, date }), ...toldLines(t, told)].join('\n'),
    };
  },
});
