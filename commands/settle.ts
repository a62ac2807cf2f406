import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { recordId } from '../src/core/args.ts';
import { toldLines } from '../src/core/format.ts';
import { merged, type Told } from '../src/core/notice.ts';
import { claimLabel, findClaim, openDispute, parseOutcome } from '../src/domain/claims.ts';

/** /协调: the coordinating unit (or a leader) ends a claim's dispute with its outcome. */
export default defineCommand({
  name: 'settle',
  aliases: ['协调'],
  summary: 'settle.summary',
  usage: 'settle.usage',
  examples: ['/协调 1 达成一致 按八级伤残补足赔款'],
  params: ['claim', 'outcome', '...note'],
  args: z.object({
    claim: recordId('claim.bad_id'),
    outcome: z
      .string()
      .refine((s) => parseOutcome(s) !== null, 'settle.bad_outcome')
      .transform((s) => parseOutcome(s)!),
    note: z.string().max(500, 'settle.note_too_long').optional(),
  }),
  roles: ['liaison', 'leader'],
  writes: true,
  async run(ctx, a) {
    const { db, t, member, campaign, clock } = ctx;
    const claim = await findClaim(db, campaign.countyCode, a.claim);
    const dispute = await openDispute(db, claim.id);
    if (!dispute) throw new UserError('settle.no_dispute', { id: claim.id });
    const coordinates = member!.roles.includes('liaison') && member!.unit?.id === dispute.coordinatorId;
    if (!coordinates && !member!.roles.some((r) => r === 'leader' || r === 'admin'))
      throw new UserError('settle.not_coordinator', { id: claim.id, unit: dispute.coordinator.name });
    await db.claimDispute.update({
      where: { id: dispute.id },
      data: { outcome: a.outcome, outcomeNote: a.note ?? null, closedBy: ctx.userId, closedAt: clock.now() },
    });
    ctx.undoable({
      model: 'claimDispute',
      action: 'update',
      where: { id: dispute.id },
      data: { outcome: null, outcomeNote: null, closedBy: null, closedAt: null },
    });
    const notice = (tr: typeof t) =>
      [
        tr('settle.notice', {
          claim: claimLabel(tr, claim),
          unit: dispute.coordinator.name,
          outcome: tr(`dispute.outcome.${a.outcome}`),
        }),
        ...(a.note ? [tr('settle.note', { note: a.note })] : []),
      ].join('\n');
    // The insurer and whoever opened the dispute hear how it ended (an insurer's staff once, as the insurer).
    const told: Told[] = [];
    const insurerTold = member!.unit?.id !== claim.insurerId;
    if (insurerTold) told.push(await ctx.tell({ unit: claim.insurerId }, { markdown: notice(ctx.groupT) }));
    const opener = await db.member.findUnique({ where: { userId: dispute.openedBy }, select: { unitId: true } });
    if (dispute.openedBy !== ctx.userId && !(insurerTold && opener?.unitId === claim.insurerId))
      told.push(await ctx.tell({ member: dispute.openedBy }, { markdown: notice(ctx.groupT) }));
    return {
      text: [
        t('settle.done', { claim: claimLabel(t, claim), outcome: t(`dispute.outcome.${a.outcome}`) }),
        ...(a.note ? [t('settle.note', { note: a.note })] : []),
        ...toldLines(t, merged(told)),
      ].join('\n'),
    };
  },
});
