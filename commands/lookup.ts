import { z } from 'zod';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { neutral, trusted } from '../src/core/neutral.ts';
import { claimLine, payByOf } from '../src/domain/claims.ts';
import { enterpriseProfile, lookupEnterprise, lookupScope, type EnterpriseProfile } from '../src/domain/lookup.ts';
import { isArchived, serviceName } from '../src/domain/visits.ts';

/**
 * /查询: one enterprise — sector, township, scale, policies (全员覆盖 or not), lapses, visits, open
 * items, claims — within the asker's scope. Several matches give a numbered list with a button each.
 */
export default defineCommand({
  name: 'lookup',
  aliases: ['查询'],
  summary: 'lookup.summary',
  usage: 'lookup.usage',
  examples: ['/查询 东坪众诚化工', '/查询 化工'],
  params: ['...word'],
  args: z.object({ word: z.string().min(1, 'lookup.empty').max(100, 'lookup.too_long') }),
  roles: ['leader', 'viewer', 'liaison', 'insurer', 'agency', 'enterprise'],
  figures: true,
  writes: false,
  async run(ctx, { word }) {
    const { db, t, member, campaign, today } = ctx;
    const scope = await lookupScope(db, member!);
    const found = await lookupEnterprise(db, campaign.countyCode, word.trim(), scope);
    if ('none' in found) throw new UserError('lookup.none', { word });
    if ('outside' in found)
      throw new UserError(found.outside.count > 1 ? 'lookup.outside_many' : 'lookup.outside', {
        word,
        enterprise: found.outside.name,
        scope: trusted(scopeWords(ctx)),
      });
    if ('pick' in found)
      return {
        text: [
          t('lookup.pick', { word }),
          ...found.pick.map((e, i) => `${i + 1}. ${neutral(e.name)}（${e.creditCode}）`),
          ...(found.more ? [t('lookup.more')] : []),
          t('lookup.pick_how'),
        ].join('\n'),
        buttons: found.pick.map((e, i) => ({ label: `${i + 1}. ${e.name}`, command: `/查询 ${e.creditCode}` })),
      };
    return { text: (await profileLines(ctx, await enterpriseProfile(db, found.found.id, today))).join('\n') };
  },
});

/** What the asker may look up, in words, for a refusal. */
function scopeWords({ t, member }: CommandContext): string {
  const unit = member!.unit;
  if (member!.roles.includes('insurer') && unit) return t('lookup.scope_insurer', { unit: unit.name });
  if (member!.roles.includes('liaison') && unit?.kind === 'township')
    return t('lookup.scope_township', { unit: unit.name });
  if (member!.roles.includes('liaison') && unit) return t('lookup.scope_department', { unit: unit.name });
  return t('lookup.scope_enterprise');
}

async function profileLines(ctx: CommandContext, p: EnterpriseProfile): Promise<string[]> {
  const { t, today, db } = ctx;
  const e = p.enterprise;
  const lines = [
    t('lookup.title', { enterprise: e.name, code: e.creditCode }),
    t('lookup.facts', {
      sector: e.sector.name,
      township: e.township.name,
      scale: t(e.aboveScale ? 'lookup.above_scale' : 'lookup.below_scale'),
      employees: e.employees,
      status: t(`lookup.status_${e.status}`),
    }),
    p.inForce.length ? t('lookup.insured_today') : t('lookup.uninsured_today'),
    '',
    t('lookup.policies', { count: p.policyCount }),
  ];
  for (const pol of p.policies) {
    const now = pol.status !== 'valid' ? '⚪' : pol.startOn > today ? '🔵' : pol.endOn < today ? '⚫' : '🟢';
    const full = pol.insuredHeadcount >= e.employees;
    lines.push(
      `${now} ${t('lookup.policy', {
        insurer: pol.insurer.name,
        policyNo: pol.policyNo,
        start: pol.startOn,
        end: pol.endOn,
        headcount: pol.insuredHeadcount,
        employees: e.employees,
      })} ${t(full ? 'lookup.full' : 'lookup.not_full')}${pol.status === 'cancelled' ? t('lookup.cancelled') : ''}`,
    );
  }
  if (p.policyCount > p.policies.length) lines.push(t('lookup.older', { count: p.policyCount - p.policies.length }));
  lines.push(
    p.lapses.length
      ? t('lookup.lapses', {
          list: p.lapses
            .map((l) =>
              l.until
                ? t('lookup.lapse', { from: l.from, until: l.until, days: l.days })
                : t('lookup.lapse_open', { from: l.from, days: l.days }),
            )
            .join('；'),
        })
      : t(p.policyCount ? 'lookup.no_lapse' : 'lookup.never_insured'),
    '',
    t('lookup.visits', { count: p.visitCount }),
  );
  for (const v of p.visits)
    lines.push(
      `#${v.id} ${v.visitedOn ?? v.plannedOn ?? '—'} ${serviceName(t, v.serviceType)} · ${neutral(v.insurer.name)} ${t(isArchived(v) ? 'lookup.archived' : 'lookup.unconfirmed')}`,
    );
  const o = p.open;
  lines.push(
    '',
    o.unconfirmedVisits + o.unpaidClaims + o.openDisputes
      ? t('lookup.open', {
          visits: o.unconfirmedVisits,
          claims: o.unpaidClaims,
          overdue: o.overdueClaims,
          disputes: o.openDisputes,
        })
      : t('lookup.nothing_open'),
    '',
    t('lookup.claims', { count: p.claimCount }),
  );
  const dueOf = payByOf(db);
  for (const c of p.claims)
    lines.push(claimLine(t, { ...c, enterprise: e }, c.paidOn ? null : await dueOf(c.reportedOn), today));
  if (p.findings) lines.push('', t('lookup.findings', { count: p.findings }));
  lines.push('', t('lookup.as_of', { day: today }));
  return lines;
}
