import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import type { Retention } from './domain/retention.ts';
import { isLocale, translator, type Locale, type Translate } from './i18n.ts';

/**
 * Thrown when the environment cannot start the service; the message names the setting. Its text
 * comes from the locale files, so an operator reads it in BOT_LOCALE's language (`localized`);
 * `message` is the English.
 */
export class ConfigError extends Error {
  private readonly render: (t: Translate) => string;

  constructor(message: string | ((t: Translate) => string)) {
    const render = typeof message === 'string' ? () => message : message;
    super(render(translator('en', 'terminal')));
    this.render = render;
  }

  localized(locale: Locale): string {
    return this.render(translator(locale, 'terminal'));
  }
}

/** The language of messages to the operator: BOT_LOCALE when it is a valid one (after `.env`), else zh-CN. */
export function operatorLocale(env: NodeJS.ProcessEnv = process.env): Locale {
  if (env === process.env && existsSync('.env')) {
    try {
      process.loadEnvFile('.env');
    } catch {
      // an unreadable .env is reported by configFromEnvironment
    }
  }
  const l = env.BOT_LOCALE?.trim();
  return isLocale(l) ? l : 'zh-CN';
}

/** One line for the operator: "configuration: …" / "配置错误：…". */
export function configErrorLine(e: ConfigError, locale: Locale): string {
  return translator(locale, 'terminal')('config.error', { message: e.localized(locale) });
}

const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const aesKey = optional.refine((v) => v === undefined || /^[A-Za-z0-9+/]{43}$/.test(v), {
  message: 'must be the 43-character EncodingAESKey shown by WeCom',
});

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

/** A setting left empty in .env (`LOG_LEVEL=`) counts as not given. */
const unsetIfEmpty = <T extends z.ZodType>(t: T) => z.preprocess((v) => (v === '' ? undefined : v), t);

const onOff = z
  .string()
  .trim()
  .toLowerCase()
  .default('off')
  .refine((v) => ['on', 'off', 'true', 'false', '1', '0', ''].includes(v), { message: 'must be on or off' })
  .transform((v) => v === 'on' || v === 'true' || v === '1');

const proxyUrl = optional.refine((v) => v === undefined || isProxyUrl(v), {
  message: 'must be a proxy address such as http://proxy.example.gov.cn:8080',
});

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** The address to listen on: all interfaces unless told (127.0.0.1 behind a reverse proxy on the same machine). */
  HOST: optional.refine((v) => v === undefined || isHost(v), {
    message: 'must be an IP address or host name to listen on, such as 127.0.0.1 or 0.0.0.0',
  }),
  LOG_LEVEL: unsetIfEmpty(z.enum(LOG_LEVELS).default('info')),
  /** json (journald, files) or pretty (a person at a terminal); unset: pretty on a terminal, JSON elsewhere. */
  LOG_FORMAT: unsetIfEmpty(z.enum(['json', 'pretty']).optional()),
  /** /metrics (Prometheus); off unless on. */
  METRICS: onOff,
  /** With it, /metrics answers anyone who sends it as a bearer token; without it, loopback only. */
  METRICS_TOKEN: optional.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  /** /readyz answers 503 once a configured channel has been down this many seconds. */
  READY_MAX_DOWN_SECONDS: unsetIfEmpty(z.coerce.number().int().min(0).default(300)),
  /** WeCom's domain verification file (WW_verify_*.txt), served at /<its name>. */
  WECOM_VERIFY_FILE: optional.refine((v) => v === undefined || /(^|\/)WW_verify_[A-Za-z0-9]+\.txt$/.test(v), {
    message: 'must be the path of the WW_verify_….txt file downloaded from the WeCom admin console',
  }),
  HTTPS_PROXY: proxyUrl,
  HTTP_PROXY: proxyUrl,
  NO_PROXY: optional,
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
  /** A TTF/OTF/TTC font with Chinese glyphs for the charts; else the usual places (src/domain/raster.ts). */
  BOT_CJK_FONT: optional,
  /** How long the replicas' leader lease lasts unrenewed, in seconds: a dead leader's successor takes over within 1¼ of it. */
  BOT_LEASE_SECONDS: z.coerce.number().int().min(2).max(600).default(20),
  /** How far a callback's timestamp may be from now, in seconds; 0 turns the check off. */
  CALLBACK_MAX_SKEW: z.coerce.number().int().min(0).default(300),
  WECOM_API_BASE: z.url({ protocol: /^https?$/ }).default('https://qyapi.weixin.qq.com'),
  /** WeCom's web sign-in host (open.weixin.qq.com); 政务微信 and private deployments have their own. */
  WECOM_OAUTH_BASE: unsetIfEmpty(z.url({ protocol: /^https?$/ }).default('https://open.weixin.qq.com')),
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

function isProxyUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
  } catch {
    return false;
  }
}

function isHost(v: string): boolean {
  return /^[A-Za-z0-9.:-]+$/.test(v) && !/^[:.-]/.test(v.replace(/^::/, 'x'));
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

/** Proxies for WeCom (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, or their lower-case forms). */
export interface ProxyConfig {
  httpsProxy?: string;
  httpProxy?: string;
  noProxy?: string;
}

export interface Config {
  port: number;
  /** HOST: the bind address; all interfaces when not given. */
  host?: string;
  logLevel?: LogLevel;
  /** LOG_FORMAT; unset: pretty on a terminal, JSON lines elsewhere. */
  logFormat?: LogFormat;
  /** /metrics: off unless enabled; then loopback only, or anyone with the token. */
  metrics?: { enabled: boolean; token?: string };
  /** A configured channel down this long makes /readyz answer 503 (READY_MAX_DOWN_SECONDS, 300). */
  readyMaxDownSeconds?: number;
  /** WECOM_OAUTH_BASE without a trailing slash; open.weixin.qq.com when not given. */
  wecomOauthBase?: string;
  /** WeCom's domain verification file: served at /<name> with its content. */
  verifyFile?: { name: string; content: string };
  proxy?: ProxyConfig;
  databaseUrl: string;
  timezone: string;
  locale: 'zh-CN' | 'en';
  admins: string[];
  calendarFile: string;
  /** The charts' CJK font file (BOT_CJK_FONT); the usual places when not given. */
  cjkFont?: string;
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
    throw new ConfigError((t) => t('config.half_configured', { channel: t(name), missing: missing.join(', ') }));
  return Object.fromEntries(entries.map(([k, v]) => [k, env[v]!])) as Record<K, string>;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // The proxy variables are often set in lower case (curl, wget): both count, upper case first.
  env = {
    ...env,
    HTTPS_PROXY: env.HTTPS_PROXY ?? env.https_proxy,
    HTTP_PROXY: env.HTTP_PROXY ?? env.http_proxy,
    NO_PROXY: env.NO_PROXY ?? env.no_proxy,
  };
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = String(issue.path[0]);
    // Each setting's expectation in the operator's words; zod's own message for one without.
    throw new ConfigError((t) => {
      const key = `config.expect.${setting}`;
      const problem = t(key);
      return t('config.invalid', { setting, problem: problem === key ? issue.message : problem });
    });
  }
  const e = parsed.data;
  const flat = e as unknown as Record<string, string | undefined>;
  const bot = channel('config.channel_bot', BOT_VARS, flat);
  const ws = channel('config.channel_longconn', BOT_WS_VARS, flat);
  // A bot runs in one mode in the admin console: settings of the other mode are a mistake, not a fallback.
  if (e.WECOM_BOT_MODE === 'websocket' && !ws) throw new ConfigError((t) => t('config.websocket_needs_bot_id'));
  if (e.WECOM_BOT_MODE === 'websocket' && bot) throw new ConfigError((t) => t('config.callback_settings_in_websocket'));
  if (e.WECOM_BOT_MODE === 'callback' && ws) throw new ConfigError((t) => t('config.websocket_settings_in_callback'));
  const botLongConn = ws && { ...ws, url: e.WECOM_BOT_WS_URL };
  const app = channel('config.channel_app', APP_VARS, flat);
  if (app && !e.SESSION_SECRET) throw new ConfigError((t) => t('config.session_secret_required'));
  let verifyFile: Config['verifyFile'];
  if (e.WECOM_VERIFY_FILE) {
    let content: string;
    try {
      content = readFileSync(e.WECOM_VERIFY_FILE, 'utf8').trim();
    } catch (err) {
      const file = e.WECOM_VERIFY_FILE;
      throw new ConfigError((t) => t('config.verify_file_unreadable', { file, error: (err as Error).message }));
    }
    verifyFile = { name: basename(e.WECOM_VERIFY_FILE), content };
  }
  const proxy: ProxyConfig = {
    ...(e.HTTPS_PROXY ? { httpsProxy: e.HTTPS_PROXY } : {}),
    ...(e.HTTP_PROXY ? { httpProxy: e.HTTP_PROXY } : {}),
    ...(e.NO_PROXY ? { noProxy: e.NO_PROXY } : {}),
  };
  return {
    port: e.PORT,
    ...(e.HOST ? { host: e.HOST } : {}),
    logLevel: e.LOG_LEVEL,
    ...(e.LOG_FORMAT ? { logFormat: e.LOG_FORMAT } : {}),
    metrics: { enabled: e.METRICS, ...(e.METRICS_TOKEN ? { token: e.METRICS_TOKEN } : {}) },
    readyMaxDownSeconds: e.READY_MAX_DOWN_SECONDS,
    wecomOauthBase: e.WECOM_OAUTH_BASE.replace(/\/+$/, ''),
    ...(verifyFile ? { verifyFile } : {}),
    ...(proxy.httpsProxy || proxy.httpProxy ? { proxy } : {}),
    databaseUrl: e.DATABASE_URL,
    timezone: e.BOT_TIMEZONE,
    locale: e.BOT_LOCALE,
    admins: e.BOT_ADMINS,
    calendarFile: e.BOT_CALENDAR_FILE,
    ...(e.BOT_CJK_FONT ? { cjkFont: e.BOT_CJK_FONT } : {}),
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
