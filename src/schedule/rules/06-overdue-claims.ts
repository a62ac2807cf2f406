import { claimLabel, fenYuan, paymentLimit, payByOf } from '../../domain/claims.ts';
import { daysBetween } from '../../domain/obligations.ts';
import { messagesFor, toldOf, defineRule, type Reminder, type RuleEnv } from '../rule.ts';

/**
 * Claims unpaid past the campaign's limit (rule `claim_payment_days`, days from the report): the
 * insurer is reminded and the lead units of the enterprise's sector told, once a week per claim
 * while it stays unpaid (a week missed is told on the next run).
 */
export async function overdueClaims(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, t } = env;
  const claims = await db.claim.findMany({
    where: { countyCode: campaign.countyCode, paidOn: null, withdrawnAt: null, reportedOn: { lt: day } },
    select: {
      id: true,
      accidentOn: true,
      reportedOn: true,
      claimedFen: true,
      insurerId: true,
      insurer: { select: { name: true } },
      enterprise: { select: { name: true, sectorId: true } },
    },
    orderBy: { reportedOn: 'asc' },
  });
  const [leads, told] = await Promise.all([
    db.sectorResponsibility.findMany({
      where: { role: 'lead', sector: { campaignId: campaign.id } },
      select: { sectorId: true, unitId: true },
    }),
    toldOf(
      db,
      'claim-overdue-item',
      claims.map((c) => `claim:${c.id}`),
    ),
  ]);
  const out: Reminder[] = [];
  const byUnit = new Map<number, string[]>();
  // Appended in place: a unit of a large county has tens of thousands of lines.
  const add = (unitId: number, line: string) => {
    const lines = byUnit.get(unitId);
    if (lines) lines.push(line);
    else byUnit.set(unitId, [line]);
  };
  const dueOf = payByOf(db);
  for (const c of claims) {
    const due = await dueOf(c.reportedOn);
    if (due === null || due >= day) continue;
    const late = daysBetween(due, day);
    const week = String(Math.floor((late - 1) / 7));
    if (told.has(`claim:${c.id} ${week}`)) continue;
    out.push({ rule: 'claim-overdue-item', target: `claim:${c.id}`, slot: week, messages: [], summary: '' });
    const line = t('remind.claim_line', {
      claim: claimLabel(t, c),
      insurer: c.insurer.name,
      amount: fenYuan(c.claimedFen),
      reported: c.reportedOn,
      due,
      days: late,
    });
    add(c.insurerId, line);
    for (const l of leads.filter((x) => x.sectorId === c.enterprise.sectorId)) add(l.unitId, line);
  }
  const rule = claims.length ? await paymentLimit(db, day) : null;
  for (const [unitId, lines] of byUnit) {
    const markdown = [
      t('remind.claim_title', { count: lines.length }),
      ...lines,
      rule ? t('remind.claim_source', { days: rule.value, source: rule.source }) : '',
      t('remind.claim_hint'),
    ]
      .filter(Boolean)
      .join('\n');
    const messages = await messagesFor(env, { unit: unitId }, { markdown, mention: true });
    if (messages.length)
      out.push({
        rule: 'claim-overdue',
        target: `unit:${unitId}`,
        slot: day,
        messages,
        summary: `${lines.length} claims`,
      });
  }
  return out;
}

export default defineRule({ name: 'overdueClaims', remind: overdueClaims });
