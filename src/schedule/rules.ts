import { addDays, dayIn, type Clock } from '../clock.ts';
import { percent, targetPercent } from '../core/format.ts';
import type { Tx } from '../db/client.ts';
import type { Audience, Missed, Notice } from '../core/notice.ts';
import { route } from '../delivery/audience.ts';
import type { Outbound } from '../core/outbound.ts';
import type { WorkCalendar } from '../domain/calendar.ts';
import { findCjkFont } from '../domain/raster.ts';
import type { GroupReach } from '../delivery/groups.ts';
import { coverageBySector } from '../domain/coverage.ts';
import { daysBetween, obligationLines, openObligations, urgency, type OpenObligation } from '../domain/obligations.ts';
import type { Translate } from '../i18n.ts';
import type { ReminderSettings } from '../domain/reminder-settings.ts';

// What is due to be said on a day, rule by rule. Each reminder has a (rule, target, slot) key:
// the ledger's unique key on it makes sure it is queued at most once, whatever restarts happen.

export interface Reminder {
  rule: string;
  target: string;
  slot: string;
  messages: Outbound[];
  summary: string;
}

export interface RuleEnv {
  db: Tx;
  campaign: { id: number; countyCode: string; countyName: string };
  day: string;
  calendar: WorkCalendar;
  settings: ReminderSettings;
  t: Translate;
  clock: Clock;
  reach: GroupReach;
  timeZone: string;
  /** The configured CJK font file (BOT_CJK_FONT), if any. */
  cjkFont?: string | undefined;
  /** Whom the rule's notices could not reach, and why: the run reports them rather than stay silent. */
  unheard: Missed[];
}

/** Routes a notice to an audience in the rule's county; nothing is written (the run writes the outbox). */
async function messagesFor(env: RuleEnv, to: Audience, notice: Notice): Promise<Outbound[]> {
  const r = await route({ db: env.db, reach: env.reach, countyCode: env.campaign.countyCode }, to, notice);
  env.unheard.push(...r.told.missed);
  return r.messages;
}

/**
 * The smallest threshold (days left) an item has reached and not yet been told about, if any:
 * items cross thresholds once each, even when a run was missed or the day was a holiday.
 */
async function crossedThreshold(
  db: Tx,
  rule: string,
  target: string,
  left: number,
  thresholds: number[],
): Promise<number | null> {
  const reached = thresholds.filter((x) => left <= x).sort((a, b) => a - b)[0];
  if (reached === undefined) return null;
  const told = await db.reminderLedger.findUnique({
    where: { rule_target_slot: { rule, target, slot: String(reached) } },
  });
  return told ? null : reached;
}

/** A query over many ids, a thousand at a time (bound parameters are limited). */
async function inChunks<T>(ids: number[], query: (chunk: number[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 1000) out.push(...(await query(ids.slice(i, i + 1000))));
  return out;
}

/** What the ledger holds of one rule for many targets, as `target slot` keys: one query per thousand targets, not one each. */
async function toldOf(db: Tx, rule: string, targets: string[]): Promise<Set<string>> {
  const told = new Set<string>();
  for (let i = 0; i < targets.length; i += 1000) {
    const rows = await db.reminderLedger.findMany({
      where: { rule, target: { in: targets.slice(i, i + 1000) } },
      select: { target: true, slot: true },
    });
    for (const r of rows) told.add(`${r.target} ${r.slot}`);
  }
  return told;
}

/** An item's two lines; a countdown also says how many working days are left (a blue line shows only the date). */
function countdownLines({ t, day, calendar }: RuleEnv, o: OpenObligation, countdown: boolean): string[] {
  const [title, due] = obligationLines({ t, today: day, calendar }, o);
  const left = t('tasks.soon', { due: o.dueOn, days: calendar.workingDaysBetween(day, o.dueOn) });
  const blue = urgency(calendar, day, o.dueOn) === 'open';
  return [title!, countdown && blue ? due!.replace(t('tasks.due', { due: o.dueOn }), left) : due!];
}

/**
 * Who hears of an open item, rung by rung: its unit (in the unit's groups, mentioning its liaisons,
 * else the liaisons themselves), then the county leaders once it escalates. This is the one list
 * of rungs; a rung added later (the unit's responsible people) goes here, in order.
 */
export const RUNGS = ['unit', 'leaders'] as const;
export type Rung = (typeof RUNGS)[number];

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
  for (let i = 0; i < targets.length; i += 1000) {
    const rows = await env.db.reminderLedger.findMany({
      where: { rule: { in: RUNGS.map(stepRule) }, target: { in: targets.slice(i, i + 1000) } },
      select: { rule: true, target: true, slot: true, createdAt: true },
    });
    for (const r of rows) {
      const key = `${r.rule} ${r.target}`;
      const c = out.get(key) ?? { step: -1, day: '', told: [] };
      c.told.push(r.createdAt);
      if (Number(r.slot) > c.step) Object.assign(c, { step: Number(r.slot), day: dayIn(r.createdAt, env.timeZone) });
      out.set(key, c);
    }
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
  const escalate: { target: string; step: number; line: string }[] = [];
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
      await db.obligationEvent.groupBy({
        by: ['obligationId'],
        where: { obligationId: { in: red.map((o) => o.id) } },
        _max: { at: true },
      })
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
    if (unitStep !== null || threshold !== null) byUnit.set(o.unitId, [...(byUnit.get(o.unitId) ?? []), o]);
    if (u !== 'overdue') continue;
    // Red items escalate when long overdue or reminded K times without a reaction (any event since).
    const since = lastEvent.get(o.id) ?? new Date(0);
    const ignored = (last('unit', target)?.told ?? []).filter((at) => at > since).length;
    const leadersStep = dueStep(env, last('leaders', target));
    if (
      leadersStep !== null &&
      (calendar.workingDaysBetween(o.dueOn, day) > settings.escalateAfterWorkingDays ||
        ignored >= settings.escalateAfterReminders)
    )
      escalate.push({
        target,
        step: leadersStep,
        line:
          t('remind.escalated_item', { unit: o.unit.name, id: o.id, title: o.title, days: daysBetween(o.dueOn, day) }) +
          (ignored ? t('remind.ignored', { times: ignored }) : ''),
      });
  }
  const out: Reminder[] = [...countdowns];
  for (const [unitId, items] of byUnit) {
    const text = [
      t('remind.tasks_title', { unit: items[0]!.unit.name }),
      ...items.flatMap((o) =>
        countdownLines(
          env,
          o,
          countdowns.some((c) => c.target === `obligation:${o.id}`),
        ),
      ),
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
    out.push(...steps.filter((r) => items.some((o) => r.target === `obligation:${o.id}`)));
  }
  const escalation = escalate.length
    ? await messagesFor(env, 'leaders', {
        markdown: [t('remind.escalated_title', { count: escalate.length }), ...escalate.map((e) => e.line)].join('\n'),
      })
    : [];
  if (escalation.length)
    out.push(
      {
        rule: 'escalation',
        target: 'leaders',
        slot: day,
        messages: escalation,
        summary: `${escalate.length} escalated`,
      },
      ...escalate.map((e) => ({
        rule: stepRule('leaders'),
        target: e.target,
        slot: String(e.step),
        messages: [],
        summary: '',
      })),
    );
  return out;
}

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
    inChunks(enterpriseIds, (ids) =>
      db.enterprise.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, townshipId: true } }),
    ),
    inChunks(enterpriseIds, (ids) =>
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

/** 6: visits the enterprise side has not confirmed three working days on, to its township (or its own contact). */
export async function unconfirmedVisits(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, calendar, settings, t } = env;
  const visits = await db.preventionVisit.findMany({
    where: {
      enterpriseConfirmedAt: null,
      insurerConfirmedAt: { not: null },
      visitedOn: { not: null },
      withdrawnAt: null,
      enterprise: { countyCode: campaign.countyCode },
    },
    include: { enterprise: { include: { members: { where: { active: true } } } }, insurer: true },
  });
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

/** 2: the weekly coverage digest, on the first working day of the week, to the leaders; with the chart where a robot can post it. */
export async function weeklyDigest(env: RuleEnv): Promise<Reminder[]> {
  const { db, campaign, day, calendar, t, clock } = env;
  const monday = addDays(day, 1 - (new Date(`${day}T00:00:00Z`).getUTCDay() || 7));
  for (let d = monday; d < day; d = addDays(d, 1)) if (calendar.isWorkingDay(d)) return [];
  const rows = await coverageBySector(db, campaign.id, day, clock.now());
  const overdue = (await openObligations(db, campaign.id)).filter((o) => o.dueOn < day).length;
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
  // The chart, where a robot can post it (the long connection would need it uploaded first) and a
  // CJK font can draw it; drawn when sent.
  const messages = [
    ...(await messagesFor(env, 'leaders', { markdown: lines.join('\n') })),
    ...(findCjkFont(env.cjkFont) ? await messagesFor(env, 'leaders', { chart: { campaignId: campaign.id, day } }) : []),
  ];
  if (!messages.length) return [];
  return [{ rule: 'digest', target: 'leaders', slot: monday, messages, summary: 'weekly digest' }];
}

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

export const RULES = [
  obligationReminders,
  targetCountdowns,
  policyExpiries,
  silentUnits,
  unconfirmedVisits,
  weeklyDigest,
  calendarCheck,
];
