import type { z } from 'zod';
import { dayIn, minuteIn, type Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { tellQueued } from '../delivery/audience.ts';
import { WorkCalendar } from '../domain/calendar.ts';
import type { GroupReach } from '../delivery/groups.ts';
import { translator, type Locale, type Translate } from '../i18n.ts';
import { parse, unglue, type Parsed } from './parse.ts';
import type { Registry } from './registry.ts';
import {
  mayRun,
  type Channel,
  type CommandContext,
  type CommandSpec,
  type ParseEnv,
  type ReplyButton,
  type ReplyStream,
} from './spec.ts';
import type { Member } from '../core/roles.ts';
import type { Pressed } from '../core/notice.ts';
import { UNDO_MINUTES, type UndoEntry, type UndoOp, type UndoTold } from '../core/undo.ts';
import { UserError } from '../core/errors.ts';
import { campaignFor, loadMember, type Campaign } from '../domain/context.ts';
import { holdsDemoData } from '../domain/demo.ts';
import { recordStranger } from '../domain/strangers.ts';
import { trusted } from '../core/neutral.ts';
import { robotsOnly } from '../wecom/messages.ts';
import { firstLineOf } from '../wecom/cards.ts';

/** How much of a pressed button's reply a card shows as its result. */
const RESULT_CHARS = 60;

export interface Incoming {
  channel: Channel;
  userId: string;
  chatId: string | null;
  text: string;
  /** A card's button pressed after the same decision was taken on that card: answered with who took it, and not run. */
  decided?: Pressed;
  /** The AI bot's stream reply it is answered in. */
  stream?: ReplyStream;
}
export type Outcome = 'ok' | 'pending' | 'denied' | 'invalid' | 'unknown' | 'error';
export interface Outgoing {
  text: string;
  outcome: Outcome;
  command?: string;
  /** The message as it may be stored, when it carried secret arguments. */
  redacted?: string;
  /** Buttons for channels with template cards; each runs its command as if the presser typed it. */
  buttons?: ReplyButton[];
  /**
   * A write that went through (itself, or the preview it confirmed): pressed on a card, it closes
   * the button's decision there. Who, when, the result's first line, and the card's words for it
   * in the groups' language (a card is seen by the whole group).
   */
  closes?: Omit<Pressed, 'decides'> & { line: string; done: string };
  /** The job the reply says is under way: a channel with stream replies leaves the stream open for its result. */
  job?: number;
}

export interface BusOptions {
  db: Db;
  clock: Clock;
  timeZone: string;
  locale: Locale;
  registry: Registry;
  calendar?: WorkCalendar;
  log?: (msg: string) => void;
  /** How group chats are reached; by their robots only unless given. */
  reach?: GroupReach;
}

/** The longest message read; a longer one is refused, naming the limit, and not echoed back. */
export const MAX_MESSAGE = 2000;
/** How much of a refused word a reply quotes. */
const QUOTED = 40;
const clip = (word: string) => (word.length > QUOTED ? `${word.slice(0, QUOTED)}…` : word);

/** How long a preview waits for its member's /执行. */
export const CONFIRM_MINUTES = 5;

interface Run {
  finish?: (tx: Tx, out: Outgoing) => Promise<void>;
  pendingId?: number;
}

/**
 * The command bus: parse → spec → permission → validation → (confirmation) → handler → audit →
 * reply. Every message gets exactly one reply; any failure becomes a localized reply and leaves
 * the database as it was, but for the audit event that records the attempt.
 */
/** Thrown by `finish` when the message was handled elsewhere meanwhile: everything rolls back, and there is no answer to give. */
export class Superseded extends Error {}

export class Bus {
  private readonly calendar: WorkCalendar;

  constructor(private readonly o: BusOptions) {
    this.calendar = o.calendar ?? new WorkCalendar();
  }

  /**
   * Handles one message. `finish` runs in the same transaction as the command's writes and its
   * audit event, so whoever records that the message was handled does so atomically with it.
   */
  handle(msg: Incoming, finish?: Run['finish']): Promise<Outgoing> {
    return this.execute(msg, { finish });
  }

  private async execute(msg: Incoming, run: Run): Promise<Outgoing> {
    const { db, registry, clock } = this.o;
    const member = await loadMember(db, msg.userId, this.o.locale);
    const locale = member?.locale ?? this.o.locale;
    const t = translator(locale);
    const undo: UndoOp[] = [];
    // The messages this write queued, so /撤销 can cancel them or retract what was sent.
    const queued: UndoTold[] = [];
    let redactedLine: string | undefined;
    // Set when /执行 ran the preview it confirms: a write, though /执行 itself writes nothing.
    let ranConfirmed = false;
    const done = async (out: Outgoing, detail?: unknown, tx: Tx = db): Promise<Outgoing> => {
      // The audit event and `finish` (the inbox marking the message handled) commit together, or a
      // crash between them would have the message run, and audited, again at restart.
      if (tx === db && run.finish) return db.$transaction((inner) => done(out, detail, inner));
      if (redactedLine) out = { ...out, redacted: redactedLine };
      // Someone not registered: counted (one row per person) for the admins' /待登记, with what they tried.
      if (!member)
        await recordStranger(tx, {
          userId: msg.userId,
          chatId: msg.chatId,
          channel: msg.channel,
          text: redactedLine ?? msg.text,
          at: clock.now(),
        });
      const event = await tx.auditEvent.create({
        data: {
          at: clock.now(),
          actorUserId: msg.userId,
          chatId: msg.chatId,
          channel: msg.channel,
          command: out.command ?? null,
          action: run.pendingId ? 'confirmed' : 'command',
          outcome: out.outcome,
          detail: JSON.stringify(detail ?? { text: msg.text.slice(0, 500) }),
          undo:
            out.outcome === 'ok' && undo.length
              ? JSON.stringify({ ops: undo, told: queued } satisfies UndoEntry)
              : null,
        },
      });
      if (out.outcome === 'error') out = { ...out, text: t('bus.failed', { ref: event.id }) };
      // Undo data past its window is dropped: it may hold a replaced secret, such as a webhook key.
      if (undo.length) {
        const expired = new Date(clock.now().getTime() - UNDO_MINUTES * 60_000);
        await tx.auditEvent.updateMany({ where: { undo: { not: null }, at: { lt: expired } }, data: { undo: null } });
      }
      if (out.outcome === 'ok' && run.pendingId) {
        const taken = await tx.pendingAction.updateMany({
          where: { id: run.pendingId, state: 'pending' },
          data: { state: 'done' },
        });
        if (taken.count === 0) throw new UserError('confirm.nothing');
      }
      await run.finish?.(tx, out);
      return out;
    };

    if (msg.decided)
      return done(
        // The result is a line of our own reply, whose members' words were neutralised when it was written.
        { text: t('card.already', { ...msg.decided, result: trusted(msg.decided.result) }), outcome: 'invalid' },
        { text: msg.text, decided: msg.decided },
      );
    if (msg.text.length > MAX_MESSAGE)
      return done(
        { text: t('bus.message_too_long', { limit: MAX_MESSAGE }), outcome: 'invalid' },
        { length: msg.text.length },
      );
    let parsed = parse(msg.text);
    if (!parsed) return done({ text: t('bus.empty'), outcome: 'unknown' });
    // A bare "/" asks for help; a command glued to its argument (/签收17) runs as if spaced.
    if (parsed.slash && !parsed.word) parsed = { ...parsed, word: 'help' };
    else if (parsed.slash && !registry.find(parsed.word)) {
      const glued = registry.prefixOf(parsed.word);
      if (glued) parsed = unglue(parsed, glued);
    }
    const spec = registry.find(parsed.word);
    if (!spec) {
      const near = registry.suggest(parsed.word, member);
      const text =
        parsed.slash || near
          ? t('bus.unknown', { word: clip(parsed.word) }) +
            (near ? t('bus.did_you_mean', { command: `/${near}` }) : '') +
            t('bus.see_help')
          : t('bus.not_a_command');
      return done({ text, outcome: 'unknown' });
    }
    const command = spec.name;
    // A command with secret arguments never has its raw line in the audit trail.
    const line = { text: spec.secret?.length ? `/${parsed.word}` : msg.text.slice(0, 500) };
    if (spec.secret?.length) redactedLine = `/${parsed.word} ***`;
    const redact = (a: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(a).map(([k, v]) => [k, spec.secret?.includes(k) && v !== undefined ? '***' : v]),
      );
    if (!mayRun(spec, member)) {
      const text = member
        ? t('bus.denied', { command: `/${spec.aliases[0] ?? spec.name}` })
        : t('bus.not_registered', { userId: msg.userId });
      return done({ text, outcome: 'denied', command }, line);
    }
    const today = dayIn(clock.now(), this.o.timeZone);
    let args: Record<string, unknown>;
    try {
      args = bindArgs(spec, parsed, t, { today });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      return done(
        {
          text: [t(e.key, e.params), usageLine(spec, t), exampleLine(spec, t)].filter(Boolean).join('\n'),
          outcome: 'invalid',
          command,
        },
        line,
      );
    }
    const campaign = await campaignFor(db, member);
    if (!campaign) return done({ text: t('bus.no_campaign'), outcome: 'error', command }, line);
    const audited = { args: redact(args) };

    const context = (tx: Tx): CommandContext => ({
      db: tx,
      clock,
      timeZone: this.o.timeZone,
      today,
      calendar: this.calendar,
      member,
      userId: msg.userId,
      chatId: msg.chatId,
      channel: msg.channel,
      campaign,
      locale,
      t,
      groupT: translator(this.o.locale),
      commands: registry.specs.filter((s) => mayRun(s, member)),
      confirmed: run.pendingId !== undefined,
      undoable: (op) => void undo.push(op),
      ...(msg.stream ? { stream: msg.stream } : {}),
      reach: this.o.reach ?? robotsOnly,
      tell: async (to, notice) => {
        const { told, outbox } = await tellQueued(
          {
            db: tx,
            reach: this.o.reach ?? robotsOnly,
            countyCode: campaign.countyCode,
            asker: { userId: msg.userId, chatId: msg.chatId, overBot: msg.channel === 'bot' },
          },
          clock,
          to,
          notice,
        );
        if (outbox.length) queued.push({ to, outbox });
        return told;
      },
      runConfirmed: async (text, pendingId) => {
        ranConfirmed = true;
        const out = await this.execute({ ...msg, text }, { pendingId });
        return { text: out.text, ...(out.buttons ? { buttons: out.buttons } : {}) };
      },
    });
    const attempt = async (tx: Tx) => {
      const ctx = context(tx);
      const preview = spec.confirm && !ctx.confirmed ? await spec.confirm(ctx, args) : null;
      if (preview !== null) {
        const buttons: ReplyButton[] = [
          { label: t('card.yes'), command: '/执行', style: 'primary', decides: 'preview' },
          { label: t('card.cancel'), command: '/取消', decides: 'preview' },
        ];
        return done(
          { text: await this.askConfirmation(tx, msg, preview, t), outcome: 'pending', command, buttons },
          audited,
          tx,
        );
      }
      const reply = await spec.run(ctx, args);
      // A button runs its command as pressed: one that could not (an argument missing) is not shown.
      const buttons = reply.buttons?.filter((b) => this.runsAsPressed(b.command, t, { today }));
      const text =
        spec.figures && (await holdsDemoData(tx, campaign)) ? `${reply.text}\n${t('demo.data')}` : reply.text;
      const closes = spec.writes || ranConfirmed ? this.closing(member, text) : undefined;
      return done(
        {
          text,
          outcome: 'ok',
          command,
          ...(buttons?.length ? { buttons } : {}),
          ...(closes ? { closes } : {}),
          ...(reply.job ? { job: reply.job } : {}),
        },
        audited,
        tx,
      );
    };
    try {
      return spec.writes || spec.confirm ? await db.$transaction(attempt) : await attempt(db);
    } catch (e) {
      undo.length = 0;
      queued.length = 0;
      if (e instanceof Superseded) throw e;
      if (e instanceof UserError)
        return done({ text: t(e.key, e.params), outcome: 'invalid', command }, { ...audited, error: e.key });
      this.o.log?.(`command ${command} failed: ${(e as Error).stack ?? e}`);
      return done(
        { text: '', outcome: 'error', command },
        { ...audited, error: String((e as Error).message ?? e).slice(0, 500) },
      );
    }
  }

  /** A write's outcome as a pressed card shows it: the presser, the minute, the reply's first line. */
  private closing(member: Member | null, text: string): Outgoing['closes'] {
    const groupT = translator(this.o.locale);
    const by = member?.name ?? '—';
    const at = minuteIn(this.o.clock.now(), this.o.timeZone);
    const result = firstLineOf(text, RESULT_CHARS);
    return {
      by,
      at,
      result,
      line: groupT('card.closed_line', { by, at, result: trusted(result) }),
      done: groupT('card.closed'),
    };
  }

  /** Whether a button's command line parses into its command's arguments, as pressing it would. */
  private runsAsPressed(line: string, t: Translate, env: ParseEnv): boolean {
    const parsed = parse(line);
    const spec = parsed && this.o.registry.find(parsed.word);
    if (!parsed || !spec) return false;
    try {
      bindArgs(spec, parsed, t, env);
      return true;
    } catch (e) {
      if (e instanceof UserError) return false;
      throw e;
    }
  }

  /** Stores the command line to run on /执行; a newer preview replaces the member's older one, and says so. */
  private async askConfirmation(tx: Tx, msg: Incoming, preview: string, t: Translate): Promise<string> {
    const now = this.o.clock.now();
    const older = await tx.pendingAction.findFirst({
      where: { userId: msg.userId, state: 'pending', expiresAt: { gt: now } },
      orderBy: { id: 'desc' },
    });
    await tx.pendingAction.updateMany({
      where: { userId: msg.userId, state: 'pending' },
      data: { state: 'cancelled' },
    });
    await tx.pendingAction.create({
      data: {
        userId: msg.userId,
        chatId: msg.chatId,
        text: msg.text,
        preview,
        createdAt: now,
        expiresAt: new Date(now.getTime() + CONFIRM_MINUTES * 60_000),
      },
    });
    const replaced = older ? [t('confirm.replaced', { preview: older.preview.split('\n')[0]! })] : [];
    return [preview, t('confirm.ask', { minutes: CONFIRM_MINUTES }), ...replaced].join('\n');
  }
}

/** Maps the words after the command to its params, then validates them with its schema. */
export function bindArgs(spec: CommandSpec, parsed: Parsed, t: Translate, env: ParseEnv): Record<string, unknown> {
  const raw: Record<string, string> = {};
  const { tokens } = parsed;
  spec.params.forEach((p, i) => {
    const token = tokens[i];
    if (!token) return;
    if (p.startsWith('...')) raw[p.slice(3)] = parsed.line.slice(token.start).trim();
    else raw[p] = token.text;
  });
  const rest = spec.params.at(-1)?.startsWith('...');
  if (!rest && tokens.length > spec.params.length)
    throw new UserError('bus.too_many_args', {
      extra: tokens
        .slice(spec.params.length)
        .map((x) => x.text)
        .join(' '),
    });
  const schema = (typeof spec.args === 'function' ? spec.args(env) : spec.args) as z.ZodType<Record<string, unknown>>;
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = String(issue.path[0] ?? '');
  if (raw[param] === undefined) throw new UserError('bus.missing_arg', { param: t(`param.${param}`) });
  if (issue.code === 'too_big')
    throw new UserError('bus.too_long', { param: t(`param.${param}`), limit: Number(issue.maximum) });
  // Schemas carry locale keys as messages; zod's own messages fall back to a generic line.
  const key = /^[a-z_]+\.[a-z_.]+$/.test(issue.message) ? issue.message : 'bus.bad_arg';
  const params = issue.code === 'custom' ? (issue.params as Record<string, string | number> | undefined) : undefined;
  throw new UserError(key, { param: t(`param.${param}`), value: clip(raw[param] ?? ''), ...params });
}

export function usageLine(spec: CommandSpec, t: Translate): string {
  return t('bus.usage', { usage: trusted(`/${spec.aliases[0] ?? spec.name}${spec.usage ? ` ${t(spec.usage)}` : ''}`) });
}

export function exampleLine(spec: CommandSpec, t: Translate): string {
  return spec.examples.length ? t('help.examples', { examples: spec.examples.join('  ') }) : '';
}
