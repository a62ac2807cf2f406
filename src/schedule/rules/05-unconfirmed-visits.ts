import { byIdPages } from '../../db/batches.ts';
import { messagesFor, defineRule, type Reminder, type RuleEnv } from '../rule.ts';

/** 6: visits the enterprise side has not confirmed three working days on, to its township (or its own contact). */
export async function unconfirmedVisits(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, calendar, settings, t } = env;
  // A page at a time: the include's second queries bind each page's keys, not every visit's.
  const visits = await byIdPages((after, take) =>
    db.preventionVisit.findMany({
      where: {
        id: { gt: after },
        enterpriseConfirmedAt: null,
        insurerConfirmedAt: { not: null },
        visitedOn: { not: null },
        withdrawnAt: null,
        enterprise: { countyCode: campaign.countyCode },
      },
      include: { enterprise: { include: { members: { where: { active: true } } } }, insurer: true },
      orderBy: { id: 'asc' },
      take,
    }),
  );
  const out: Reminder[] = [];
  for (const v of visits) {
    if (calendar.workingDaysBetween(v.visitedOn!, day) < settings.visitConfirmWorkingDays) continue;
    const text = t('remind.visit', {
      id: v.id,
      enterprise: v.enterprise.name,
      insurer: v.insurer.name,
      date: v.visitedOn!,
    });
    const messages = v.enterprise.members.length
      ? (
          await Promise.all(v.enterprise.members.map((m) => messagesFor(env, { member: m.userId }, { markdown: text })))
        ).flat()
      : await messagesFor(env, { unit: v.enterprise.townshipId }, { markdown: text });
    if (messages.length)
      out.push({
        rule: 'visit-unconfirmed',
        target: `visit:${v.id}`,
        slot: 'once',
        messages,
        summary: `visit ${v.id}`,
      });
  }
  return out;
}

export default defineRule({ name: 'unconfirmedVisits', remind: unconfirmedVisits });
