import type { z } from 'zod';
import type { Button } from '../core/notice.ts';
import { isUnitRole, type Member, type Role } from '../core/roles.ts';
import type { Actor } from '../domain/context.ts';
import type { GroupReach } from '../delivery/groups.ts';
import type { Db } from '../db/client.ts';
import type { Locale } from '../i18n.ts';
import type { JobContext, JobResult } from './jobs.ts';

/** Where a message came from and where its reply goes. */
export type Channel = 'bot' | 'app' | 'sandbox';

/**
 * The AI bot's stream reply a message is answered in: its stream id, and over the long connection
 * the callback's req_id. A slow command's job may finish it (src/bot/jobs.ts).
 */
export interface ReplyStream {
  id: string;
  reqId?: string;
}

/** What a command sees: the domain's actor, plus the chat it was said in and the bus's own services. */
export interface CommandContext extends Actor {
  chatId: string | null;
  channel: Channel;
  locale: Locale;
  /** The commands this caller may run, for /help. */
  commands: readonly CommandSpec[];
  /** True when the member confirmed this run with /执行. */
  confirmed: boolean;
  /** How the deployment reaches group chats (by robot, or also by chatid through the long connection). */
  reach: GroupReach;
  /** Runs a command line again as confirmed by its member (for /执行). */
  runConfirmed(text: string, pendingId: number): Promise<Reply>;
  /** The stream reply this message is answered in, when it came to the AI bot. */
  stream?: ReplyStream;
}

/** What the arguments are checked against; relative dates need today. */
export interface ParseEnv {
  today: string;
}

/** A button under a reply: the one button type of src/core/notice.ts. */
export type ReplyButton = Button;

export interface Reply {
  text: string;
  buttons?: ReplyButton[];
  /** The job this reply says is under way (startJob): its result may finish the reply's stream. */
  job?: number;
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
  /** Its reply shows the county's figures: where the county holds demo data, the bus says so under it. */
  figures?: boolean;
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
  /**
   * Work too slow for the message lane at a county's real size: `run` stores it with startJob
   * (src/bot/jobs.ts) and answers at once; the job runner calls this and delivers its result.
   */
  background?(job: JobContext, args: z.output<A>): Promise<JobResult>;
}

export function defineCommand<A extends z.ZodType<Record<string, unknown>>>(spec: CommandSpec<A>): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** The spec a word names among `specs`, by name or alias, with or without its slash. */
export function specNamed(specs: readonly CommandSpec[], word: string): CommandSpec | undefined {
  const w = word.replace(/^[/／]/, '').toLowerCase();
  return specs.find((s) => s.name === w || s.aliases.some((a) => a.toLowerCase() === w));
}

export function mayRun(spec: CommandSpec, member: Member | null): boolean {
  if (spec.roles === 'public') return true;
  if (!member) return false;
  if (spec.roles === 'member' || member.roles.includes('admin')) return true;
  // The unit's people (责任人, 分管领导) may run what its liaison may: they answer for the same items.
  const held = member.roles.some(isUnitRole) ? [...member.roles, 'liaison'] : member.roles;
  return spec.roles.some((r) => held.includes(r));
}

export type { Db };
