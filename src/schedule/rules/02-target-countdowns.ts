import { targetPercent } from '../../core/format.ts';
import { messagesFor, defineRule, type Reminder, type RuleEnv } from '../rule.ts';

/** 3: countdowns to the campaign's target dates, to the leaders. */
export async function targetCountdowns(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, calendar, settings, t } = env;
  const targets = await db.target.findMany({ where: { campaignId: campaign.id, dueOn: { gt: day } } });
  const out: Reminder[] = [];
  for (const x of targets) {
    const days = calendar.workingDaysBetween(day, x.dueOn);
    if (!settings.countdownWorkingDays.includes(days)) continue;
    const markdown = t('remind.target_countdown', { rate: targetPercent(x.rateBp), due: x.dueOn, days });
    const messages = await messagesFor(env, 'leaders', { markdown });
    if (messages.length)
      out.push({
        rule: 'target-countdown',
        target: `target:${x.id}`,
        slot: day,
        messages,
        summary: `target ${x.scope} ${x.dueOn}`,
      });
  }
  return out;
}

export default defineRule({ name: 'targetCountdowns', remind: targetCountdowns });
