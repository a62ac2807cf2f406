import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { dayArg } from '../src/core/args.ts';
import { claimLabel, fenYuan, moneyArg, paymentLimit, payBy, recordClaim } from '../src/domain/claims.ts';
import { resolveEnterprise } from '../src/domain/policies.ts';

/** /理赔: an insurer records a claim of an enterprise it insured on the accident day. */
export default defineCommand({
  name: 'claim',
  aliases: ['理赔'],
  summary: 'claim.summary',
  usage: 'claim.usage',
  examples: ['/理赔 东坪众诚化工 11月20日 11月21日 8.5万 一人手部受伤', '/理赔 东坪众诚化工 昨天 今天 12000'],
  params: ['enterprise', 'accident', 'reported', 'amount', '...note'],
  args: ({ today }) =>
    z.object({
      enterprise: z.string(),
      accident: dayArg(today, 'backward', 'claim.bad_date'),
      reported: dayArg(today, 'backward', 'claim.bad_date'),
      amount: moneyArg('claim.bad_amount'),
      note: z.string().max(500, 'claim.note_too_long').optional(),
    }),
  roles: ['insurer'],
  writes: true,
  async run(ctx, a) {
    const { db, t, member, campaign, today, clock } = ctx;
    const insurer = member!.unit;
    if (insurer?.kind !== 'insurer') throw new UserError('claim.not_insurer', { unit: insurer?.name ?? '—' });
    const enterprise = await resolveEnterprise(db, campaign.countyCode, a.enterprise);
    const claim = await recordClaim(db, {
      countyCode: campaign.countyCode,
      enterpriseId: enterprise.id,
      enterpriseName: enterprise.name,
      insurer,
      accidentOn: a.accident,
      reportedOn: a.reported,
      claimedFen: a.amount,
      note: a.note ?? null,
      isDemo: enterprise.isDemo,
      by: ctx.userId,
      at: clock.now(),
      today,
    });
    ctx.undoable({ model: 'claim', action: 'withdraw', where: { id: claim.id } });
    const limit = await paymentLimit(db, claim.reportedOn);
    const lines = [
      t('claim.recorded', { claim: claimLabel(t, { ...claim, enterprise }) }),
      t('claim.terms', { reported: claim.reportedOn, amount: fenYuan(claim.claimedFen), insurer: insurer.name }),
      limit
        ? t('claim.pay_by', {
            day: payBy(claim.reportedOn, limit),
            days: limit.value,
            source: limit.source,
            since: limit.effectiveOn,
          })
        : t('claim.no_limit'),
      t('claim.how_pay', { id: claim.id }),
    ];
    if (claim.note) lines.splice(2, 0, t('claim.note', { note: claim.note }));
    return { text: lines.join('\n') };
  },
});
