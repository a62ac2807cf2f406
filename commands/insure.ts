import { z } from 'zod';
import { defineCommand, type ParseEnv } from '../src/bot/spec.ts';
import { parseCount } from '../src/core/words.ts';
import { dayArg, readDay } from '../src/core/args.ts';
import {
  assertMayRecordPolicy,
  insuredUntil,
  parseYuanToFen,
  recordPolicy,
  resolveEnterprise,
  resolveInsurer,
  yuan,
} from '../src/domain/policies.ts';

/** /投保: records a 安责险 policy in the ledger. */
export default defineCommand({
  name: 'insure',
  aliases: ['投保'],
  summary: 'insure.summary',
  usage: 'insure.usage',
  examples: ['/投保 大福新宇化工 平安 PA2026001 2026-12-01 2027-11-30 45 6750'],
  params: ['enterprise', 'insurer', 'policy_no', 'start', 'end', 'headcount', 'premium'],
  args: ({ today }: ParseEnv) =>
    z
      .object({
        enterprise: z.string(),
        insurer: z.string(),
        policy_no: z.string().regex(/^[A-Za-z0-9_./-]{1,40}$/, 'insure.bad_policy_no'),
        start: dayArg(today, 'nearest', 'insure.bad_day'),
        end: z.string(),
        headcount: z
          .string()
          .optional()
          .transform((v, ctx) => {
            if (v === undefined) return undefined;
            const n = parseCount(v);
            return n && n > 0 ? n : (ctx.addIssue({ code: 'custom', message: 'insure.bad_headcount' }), z.NEVER);
          }),
        premium: z
          .string()
          .optional()
          .transform((v, ctx) =>
            v === undefined
              ? undefined
              : (parseYuanToFen(v) ?? (ctx.addIssue({ code: 'custom', message: 'insure.bad_premium' }), z.NEVER)),
          ),
      })
      // The end without a year is the first such day after the start.
      .transform((a, ctx) => ({
        ...a,
        end: readDay(a.end, today, { after: a.start }, 'insure.bad_day', ctx, ['end']),
      })),
  roles: ['insurer', 'liaison'],
  figures: true,
  writes: true,
  async run(ctx, a) {
    const { db, campaign, t, today } = ctx;
    const enterprise = await resolveEnterprise(db, campaign.countyCode, a.enterprise);
    const insurer = await resolveInsurer(db, campaign.countyCode, a.insurer, 'insure.no_insurer');
    await assertMayRecordPolicy(db, ctx.member!, enterprise, insurer);
    const full = await db.enterprise.findUniqueOrThrow({
      where: { id: enterprise.id },
      include: { sector: true, township: true },
    });
    const headcount = a.headcount ?? enterprise.employees;
    const { policy, renews, rule, warnings, rectified } = await recordPolicy(db, {
      enterprise,
      insurer,
      policyNo: a.policy_no,
      startOn: a.start,
      endOn: a.end,
      headcount,
      premiumFen: a.premium ?? null,
      isDemo: enterprise.isDemo,
      today,
      rectifier: { by: ctx.userId, at: ctx.clock.now(), t: ctx.groupT },
    });
    ctx.undoable({ model: 'policy', action: 'withdraw', where: { id: policy.id } });
    // Taking the policy back reopens the rectification items it closed.
    for (const r of rectified) {
      ctx.undoable({ model: 'obligation', action: 'update', where: { id: r.id }, data: r.before });
      ctx.undoable({ model: 'obligationEvent', action: 'withdraw', where: { id: r.eventId } });
    }

    const lines = [
      t('insure.recorded', { policyNo: policy.policyNo }),
      t('insure.enterprise', { enterprise: full.name, sector: full.sector.name, township: full.township.name }),
      t('insure.terms', { insurer: insurer.name, start: policy.startOn, end: policy.endOn, headcount }) +
        (policy.premiumFen === null ? '' : t('insure.premium', { premium: yuan(policy.premiumFen / 100) })),
      rule
        ? t('insure.liability', { amount: yuan(rule.value), source: rule.source, since: rule.effectiveOn })
        : t('insure.no_rule'),
    ];
    if (renews) lines.push(t('insure.renews', { policyNo: renews.policyNo, end: renews.endOn }));
    for (const r of rectified) lines.push(t('rectify.closed', { id: r.id, title: r.title }));
    // Warnings only: the ledger's headcount may be out of date, and the policy is recorded as issued.
    lines.push(...warnings.map((w) => t(w.key, w.params)));
    if (headcount < enterprise.employees) lines.push(t('insure.headcount_below', { employees: enterprise.employees }));
    if (enterprise.status !== 'operating') lines.push(t('insure.not_operating'));
    // The enterprise's cover now: in force today, starting later, or already over.
    const until = await insuredUntil(db, enterprise.id, today);
    if (until) lines.push(t('insure.covered', { until }));
    else if (policy.startOn > today)
      lines.push(
        t('insure.starts', { start: policy.startOn, until: (await insuredUntil(db, enterprise.id, policy.startOn))! }),
      );
    else lines.push(t('insure.not_covered'));
    return { text: lines.join('\n') };
  },
});
