// The service's log: JSON lines (pino) with time, level, message and context, or, for a person at
// a terminal, the same through pino-pretty. Every line passes one redaction, configured here and
// nowhere else: secret fields by name, secret values of the configuration wherever they appear,
// and the usual places of secrets in text (access_token= and key= in URLs, a URL's password).
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { Config, LogFormat, LogLevel } from './config.ts';

export type { Logger } from 'pino';

export { LOG_LEVELS, type LogFormat, type LogLevel } from './config.ts';

export const REDACTED = '[REDACTED]';

/** pino-pretty, loaded only for a pretty log: a service logging JSON lines never needs it. */
const pinoPretty = () => (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')).PinoPretty;

/** Field names whose values are never written, at the top of a log record or one level down. */
const SECRET_FIELDS = [
  'token',
  'secret',
  'encodingAesKey',
  'sessionSecret',
  'password',
  'accessToken',
  'access_token',
  'webhookKey',
  'authorization',
];

/** Secrets inside text: query parameters that carry them, and a URL's user:password@. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/([?&](?:access_token|corpsecret|secret|key|code|ticket|jsapi_ticket)=)[^&#\s"'\\]+/gi, `$1${REDACTED}`],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s"'\\]*:)[^@/?#\s"'\\]+@/gi, `$1${REDACTED}@`],
];

/** The configuration's secret values: each is replaced wherever it appears, as is, JSON-escaped or URL-encoded. */
export function configSecrets(config: Partial<Config>): string[] {
  const values = [
    config.bot?.token,
    config.bot?.encodingAesKey,
    config.botLongConn?.secret,
    config.app?.secret,
    config.app?.token,
    config.app?.encodingAesKey,
    config.sessionSecret,
    config.metrics?.token,
    databasePassword(config.databaseUrl),
  ];
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 4);
}

function databasePassword(url: string | undefined): string | undefined {
  if (!url || url.startsWith('file:')) return undefined;
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A function that takes every secret out of a text (a log line, an error message). */
export function redactor(secrets: string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(encodeURIComponent(s));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const known = [...forms].sort((a, b) => b.length - a.length);
  const values = known.length ? new RegExp(known.map(escapeRegExp).join('|'), 'g') : null;
  return (text) => {
    let out = values ? text.replace(values, REDACTED) : text;
    for (const [re, to] of SECRET_PATTERNS) out = out.replace(re, to);
    return out;
  };
}

export interface LogOptions {
  clock: Clock;
  level?: LogLevel;
  /** 'pretty' for a person at a terminal; JSON lines otherwise (journald, files, collectors). */
  format?: LogFormat;
  secrets?: string[];
  /** Where lines go (pretty: a writable stream); stdout unless told (tests collect them). */
  destination?: DestinationStream;
}

/** The logger of a process. Its time is the clock's, as an ISO instant. */
export function createLogger(o: LogOptions): Logger {
  const scrub = redactor(o.secrets ?? []);
  // pretty: pino-pretty formats each (redacted) line for a person, onto stdout or the destination given.
  const out: DestinationStream =
    o.format === 'pretty'
      ? pinoPretty()({
          colorize: !o.destination && process.stdout.isTTY,
          translateTime: 'SYS:yyyy-mm-dd HH:MM:ss',
          ignore: 'pid,hostname,component',
          messageFormat: '{if component}{component}: {end}{msg}',
          singleLine: true,
          sync: true,
          ...(o.destination ? { destination: o.destination as NodeJS.WritableStream } : {}),
        })
      : (o.destination ?? pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: o.level ?? 'info',
      base: { pid: process.pid },
      timestamp: () => `,"time":"${o.clock.now().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: REDACTED },
      serializers: { err: pino.stdSerializers.err },
    },
    { write: (line: string) => void out.write(scrub(line)) },
  );
}

/** A logger that hands each message (redacted, without its context) to a function: for tests and tools that collect text. */
export function functionLogger(write: (m: string) => void, clock: Clock, secrets: string[] = []): Logger {
  return createLogger({
    clock,
    level: 'trace',
    secrets,
    destination: { write: (line: string) => write(String((JSON.parse(line) as { msg?: unknown }).msg ?? '')) },
  });
}

/**
 * A `(message) => void` for the modules that log plain text (the bus, inbox, scheduler, lease,
 * dispatcher): each line at a level read from its wording, under the logger's context.
 */
export function textLog(logger: Logger): (m: string) => void {
  return (m) => logger[levelOfText(m)](m);
}

export function levelOfText(m: string): 'info' | 'warn' | 'error' {
  if (/\n\s+at /.test(m)) return 'error';
  const warns =
    /\b(fail(ed|s)?|error|refused|not (handled|answered)|cannot|could not|gave up|stops|closed|reconnecting|no ack|nothing from)\b/i;
  // …and a system error code, such as ECONNREFUSED or ETIMEDOUT (in capitals).
  if (warns.test(m) || /\bE[A-Z]{4,}\b/.test(m)) return 'warn';
  return 'info';
}

/** Milliseconds from a monotonic start, for durations (never wall time). */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}
