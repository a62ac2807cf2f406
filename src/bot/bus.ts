import type { z } from 'zod';
import { dayIn, type Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { isLocale, translator, type Locale, type Translate } from '../i18n.ts';
import { parse, type Parsed } from './parse.ts';
import type { Registry } from './registry.ts';
import { mayRun, ROLES, UserError, type Campaign, type Channel, type CommandContext, type CommandSpec, type Member, type Role } from './spec.ts';

export interface Incoming { channel: Channel; userId: string; chatId: string | null; text: string }
export type Outcome = 'ok' | 'denied' | 'invalid' | 'unknown' | 'error';
export interface Outgoing { text: string; outcome: Outcome; command?: string }

export interface BusOptions { db: Db; clock: Clock; timeZone: string; locale: Locale; registry: Registry; log?: (msg: string) => void }

/**
 * The command bus: parse → spec → permission → validation → handler → audit → reply.
 * Every message gets exactly one reply; any failure becomes a localized reply and leaves the
 * database as it was, but for the audit event that records the attempt.
 */
export class Bus {
  constructor(private readonly o: BusOptions) {}

  /**
   * Handles one message. `finish` runs in the same transaction as the command's writes and its
   * audit event, so whoever records that the message was handled does so atomically with it.
   */
  async handle(msg: Incoming, finish?: (tx: Tx, out: Outgoing) => Promise<void>): Promise<Outgoing> {
    const { db, registry, clock } = this.o;
    const member = await loadMember(db, msg.userId, this.o.locale);
    const locale = member?.locale ?? this.o.locale;
    const t = translator(locale);
    const done = async (out: Outgoing, detail?: unknown, tx: Tx = db): Promise<Outgoing> => {
      const event = await tx.auditEvent.create({
        data: {
          at: clock.now(), actorUserId: msg.userId, chatId: msg.chatId, channel: msg.channel, command: out.command ?? null,
          action: 'command', outcome: out.outcome, detail: JSON.stringify(detail ?? { text: msg.text.slice(0, 500) }),
        },
      });
      if (out.outcome === 'error') out = { ...out, text: t('bus.failed', { ref: event.id }) };
      await finish?.(tx, out);
      return out;
    };

    const parsed = parse(msg.text);
    if (!parsed) return done({ text: t('bus.empty'), outcome: 'unknown' });
    const spec = registry.find(parsed.word);
    if (!spec) {
      const near = registry.suggest(parsed.word, member);
      const text = parsed.slash || near
        ? t('bus.unknown', { word: parsed.word }) + (near ? t('bus.did_you_mean', { command: `/${near}` }) : '') + t('bus.see_help')
        : t('bus.not_a_command');
      return done({ text, outcome: 'unknown' });
    }
    const command = spec.name;
    if (!mayRun(spec, member)) {
      const text = member ? t('bus.denied', { command: `/${spec.aliases[0] ?? spec.name}` }) : t('bus.not_registered', { userId: msg.userId });
      return done({ text, outcome: 'denied', command });
    }
    let args: Record<string, unknown>;
    try {
      args = bindArgs(spec, parsed, t);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      return done({ text: `${t(e.key, e.params)}\n${usageLine(spec, t)}`, outcome: 'invalid', command });
    }
    const campaign = await campaignFor(db, member);
    if (!campaign) return done({ text: t('bus.no_campaign'), outcome: 'error', command });

    const ctx = {
      clock, timeZone: this.o.timeZone, today: dayIn(clock.now(), this.o.timeZone),
      member, userId: msg.userId, chatId: msg.chatId, channel: msg.channel, campaign, locale, t,
      commands: registry.specs.filter((s) => mayRun(s, member)),
    };
    const run = async (tx: Tx) => {
      const reply = await spec.run({ ...ctx, db: tx } satisfies CommandContext, args);
      return done({ text: reply.text, outcome: 'ok', command }, { args }, tx);
    };
    try {
      return spec.writes ? await db.$transaction(run) : await run(db);
    } catch (e) {
      if (e instanceof UserError) return done({ text: t(e.key, e.params), outcome: 'invalid', command }, { args, error: e.key });
      this.o.log?.(`command ${command} failed: ${(e as Error).stack ?? e}`);
      return done({ text: '', outcome: 'error', command }, { args, error: String((e as Error).message ?? e).slice(0, 500) });
    }
  }
}

/** Maps the words after the command to its params, then validates them with its schema. */
export function bindArgs(spec: CommandSpec, parsed: Parsed, t: Translate): Record<string, unknown> {
  const raw: Record<string, string> = {};
  const { tokens } = parsed;
  spec.params.forEach((p, i) => {
    const token = tokens[i];
    if (!token) return;
    if (p.startsWith('...')) raw[p.slice(3)] = parsed.line.slice(token.start).trim();
    else raw[p] = token.text;
  });
  const rest = spec.params.at(-1)?.startsWith('...');
  if (!rest && tokens.length > spec.params.length) throw new UserError('bus.too_many_args', { extra: tokens.slice(spec.params.length).map((x) => x.text).join(' ') });
  const result = (spec.args as z.ZodType<Record<string, unknown>>).safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = String(issue.path[0] ?? '');
  // Schemas carry locale keys as messages; zod's own messages fall back to a generic line.
  const key = issue.message.includes('.') && !issue.message.includes(' ') ? issue.message : 'bus.bad_arg';
  throw new UserError(key, { param: t(`param.${param}`), value: raw[param] ?? '' });
}

export function usageLine(spec: CommandSpec, t: Translate): string {
  return t('bus.usage', { usage: `/${spec.aliases[0] ?? spec.name}${spec.usage ? ` ${t(spec.usage)}` : ''}` });
}

export async function loadMember(db: Db, userId: string, fallback: Locale): Promise<Member | null> {
  const m = await db.member.findUnique({ where: { userId }, include: { unit: true } });
  if (!m || !m.active) return null;
  return {
    id: m.id, userId: m.userId, name: m.name,
    roles: m.roles.split('|').filter((r): r is Role => (ROLES as readonly string[]).includes(r)),
    unit: m.unit && { id: m.unit.id, code: m.unit.code, name: m.unit.name, kind: m.unit.kind, countyCode: m.unit.countyCode },
    enterpriseId: m.enterpriseId, locale: isLocale(m.locale) ? m.locale : fallback, isDemo: m.isDemo,
  };
}

/** The campaign of the member's county (the latest, if several); without a unit, the first one. */
export async function campaignFor(db: Db, member: Member | null): Promise<Campaign | null> {
  const where = member?.unit ? { countyCode: member.unit.countyCode } : {};
  const c = await db.campaign.findFirst({ where, orderBy: [{ effectiveOn: 'desc' }, { id: 'asc' }] });
  return c && { id: c.id, key: c.key, name: c.name, docNumber: c.docNumber, countyCode: c.countyCode, countyName: c.countyName };
}
