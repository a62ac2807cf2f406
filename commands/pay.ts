import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { dayArg, recordId } from '../src/core/args.ts';
import { toldLines } from '../src/core/format.ts';
import { merged } from '../src/core/notice.ts';
import { leadUnits } from '../src/domain/directory.ts';
import {
  assertClaimInsurer,
  claimLabel,
  fenYuan,
  findClaim,
  moneyArg,
  paymentLimit,
  payBy,
  recordPayment,
} from '../src/domain/claims.ts';

/** /赔付: the insurer records a claim's payment; one paid past the limit is told to the sector's lead unit. */
export default defineCommand({
  name: 'pay',
  aliases: ['赔付'],
  summary: 'pay.summary',
  usage: 'pay.usage',
  examples: ['/赔付 1 8万 今天', '/赔付 2 12000 11月28日'],
  params: ['claim', 'amount', 'date'],
  args: ({ today }) =>
    z.object({
      claim: recordId('claim.bad_id'),
      amount: moneyArg('pay.bad_amount'),
      date: dayArg(today, 'backward', 'pay.bad_date'),
    }),
  roles: ['insurer'],
  writes: true,
  async run(ctx, a) {
    const { db, t, member, campaign, today, clock } = ctx;
    const claim = await findClaim(db, campaign.countyCode, a.claim);
    assertClaimInsurer(member!, claim);
    const { claim: paid, days } = await recordPayment(db, claim, {
      paidFen: a.amount,
      paidOn: a.date,
      by: ctx.userId,
      at: clock.now(),
      today,
    });
    ctx.undoable({
      model: 'claim',
      action: 'update',
      where: { id: claim.id },
      data: { paidFen: null, paidOn: null, paidBy: null, paidAt: null },
    });
    const label = claimLabel(t, claim);
    const limit = await paymentLimit(db, claim.reportedOn);
    const due = limit ? payBy(claim.reportedOn, limit) : null;
    const late = due !== null && paid.paidOn! > due;
    const lines = [
      t('pay.recorded', { claim: label, amount: fenYuan(paid.paidFen!), date: paid.paidOn!, days }),
      due === null ? t('claim.no_limit') : t(late ? 'pay.late' : 'pay.on_time', { due, days: limit!.value }),
    ];
    if (paid.paidFen! > claim.claimedFen) lines.push(t('pay.above_claimed', { claimed: fenYuan(claim.claimedFen) }));
    if (paid.paidFen! < claim.claimedFen)
      lines.push(
        t('pay.below_claimed', {
          claimed: fenYuan(claim.claimedFen),
          share: Math.round((paid.paidFen! * 100) / claim.claimedFen),
        }),
      );
    // A claim paid late was an overdue reminder to its lead units: they hear it is settled.
    if (late) {
      const told = [];
      for (const unit of await leadUnits(db, claim.enterprise.sectorId))
        told.push(
          await ctx.tell(
            { unit: unit.id },
            {
              markdown: ctx.groupT('pay.notice_late', {
                claim: claimLabel(ctx.groupT, claim),
                insurer: claim.insurer.name,
                amount: fenYuan(paid.paidFen!),
                date: paid.paidOn!,
                due: due!,
              }),
            },
          ),
        );
      lines.push(...toldLines(t, merged(told)));
    }
    return { text: lines.join('\n') };
  },
});
