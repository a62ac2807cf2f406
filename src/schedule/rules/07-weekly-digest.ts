import { addDays } from '../../clock.ts';
import { percent } from '../../core/format.ts';
import { findCjkFont } from '../../domain/raster.ts';
import { coverageBySector } from '../../domain/coverage.ts';
import { messagesFor, defineRule, type Reminder, type RuleEnv } from '../rule.ts';

/** 2: the weekly coverage digest, on the first working day of the week, to the leaders, with its chart. */
export async function weeklyDigest(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, calendar, t, clock } = env;
  const monday = addDays(day, 1 - (new Date(`${day}T00:00:00Z`).getUTCDay() || 7));
  for (let d = monday; d < day; d = addDays(d, 1)) if (calendar.isWorkingDay(d)) return [];
  const rows = await coverageBySector(db, campaign.id, day, clock.now());
  // Only the number is said: counted, not read (a large county has tens of thousands open).
  const overdue = await db.obligation.count({
    where: { campaignId: campaign.id, status: { not: 'done' }, withdrawnAt: null, dueOn: { lt: day } },
  });
  const lines = [
    t('remind.digest_title', { county: campaign.countyName, day }),
    ...rows.map((r) =>
      t('remind.digest_line', {
        sector: r.sector.name,
        insured: r.insured,
        enterprises: r.enterprises,
        rate: percent(r.rate),
        gap: r.gap,
      }),
    ),
    t('remind.digest_overdue', { count: overdue }),
    t('remind.digest_hint'),
  ];
  // The chart, where a CJK font can draw it; drawn when sent (by robot inline, over the long connection uploaded).
  const messages = [
    ...(await messagesFor(env, 'leaders', { markdown: lines.join('\n') })),
    ...(findCjkFont(env.cjkFont) ? await messagesFor(env, 'leaders', { chart: { campaignId: campaign.id, day } }) : []),
  ];
  if (!messages.length) return [];
  return [{ rule: 'digest', target: 'leaders', slot: monday, messages, summary: 'weekly digest' }];
}

export default defineRule({ name: 'weeklyDigest', remind: weeklyDigest });
