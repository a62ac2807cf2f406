import type { z } from 'zod';
import type { Clock } from '../clock.ts';
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

export interface Campaign { id: number; key: string; name: string; docNumber: string; countyCode: string; countyName: string }

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
  /** The commands this caller may run, for /help. */
  commands: readonly CommandSpec[];
}

export interface Reply { text: string }

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
  args: A;
  /** Who may run it: listed roles (admins always may), any registered `member`, or the `public`. */
  roles: Role[] | 'member' | 'public';
  /** Writing commands run in a transaction with their audit event; a failure leaves nothing. */
  writes: boolean;
  run(ctx: CommandContext, args: z.output<A>): Promise<Reply>;
}

export function defineCommand<A extends z.ZodType<Record<string, unknown>>>(spec: CommandSpec<A>): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** A failure the caller can fix: it becomes a localized reply, and nothing is written. */
export class UserError extends Error {
  constructor(readonly key: string, readonly params?: Params) {
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
