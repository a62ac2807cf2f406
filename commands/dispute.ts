import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { recordId } from '../src/core/args.ts';
import { didYouMean, toldLines } from '../src/core/format.ts';
import { merged, type Told } from '../src/core/notice.ts';
import {
  assertMayDispute,
  claimLabel,
  DISPUTE_OUTCOMES,
  fenYuan,
  findClaim,
  openDispute,
} from '../src/domain/claims.ts';
import { findUnit, nearestKnown } from '../src/domain/directory.ts';

/** The units that may coordinate a dispute: not an insurer (a party) and not an agency. */
const COORDINATORS = ['department', 'township', 'commission_office'];

/** /争议: a party to a claim opens a dispute, naming the unit that coordinates it (争议协调). */
export default defineCommand({
  name: 'dispute',
  aliases: ['争议'],
  summary: 'dispute.summary',
  usage: 'dispute.usage',
  examples: ['/争议 1 应急局 企业认为伤残等级认定偏低，赔付不足'],
  params: ['claim', 'unit', '...reason'],
  args: z.object({
    claim: recordId('claim.bad_id'),
    unit: z.string(),
    reason: z.string().max(500, 'dispute.reason_too_long'),
  }),
  roles: ['insurer', 'liaison', 'leader', 'enterprise'],
  writes: true,
  async run(ctx, a) {
    const { db, t, member, campaign, clock } = ctx;
    const claim = await findClaim(db, campaign.countyCode, a.claim);
    await assertMayDispute(db, member!, claim);
    const open = await openDispute(db, claim.id);
    if (open) throw new UserError('dispute.already_open', { id: claim.id, unit: open.coordinator.name });
    const coordinator = await findUnit(db, campaign.countyCode, a.unit, COORDINATORS);
    if (!coordinator)
      throw new UserError('dispute.no_unit', {
        word: a.unit,
        hint: didYouMean(t, await nearestKnown(db, campaign, a.unit, { units: COORDINATORS })),
      });
    const dispute = await db.claimDispute.create({
      data: {
        claimId: claim.id,
        coordinatorId: coordinator.id,
        reason: a.reason,
        openedBy: ctx.userId,
        openedAt: clock.now(),
      },
    });
    ctx.undoable({ model: 'claimDispute', action: 'withdraw', where: { id: dispute.id } });
    const notice = (tr: typeof t) =>
      [
        tr('dispute.notice', {
          claim: claimLabel(tr, claim),
          insurer: claim.insurer.name,
          claimed: fenYuan(claim.claimedFen),
          paid: claim.paidFen === null ? tr('dispute.unpaid') : tr('dispute.paid', { amount: fenYuan(claim.paidFen) }),
          by: member!.name,
          unit: coordinator.name,
        }),
        tr('dispute.reason', { reason: a.reason }),
        tr('dispute.notice_how', { id: claim.id }),
      ].join('\n');
    // The coordinating unit decides: one press records the outcome (the note can follow with /协调).
    const buttons = DISPUTE_OUTCOMES.codes.map((o) => ({
      label: ctx.groupT(`dispute.outcome.${o}`),
      command: `/协调 ${claim.id} ${DISPUTE_OUTCOMES.word(o)}`,
      decides: `dispute ${claim.id}`,
      ...(o === 'agreed' ? { style: 'primary' as const } : {}),
    }));
    const told: Told[] = [await ctx.tell({ unit: coordinator.id }, { markdown: notice(ctx.groupT), buttons })];
    if (member!.unit?.id !== claim.insurerId)
      told.push(await ctx.tell({ unit: claim.insurerId }, { markdown: notice(ctx.groupT) }));
    return {
      text: [
        t('dispute.opened', { claim: claimLabel(t, claim), unit: coordinator.name }),
        t('dispute.reason', { reason: a.reason }),
        ...toldLines(t, merged(told)),
      ].join('\n'),
    };
  },
});
