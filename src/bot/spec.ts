import type { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { WorkCalendar } from '../domain/calendar.ts';
import type { GroupReach } from '../domain/chats.ts';
import type { Outbound } from '../delivery/outbox.ts';
import type { Db, Tx } from '../db/client.ts';
import type { Locale, Params, Translate } from '../i18n.ts';

export const ROLES = ['admin', 'leader', 'liaison', 'insurer', 'enterprise', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface Member {
  id: number;
  userId: string;
  name: string;
  roles: Role[];
  unit: { id: number; code: string; name: string; kind: string; countyCode: string } | null;
  enterpriseId: number | null;
  locale: Locale;
  isDemo: boolean;
}

export interface Campaign {
  id: number;
  key: string;
  name: string;
  docNumber: string;
  countyCode: string;
  countyName: string;
}

/** Where a message came from and where its reply goes. */
export type Channel = 'bot' | 'app' | 'sandbox';

export interface CommandContext {
  /** The database; inside a writing command, its transaction. */
  db: Tx;
  clock: Clock;
  timeZone: string;
  /** Today in the campaign's time zone, 'YYYY-MM-DD'. */
  today: string;
  /** The caller, or null for someone the bot does not know (only `public` commands run then). */
  member: Member | null;
  userId: string;
  chatId: string | null;
  channel: Channel;
  campaign: Campaign;
  locale: Locale;
  t: Translate;
  /** The deployment's language (BOT_LOCALE), for messages to groups rather than to the caller. */
  groupT: Translate;
  /** The commands this caller may run, for /help. */
  commands: readonly CommandSpec[];
  calendar: WorkCalendar;
  /** True when the member confirmed this run with /执行. */
  confirmed: boolean;
  /** Records how to revert a write, so the member can /撤销 it within 10 minutes. */
  undoable(op: UndoOp): void;
  /** How the deployment reaches group chats (by robot, or also by chatid through the long connection). */
  reach: GroupReach;
  /** Queues a message to another chat or member, in this command's transaction. */
  send(message: Outbound): Promise<void>;
  /** Runs a command line again as confirmed by its member (for /执行). */
  runConfirmed(text: string, pendingId: number): Promise<Reply>;
}

/** How long a member's last write can be undone with /撤销. */
export const UNDO_MINUTES = 10;

/** Models a command may revert through /撤销. */
export const UNDO_MODELS = [
  'progressReport',
  'policy',
  'obligation',
  'obligationEvent',
  'preventionVisit',
  'servicePlan',
  'member',
  'groupChat',
] as const;
export type UndoOp =
  | { model: (typeof UNDO_MODELS)[number]; action: 'delete'; where: { id: number } }
  | { model: (typeof UNDO_MODELS)[number]; action: 'update'; where: { id: number }; data: Record<string, unknown> }
  | { model: (typeof UNDO_MODELS)[number]; action: 'create'; data: Record<string, unknown> };

/** What the arguments are checked against; relative dates need today. */
export interface ParseEnv {
  today: string;
}

/**
 * A button under a reply, where the channel has template cards (AI bot replies, app messages).
 * Pressing it runs `command` exactly as if the presser had typed it: same parsing, permissions
 * and checks, under the presser's own identity.
 */
export interface ReplyButton {
  label: string;
  command: string;
  style?: 'primary' | 'danger';
}

/** WeCom's button_interaction cards hold at most six buttons. */
export const MAX_BUTTONS = 6;

export interface Reply {
  text: string;
  buttons?: ReplyButton[];
}

/**
 * One declarative spec per command: it drives parsing, validation, /help, the permission check
 * and the audit event. `params` maps positional words to the keys of `args`; a name starting
 * with '...' takes the rest of the line as typed.
 */
export interface CommandSpec<A extends z.ZodType<Record<string, unknown>> = z.ZodType<Record<string, unknown>>> {
  name: string;
  /** Other words that run it, Chinese first: ['覆盖率']. */
  aliases: string[];
  /** Locale keys. */
  summary: string;
  usage?: string;
  examples: string[];
  params: string[];
  args: A | ((env: ParseEnv) => A);
  /** Who may run it: listed roles (admins always may), any registered `member`, or the `public`. */
  roles: Role[] | 'member' | 'public';
  /** Writing commands run in a transaction with their audit event; a failure leaves nothing. */
  writes: boolean;
  /** Arguments never written to the audit trail or logs (e.g. a webhook key). */
  secret?: string[];
  /**
   * For bulk writes and removals: a preview to show, after which the command runs only when the
   * same member answers /执行 within 5 minutes; null when this call needs no confirmation.
   */
  confirm?(ctx: CommandContext, args: z.output<A>): Promise<string | null>;
  run(ctx: CommandContext, args: z.output<A>): Promise<Reply>;
}

export function defineCommand<A extends z.ZodType<Record<string, unknown>>>(spec: CommandSpec<A>): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** A failure the caller can fix: it becomes a localized reply, and nothing is written. */
export class UserError extends Error {
  constructor(
    readonly key: string,
    readonly params?: Params,
  ) {
    super(key);
  }
}

export function mayRun(spec: CommandSpec, member: Member | null): boolean {
  if (spec.roles === 'public') return true;
  if (!member) return false;
  if (spec.roles === 'member' || member.roles.includes('admin')) return true;
  return spec.roles.some((r) => member.roles.includes(r));
}

export type { Db };
