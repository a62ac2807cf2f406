import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../clock.ts';
import { inBatches } from '../db/batches.ts';
import type { Tx } from '../db/client.ts';
import type { Audience, Missed, Notice } from '../core/notice.ts';
import { route } from '../delivery/audience.ts';
import type { Outbound } from '../core/outbound.ts';
import type { WorkCalendar } from '../domain/calendar.ts';
import type { GroupReach } from '../delivery/groups.ts';
import type { Translate } from '../i18n.ts';
import type { ReminderSettings } from '../domain/reminder-settings.ts';

// What is due to be said on a day, rule by rule (src/schedule/rules/, one file each). Each
// reminder has a (rule, target, slot) key: the ledger's unique key on it makes sure it is queued at
// most once, whatever restarts happen.

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
export async function messagesFor(env: RuleEnv, to: Audience, notice: Notice): Promise<Outbound[]> {
  const r = await route({ db: env.db, reach: env.reach, countyCode: env.campaign.countyCode }, to, notice);
  env.unheard.push(...r.told.missed);
  return r.messages;
}

/**
 * The smallest threshold (days left) an item has reached and not yet been told about, if any:
 * items cross thresholds once each, even when a run was missed or the day was a holiday.
 */
export async function crossedThreshold(
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

/** What the ledger holds of one rule for many targets, as `target slot` keys: one query per thousand targets, not one each. */
export async function toldOf(db: Tx, rule: string, targets: string[]): Promise<Set<string>> {
  const rows = await inBatches(targets, (batch) =>
    db.reminderLedger.findMany({ where: { rule, target: { in: batch } }, select: { target: true, slot: true } }),
  );
  return new Set(rows.map((r) => `${r.target} ${r.slot}`));
}

/** A reminder rule: its name (in the ledger's reports of whom it could not reach) and what it has to say on a day. */
export interface RuleSpec {
  name: string;
  remind(env: RuleEnv): Promise<Reminder[]>;
}

/** One rule per file of src/schedule/rules/, its default export, as commands are. */
export const defineRule = (spec: RuleSpec): RuleSpec => spec;

const RULES_DIR = fileURLToPath(new URL('./rules/', import.meta.url));

/** The rules, in the order of their files' names (the order they are run and their messages queued). */
export async function loadRules(dir = RULES_DIR): Promise<RuleSpec[]> {
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  return Promise.all(files.map(async (f) => (await import(`${dir}${f}`)).default as RuleSpec));
}
