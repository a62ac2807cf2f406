import { addDays } from '../../clock.ts';
import { daysBetween } from '../../domain/obligations.ts';
import { inBatches } from '../../db/batches.ts';
import { messagesFor, toldOf, defineRule, type Reminder, type RuleEnv } from '../rule.ts';

/**
 * 4: policies within 30 and within 7 days of their end, to the insurer and the township: each
 * policy once per threshold (a threshold crossed on a holiday is told on the next working day).
 */
export async function policyExpiries(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, settings, t } = env;
  // A county has thousands of these on a morning: flat queries (Prisma's nested reads of thousands
  // of rows are slow), only the fields used, and the ledger asked in bulk.
  const policies = await db.policy.findMany({
    where: {
      status: 'valid',
      endOn: { gte: day, lte: addDays(day, Math.max(...settings.policyExpiryDays)) },
      enterprise: { countyCode: campaign.countyCode, status: 'operating' },
    },
    select: { id: true, policyNo: true, startOn: true, endOn: true, insurerId: true, enterpriseId: true },
    orderBy: { endOn: 'asc' },
  });
  const enterpriseIds = [...new Set(policies.map((p) => p.enterpriseId))];
  const [enterprises, later, insurers, told] = await Promise.all([
    inBatches(enterpriseIds, (ids) =>
      db.enterprise.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, townshipId: true } }),
    ),
    inBatches(enterpriseIds, (ids) =>
      db.policy.findMany({
        where: { status: 'valid', enterpriseId: { in: ids }, endOn: { gte: day } },
        select: { enterpriseId: true, startOn: true },
      }),
    ),
    db.unit.findMany({
      where: { id: { in: [...new Set(policies.map((p) => p.insurerId))] } },
      select: { id: true, name: true },
    }),
    toldOf(
      db,
      'policy-expiry-item',
      policies.map((p) => `policy:${p.id}`),
    ),
  ]);
  const enterprise = new Map(enterprises.map((e) => [e.id, e]));
  const insurer = new Map(insurers.map((u) => [u.id, u.name]));
  const latestStart = new Map<number, string>();
  for (const q of later)
    if ((latestStart.get(q.enterpriseId) ?? '') < q.startOn) latestStart.set(q.enterpriseId, q.startOn);
  const out: Reminder[] = [];
  const byUnit = new Map<number, string[]>();
  for (const p of policies) {
    // Renewed already: a later policy starts after this one.
    if ((latestStart.get(p.enterpriseId) ?? '') > p.startOn) continue;
    const e = enterprise.get(p.enterpriseId)!;
    const threshold = settings.policyExpiryDays.filter((x) => daysBetween(day, p.endOn) <= x).sort((a, b) => a - b)[0];
    if (threshold === undefined || told.has(`policy:${p.id} ${threshold}`)) continue;
    out.push({
      rule: 'policy-expiry-item',
      target: `policy:${p.id}`,
      slot: String(threshold),
      messages: [],
      summary: '',
    });
    const line = t('remind.policy_line', {
      enterprise: e.name,
      policy: p.policyNo,
      insurer: insurer.get(p.insurerId) ?? '',
      end: p.endOn,
      days: daysBetween(day, p.endOn),
    });
    for (const unitId of [p.insurerId, e.townshipId]) {
      const lines = byUnit.get(unitId);
      if (lines) lines.push(line);
      else byUnit.set(unitId, [line]);
    }
  }
  for (const [unitId, lines] of byUnit) {
    const markdown = [t('remind.policy_title', { count: lines.length }), ...lines, t('remind.policy_hint')].join('\n');
    const messages = await messagesFor(env, { unit: unitId }, { markdown, mention: true });
    if (messages.length)
      out.push({
        rule: 'policy-expiry',
        target: `unit:${unitId}`,
        slot: day,
        messages,
        summary: `${lines.length} policies`,
      });
  }
  return out;
}

export default defineRule({ name: 'policyExpiries', remind: policyExpiries });
