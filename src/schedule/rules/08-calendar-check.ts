import { messagesFor, defineRule, type Reminder, type RuleEnv } from '../rule.ts';

/** From December, the admins hear once when next year's holiday arrangement is missing. */
export async function calendarCheck(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, calendar, t } = env;
  const next = Number(day.slice(0, 4)) + 1;
  if (day.slice(5, 7) !== '12' || calendar.knowsYear(next)) return [];
  const messages = await messagesFor(env, 'admins', { markdown: t('remind.calendar_missing', { year: next }) });
  return messages.length
    ? [{ rule: 'calendar-missing', target: 'admins', slot: String(next), messages, summary: `calendar ${next}` }]
    : [];
}

export default defineRule({ name: 'calendarCheck', remind: calendarCheck });
