import { z } from 'zod';
import { toldLines } from '../src/core/format.ts';
import { defineCommand } from '../src/bot/spec.ts';
import { assertOpen, findObligation, obligationId, pendingRequest, transition } from '../src/domain/obligations.ts';

/** /驳回: a leader refuses an extension request, with the reason; the due date stands. */
export default defineCommand({
  name: 'reject',
  aliases: ['驳回'],
  summary: 'reject.summary',
  usage: 'reject.usage',
  examples: ['/驳回 11 时间节点不能推迟，请按期完成'],
  params: ['id', '...reason'],
  args: z.object({ id: obligationId, reason: z.string().trim().min(1).max(300) }),
  roles: ['leader'],
  writes: true,
  async run(ctx, { id, reason }) {
    const { t } = ctx;
    const o = await findObligation(ctx, id);
    assertOpen(o);
    const date = pendingRequest(o);
    await transition(
      ctx,
      o,
      { toStatus: 'extension_rejected', note: reason, dueOn: date },
      { requestedDueOn: null, requestReason: null },
    );
    const told = await ctx.tell(
      { unit: o.unitId },
      { markdown: ctx.groupT('reject.notice', { id, title: o.title, due: o.dueOn, date, reason }) },
    );
    return {
      text: [t('reject.done', { id, unit: o.unit.name, due: o.dueOn }), ...toldLines(t, told)].join('\n'),
    };
  },
});
