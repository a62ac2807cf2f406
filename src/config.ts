import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { Retention } from './domain/retention.ts';

/** Thrown when the environment cannot start the service; the message names the variable. */
export class ConfigError extends Error {}

const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const aesKey = optional.refine((v) => v === undefined || /^[A-Za-z0-9+/]{43}$/.test(v), {
  message: 'must be the 43-character EncodingAESKey shown by WeCom',
});

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .default('file:./data/anze.db')
    .refine((v) => v.startsWith('file:') || /^postgres(ql)?:\/\/./.test(v), {
      message:
        'must be a SQLite file such as file:./data/anze.db or a PostgreSQL URL such as postgres://anze:secret@db.example:5432/anze',
    }),
  BOT_TIMEZONE: z
    .string()
    .default('Asia/Shanghai')
    .refine(isTimeZone, { message: 'must be an IANA time zone such as Asia/Shanghai' }),
  BOT_LOCALE: z.enum(['zh-CN', 'en']).default('zh-CN'),
  BOT_ADMINS: z
    .string()
    .default('')
    .transform((v) => v.split(/[,，\s]+/).filter(Boolean)),
  /** The deployment's corrections to China's holiday calendar: { "2027-02-06": "workday", … }. */
  BOT_CALENDAR_FILE: z.string().default('prisma/calendar.json'),
  /** How long the replicas' leader lease lasts unrenewed, in seconds: a dead leader's successor takes over within 1¼ of it. */
  BOT_LEASE_SECONDS: z.coerce.number().int().min(2).max(600).default(20),
  /** How far a callback's timestamp may be from now, in seconds; 0 turns the check off. */
  CALLBACK_MAX_SKEW: z.coerce.number().int().min(0).default(300),
  WECOM_API_BASE: z.url({ protocol: /^https?$/ }).default('https://qyapi.weixin.qq.com'),
  WECOM_CORP_ID: optional,
  WECOM_AGENT_ID: optional.refine((v) => v === undefined || /^\d+$/.test(v), { message: 'must be a number' }),
  WECOM_APP_SECRET: optional,
  WECOM_APP_TOKEN: optional,
  WECOM_APP_AES_KEY: aesKey,
  WECOM_BOT_TOKEN: optional,
  WECOM_BOT_AES_KEY: aesKey,
  /** How the AI bot reaches us: WeCom calls our URL, or we keep a WebSocket to WeCom (no public URL needed). */
  WECOM_BOT_MODE: z.enum(['callback', 'websocket']).default('callback'),
  WECOM_BOT_ID: optional,
  WECOM_BOT_SECRET: optional,
  WECOM_BOT_WS_URL: z.url({ protocol: /^wss?$/ }).default('wss://openws.work.weixin.qq.com'),
  /** The address members' browsers and WeCom reach the bot at: the dashboard's sign-in returns there, and the JS-SDK signs only its pages. */
  PUBLIC_BASE_URL: optional.refine((v) => v === undefined || isBaseUrl(v), {
    message: 'must be the http(s) address the bot is reached at, such as https://anze.example.gov.cn (no query or #)',
  }),
  /** How long records are kept before `anze purge` deletes them; never below the legal minimum (src/domain/retention.ts). */
  BOT_RETAIN_VISITS_YEARS: z.coerce
    .number()
    .int()
    .min(5, { message: 'must be at least 5: AQ 9010 keeps prevention-service records five years' })
    .default(5),
  BOT_RETAIN_AUDIT_MONTHS: z.coerce
    .number()
    .int()
    .min(6, { message: 'must be at least 6: 网络安全法 第二十一条 keeps logs six months' })
    .default(6),
  BOT_RETAIN_MESSAGES_MONTHS: z.coerce
    .number()
    .int()
    .min(6, { message: 'must be at least 6: messages are logs too (网络安全法 第二十一条)' })
    .default(6),
  /** Signs dashboard sessions; required with the self-built app (its WeCom sign-in). */
  SESSION_SECRET: optional.refine((v) => v === undefined || v.length >= 32, {
    message: 'must be at least 32 characters (e.g. openssl rand -hex 32)',
  }),
});

function isBaseUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !u.search && !u.hash && !u.username && !u.password;
  } catch {
    return false;
  }
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface BotChannel {
  token: string;
  encodingAesKey: string;
}
export interface AppChannel extends BotChannel {
  corpId: string;
  agentId: string;
  secret: string;
}
export interface BotLongConnChannel {
  botId: string;
  secret: string;
  url: string;
}

export interface Config {
  port: number;
  databaseUrl: string;
  timezone: string;
  locale: 'zh-CN' | 'en';
  admins: string[];
  calendarFile: string;
  callbackMaxSkewSeconds: number;
  /** The leader lease's time (BOT_LEASE_SECONDS); 20 s when not given. */
  leaseSeconds?: number;
  wecomApiBase: string;
  /** The AI bot (智能机器人) callback channel, when configured. */
  bot?: BotChannel;
  /** The AI bot over its WebSocket long connection (WECOM_BOT_MODE=websocket). */
  botLongConn?: BotLongConnChannel;
  /** The self-built app (自建应用) channel, when configured. */
  app?: AppChannel;
  /** No WeCom channel at all: outbound messages are stored and printed, not sent. */
  sandbox: boolean;
  /** PUBLIC_BASE_URL without a trailing slash. */
  publicBaseUrl?: string;
  /** SESSION_SECRET; without it (sandbox mode) each process signs with a random one. */
  sessionSecret?: string;
  /** How long records are kept (BOT_RETAIN_*); the legal minimums when not given. */
  retention?: Retention;
}

const BOT_VARS = { token: 'WECOM_BOT_TOKEN', encodingAesKey: 'WECOM_BOT_AES_KEY' } as const;
const BOT_WS_VARS = { botId: 'WECOM_BOT_ID', secret: 'WECOM_BOT_SECRET' } as const;
const APP_VARS = {
  corpId: 'WECOM_CORP_ID',
  agentId: 'WECOM_AGENT_ID',
  secret: 'WECOM_APP_SECRET',
  token: 'WECOM_APP_TOKEN',
  encodingAesKey: 'WECOM_APP_AES_KEY',
} as const;

/** A channel is on when all of its settings are present, off when none are; anything between is an error. */
function channel<K extends string>(name: string, vars: Record<K, string>, env: Record<string, string | undefined>) {
  const entries = Object.entries(vars) as [K, string][];
  const missing = entries.filter(([, v]) => env[v] === undefined).map(([, v]) => v);
  if (missing.length === entries.length) return undefined;
  if (missing.length > 0)
    throw new ConfigError(`${name} is half-configured: set ${missing.join(', ')} (or unset the others)`);
  return Object.fromEntries(entries.map(([k, v]) => [k, env[v]!])) as Record<K, string>;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  const flat = e as unknown as Record<string, string | undefined>;
  const bot = channel('The AI bot channel', BOT_VARS, flat);
  const ws = channel('The AI bot long connection', BOT_WS_VARS, flat);
  // A bot runs in one mode in the admin console: settings of the other mode are a mistake, not a fallback.
  if (e.WECOM_BOT_MODE === 'websocket' && !ws)
    throw new ConfigError('WECOM_BOT_MODE=websocket needs WECOM_BOT_ID and WECOM_BOT_SECRET');
  if (e.WECOM_BOT_MODE === 'websocket' && bot)
    throw new ConfigError('WECOM_BOT_TOKEN, WECOM_BOT_AES_KEY are for WECOM_BOT_MODE=callback: unset them');
  if (e.WECOM_BOT_MODE === 'callback' && ws)
    throw new ConfigError('WECOM_BOT_ID, WECOM_BOT_SECRET are for WECOM_BOT_MODE=websocket: set it, or unset them');
  const botLongConn = ws && { ...ws, url: e.WECOM_BOT_WS_URL };
  const app = channel('The self-built app channel', APP_VARS, flat);
  if (app && !e.SESSION_SECRET)
    throw new ConfigError(
      'SESSION_SECRET: required with the self-built app channel (it signs dashboard sign-ins); at least 32 characters',
    );
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    timezone: e.BOT_TIMEZONE,
    locale: e.BOT_LOCALE,
    admins: e.BOT_ADMINS,
    calendarFile: e.BOT_CALENDAR_FILE,
    callbackMaxSkewSeconds: e.CALLBACK_MAX_SKEW,
    leaseSeconds: e.BOT_LEASE_SECONDS,
    wecomApiBase: e.WECOM_API_BASE.replace(/\/+$/, ''),
    bot,
    ...(botLongConn ? { botLongConn } : {}),
    app,
    sandbox: !bot && !app && !botLongConn,
    ...(e.PUBLIC_BASE_URL ? { publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/+$/, '') } : {}),
    ...(e.SESSION_SECRET ? { sessionSecret: e.SESSION_SECRET } : {}),
    retention: {
      visitsYears: e.BOT_RETAIN_VISITS_YEARS,
      auditMonths: e.BOT_RETAIN_AUDIT_MONTHS,
      messagesMonths: e.BOT_RETAIN_MESSAGES_MONTHS,
    },
  };
}

/** The configuration of this process: its environment, with a `.env` file in the working directory beneath it. */
export function configFromEnvironment(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return loadConfig(process.env);
}
