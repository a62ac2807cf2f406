import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { obligationId, ownOpenObligation, transition, wasAcknowledged } from '../src/domain/obligations.ts';

/** /签收: the responsible unit acknowledges an obligation assigned to it. */
export default defineCommand({
  name: 'ack',
  aliases: ['签收'],
  summary: 'ack.summary',
  usage: 'ack.usage',
  examples: ['/签收 14'],
  params: ['id'],
  args: z.object({ id: obligationId }),
  roles: ['liaison', 'leader', 'insurer'],
  writes: true,
  async run(ctx, { id }) {
    const o = await ownOpenObligation(ctx, id);
    if (o.status !== 'assigned' && (o.status !== 'extended' || (await wasAcknowledged(ctx.db, o.id))))
      throw new UserError('ack.already', { id });
    // Whoever signs for an item holds it for the unit (经办人) until it is handed over (/交接).
    await transition(
      ctx,
      o,
      { toStatus: 'acknowledged' },
      { status: 'acknowledged', ...(o.holderUserId ? {} : { holderUserId: ctx.userId }) },
    );
    return { text: ctx.t('ack.done', { id, title: o.title, due: o.dueOn }) };
  },
});
