import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { daysLate, obligationId, ownOpenObligation, transition } from '../src/domain/obligations.ts';
import { assertMayCloseByHand } from '../src/domain/inspections.ts';

/** /办结: the responsible unit closes an obligation, optionally with its evidence (a file no., a link). */
export default defineCommand({
  name: 'done',
  aliases: ['办结', '销号'],
  summary: 'done.summary',
  usage: 'done.usage',
  examples: ['/办结 4', '/办结 14 已报送县应急局，文号安交〔2026〕8号'],
  params: ['id', '...evidence'],
  args: z.object({ id: obligationId, evidence: z.string().trim().max(500).optional() }),
  roles: ['liaison', 'leader', 'insurer'],
  writes: true,
  async run(ctx, { id, evidence }) {
    const o = await ownOpenObligation(ctx, id);
    assertMayCloseByHand(o, evidence);
    // A pending extension request has nothing left to decide once the obligation is done.
    await transition(
      ctx,
      o,
      { toStatus: 'done', note: evidence || null },
      { status: 'done', doneAt: ctx.clock.now(), requestedDueOn: null, requestReason: null },
    );
    const days = daysLate(o.dueOn, ctx.today);
    return { text: ctx.t(days ? 'done.done_late' : 'done.done', { id, title: o.title, due: o.dueOn, days }) };
  },
});
