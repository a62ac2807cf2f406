import { messagesFor, defineRule, type Reminder, type RuleEnv } from '../rule.ts';

/** 5: townships and lead departments that have not reported for a week (once per week of silence). */
export async function silentUnits(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, settings, t, clock } = env;
  const leads = await db.sectorResponsibility.findMany({
    where: { role: 'lead', sector: { campaignId: campaign.id } },
    select: { unitId: true },
  });
  const units = await db.unit.findMany({
    where: { countyCode: campaign.countyCode, OR: [{ kind: 'township' }, { id: { in: leads.map((l) => l.unitId) } }] },
  });
  const out: Reminder[] = [];
  for (const u of units) {
    const last = await db.progressReport.findFirst({
      where: { campaignId: campaign.id, unitId: u.id, withdrawnAt: null },
      orderBy: { reportedAt: 'desc' },
    });
    const since = last
      ? last.reportedAt
      : (await db.campaign.findUniqueOrThrow({ where: { id: campaign.id } })).createdAt;
    const days = Math.floor((clock.now().getTime() - since.getTime()) / 86_400_000);
    if (days < settings.silentDays) continue;
    const text = [
      last ? t('remind.silent', { unit: u.name, days }) : t('remind.silent_never', { unit: u.name }),
      t('remind.silent_hint'),
    ].join('\n');
    const messages = await messagesFor(env, { unit: u.id }, { markdown: text, mention: true });
    // The slot is the week of silence, so a silent unit hears it once a week, not every day.
    if (messages.length)
      out.push({
        rule: 'silent',
        target: `unit:${u.id}`,
        slot: `${last?.id ?? 0}:${Math.floor(days / settings.silentDays)}`,
        messages,
        summary: `${u.name} ${days}d`,
      });
  }
  return out;
}

export default defineRule({ name: 'silentUnits', remind: silentUnits });
