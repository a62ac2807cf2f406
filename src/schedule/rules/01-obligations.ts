import { dayIn } from '../../clock.ts';
import { inBatches } from '../../db/batches.ts';
import {
  daysBetween,
  obligationLines,
  openObligations,
  urgency,
  type OpenObligation,
} from '../../domain/obligations.ts';
import type { Audience } from '../../core/notice.ts';
import type { ReminderSettings } from '../../domain/reminder-settings.ts';
import { messagesFor, crossedThreshold, defineRule, type Reminder, type RuleEnv } from '../rule.ts';

/** An item's two lines; a countdown also says how many working days are left (a blue line shows only the date). */
function countdownLines({ t, day, calendar }: RuleEnv, o: OpenObligation, countdown: boolean): string[] {
  const [title, due] = obligationLines({ t, today: day, calendar }, o);
  const left = t('tasks.soon', { due: o.dueOn, days: calendar.workingDaysBetween(day, o.dueOn) });
  const blue = urgency(calendar, day, o.dueOn) === 'open';
  return [title!, countdown && blue ? due!.replace(t('tasks.due', { due: o.dueOn }), left) : due!];
}

/** One rung of the ladder: who hears an item on it, and how long overdue it must be (none: the unit's own rung). */
interface RungSpec {
  rung: string;
  to(unitId: number): Audience;
  overdueAfter?(settings: ReminderSettings): number;
}

/**
 * Who hears of an open item, rung by rung, lowest first — the one list of rungs. The unit (in its
 * groups, mentioning its liaisons, else the liaisons themselves) once the item is due soon or
 * overdue; then, each once the item is overdue more than its working days (campaign file
 * `reminders`) or the unit let `escalateAfterReminders` reminders pass without a reaction: the
 * unit's 责任人, its 分管领导 (each through the app), and the county's leaders. A rung with nobody on
 * it is reported with the run, and the rungs above still climb.
 */
export const RUNGS = [
  { rung: 'unit', to: (unit: number) => ({ unit }) },
  {
    rung: 'responsible',
    to: (unit: number) => ({ unit, people: 'responsible' as const }),
    overdueAfter: (s: ReminderSettings) => s.escalateToResponsibleAfterWorkingDays,
  },
  {
    rung: 'in_charge',
    to: (unit: number) => ({ unit, people: 'in_charge' as const }),
    overdueAfter: (s: ReminderSettings) => s.escalateToInChargeAfterWorkingDays,
  },
  { rung: 'leaders', to: () => 'leaders' as const, overdueAfter: (s: ReminderSettings) => s.escalateAfterWorkingDays },
] as const satisfies readonly RungSpec[];
export type Rung = (typeof RUNGS)[number]['rung'];

/** The ledger rule under which an item's steps on a rung are recorded (slot: the step, 0, 1, 2 …). */
const stepRule = (rung: Rung) => `ladder-${rung}`;

/** The last step an item was told on a rung, the day it was, and when each step was told. */
interface Climbed {
  step: number;
  day: string;
  told: Date[];
}

/** What the ledger holds of the items' steps, per rung and item. */
async function climbed(env: RuleEnv, targets: string[]): Promise<Map<string, Climbed>> {
  const out = new Map<string, Climbed>();
  const rows = await inBatches(targets, (batch) =>
    env.db.reminderLedger.findMany({
      where: { rule: { in: RUNGS.map((r) => stepRule(r.rung)) }, target: { in: batch } },
      select: { rule: true, target: true, slot: true, createdAt: true },
    }),
  );
  for (const r of rows) {
    const key = `${r.rule} ${r.target}`;
    const c = out.get(key) ?? { step: -1, day: '', told: [] };
    c.told.push(r.createdAt);
    if (Number(r.slot) > c.step) Object.assign(c, { step: Number(r.slot), day: dayIn(r.createdAt, env.timeZone) });
    out.set(key, c);
  }
  return out;
}

/**
 * The step due today for an item on a rung, or null: the first notice at once, the next after
 * `againAfterWorkingDays`, then every `thenEveryWorkingDays`, counted from the day the last step
 * was told — so a run that comes late, or twice, never tells an audience the same item again
 * within the window.
 */
export function dueStep(
  { calendar, day, settings }: Pick<RuleEnv, 'calendar' | 'day' | 'settings'>,
  last: Climbed | undefined,
): number | null {
  if (!last || last.step < 0) return 0;
  const wait = last.step === 0 ? settings.ladder.againAfterWorkingDays : settings.ladder.thenEveryWorkingDays;
  return calendar.workingDaysBetween(last.day, day) >= wait ? last.step + 1 : null;
}

/**
 * 1 and 3: each unit's overdue, due-soon and countdown items, to its group, mentioning its liaisons;
 * escalations to the leaders. Each (rung, item) climbs the ladder of dueStep: one message per
 * audience and item within a window.
 */
export async function obligationReminders(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, calendar, settings, t } = env;
  const open = await openObligations(db, campaign.id);
  const byUnit = new Map<number, typeof open>();
  // The escalations, per audience above the unit: its rung, whom, and each item's step and line.
  const escalate = new Map<
    string,
    { rung: Rung; to: Audience; items: { target: string; step: number; line: string }[] }
  >();
  const countdowns: Reminder[] = [];
  const steps: Reminder[] = [];
  const urgent = open.filter((o) => urgency(calendar, day, o.dueOn) !== 'open');
  const ladder = await climbed(
    env,
    urgent.map((o) => `obligation:${o.id}`),
  );
  const last = (rung: Rung, target: string) => ladder.get(`${stepRule(rung)} ${target}`);
  // The red items' last reactions (any event), read at once rather than per item.
  const red = urgent.filter((o) => o.dueOn < day);
  const lastEvent = new Map(
    (
      await inBatches(
        red.map((o) => o.id),
        (ids) =>
          db.obligationEvent.groupBy({
            by: ['obligationId'],
            where: { obligationId: { in: ids } },
            _max: { at: true },
          }),
      )
    ).map((g) => [g.obligationId, g._max.at ?? new Date(0)]),
  );
  for (const o of open) {
    const target = `obligation:${o.id}`;
    const u = urgency(calendar, day, o.dueOn);
    // A snooze silences the unit's routine reminders until the day it ends (a countdown crossed
    // meanwhile is told then); red items still escalate below.
    const snoozed = o.snoozedUntil !== null && day < o.snoozedUntil;
    const threshold =
      u !== 'overdue' && !snoozed
        ? await crossedThreshold(
            db,
            'countdown',
            target,
            calendar.workingDaysBetween(day, o.dueOn),
            settings.countdownWorkingDays,
          )
        : null;
    if (threshold !== null)
      countdowns.push({ rule: 'countdown', target, slot: String(threshold), messages: [], summary: '' });
    const unitStep = u !== 'open' && !snoozed ? dueStep(env, last('unit', target)) : null;
    if (unitStep !== null)
      steps.push({ rule: stepRule('unit'), target, slot: String(unitStep), messages: [], summary: '' });
    if (unitStep !== null || threshold !== null) {
      const items = byUnit.get(o.unitId);
      if (items) items.push(o);
      else byUnit.set(o.unitId, [o]);
    }
    if (u !== 'overdue') continue;
    // Red items climb the rungs above the unit when long overdue, or when the unit let K reminders
    // pass without a reaction (any event since).
    const since = lastEvent.get(o.id) ?? new Date(0);
    const ignored = (last('unit', target)?.told ?? []).filter((at) => at > since).length;
    const overdueDays = calendar.workingDaysBetween(o.dueOn, day);
    for (const r of RUNGS) {
      if (!('overdueAfter' in r)) continue;
      const step = dueStep(env, last(r.rung, target));
      if (step === null || (overdueDays <= r.overdueAfter(settings) && ignored < settings.escalateAfterReminders))
        continue;
      const to = r.to(o.unitId);
      const key = `${r.rung} ${JSON.stringify(to)}`;
      const group = escalate.get(key) ?? { rung: r.rung, to, items: [] };
      group.items.push({
        target,
        step,
        line:
          t('remind.escalated_item', { unit: o.unit.name, id: o.id, title: o.title, days: daysBetween(o.dueOn, day) }) +
          (ignored ? t('remind.ignored', { times: ignored }) : ''),
      });
      escalate.set(key, group);
    }
  }
  const out: Reminder[] = [...countdowns];
  // Looked up by item: a unit of a large county has tens of thousands of them.
  const counted = new Set(countdowns.map((c) => c.target));
  const stepOf = new Map(steps.map((r) => [r.target, r]));
  for (const [unitId, items] of byUnit) {
    const text = [
      t('remind.tasks_title', { unit: items[0]!.unit.name }),
      ...items.flatMap((o) => countdownLines(env, o, counted.has(`obligation:${o.id}`))),
      t('remind.tasks_hint'),
    ]
      .filter(Boolean)
      .join('\n');
    const messages = await messagesFor(env, { unit: unitId }, { markdown: text, mention: true });
    if (!messages.length) continue;
    out.push({
      rule: 'tasks',
      target: `unit:${unitId}`,
      slot: day,
      messages,
      summary: `${items[0]!.unit.name}: ${items.length}`,
    });
    // The step each item took on the unit's rung, so the next waits its turn and "reminded K times" can be counted.
    for (const o of items) {
      const step = stepOf.get(`obligation:${o.id}`);
      if (step) out.push(step);
    }
  }
  for (const { rung, to, items } of escalate.values()) {
    const unit = typeof to === 'object' && 'unit' in to ? to.unit : null;
    const title =
      unit === null
        ? t('remind.escalated_title', { count: items.length })
        : t(`remind.escalated_${rung}_title`, {
            count: items.length,
            unit: open.find((o) => o.unitId === unit)!.unit.name,
          });
    const messages = await messagesFor(env, to, { markdown: [title, ...items.map((e) => e.line)].join('\n') });
    if (!messages.length) continue;
    out.push(
      {
        rule: unit === null ? 'escalation' : `escalation-${rung}`,
        target: unit === null ? 'leaders' : `unit:${unit}`,
        slot: day,
        messages,
        summary: `${items.length} escalated to ${rung}`,
      },
      ...items.map((e) => ({
        rule: stepRule(rung),
        target: e.target,
        slot: String(e.step),
        messages: [],
        summary: '',
      })),
    );
  }
  return out;
}

export default defineRule({ name: 'obligationReminders', remind: obligationReminders });
