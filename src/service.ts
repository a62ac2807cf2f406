import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { JobRunner, JobStreams } from './bot/jobs.ts';
import { Registry } from './bot/registry.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { connectDatabase, type Db } from './db/client.ts';
import { Lease, type Duties } from './db/lease.ts';
import { Dispatcher } from './delivery/dispatcher.ts';
import type { OutboxChannel } from './core/outbound.ts';
import { readCampaignFile } from './domain/campaign-file.ts';
import { recoverImports } from './domain/import-run.ts';
import { drawCharts } from './delivery/charts.ts';
import { readCalendarFile, WorkCalendar } from './domain/calendar.ts';
import type { GroupReach } from './delivery/groups.ts';
import { ensureAdmins, seedCampaign } from './domain/seed.ts';
import { createHttpApp } from './http/app.ts';
import { dashboard } from './http/dashboard.ts';
import { opsRoutes } from './http/ops.ts';
import { configSecrets, createLogger, functionLogger, textLog, type Logger } from './log.ts';
import { readiness } from './ops/readiness.ts';
import { ObservedBus, ObservedInbox, ObservedScheduler, Telemetry } from './ops/telemetry.ts';
import type { Scheduler } from './schedule/scheduler.ts';
import type { Inbox } from './bot/inbox.ts';
import type { LongConnection } from './wecom/longconn.ts';
import type { LongConnTuning } from './channels/longconn-bot.ts';
import { appApi } from './channels/app.ts';
import type { Channel } from './channels/channel.ts';
import { perMinuteOf, sendersOf } from './channels/channel.ts';
import { openChannels } from './channels/channels.ts';
import { useProxy } from './wecom/proxy.ts';
import { wecomWire } from './wecom/messages.ts';

export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface Service extends Core {
  dispatcher: Dispatcher;
  jobs: JobRunner;
  scheduler: Scheduler;
  lease: Lease;
  server: Server;
  url: string;
  longConn?: LongConnection;
  logger: Logger;
  telemetry: Telemetry;
  close(): Promise<void>;
}

/** How often the leader finishes inbound messages another instance accepted and then died with, and how old they must be. */
const ADOPT_EVERY_MS = 60_000;

export interface Core {
  db: Db;
  bus: ObservedBus;
  inbox: ObservedInbox;
  registry: Registry;
  calendar: WorkCalendar;
}

/** Database, campaign, admins, commands: what the service and the sandbox chat share. */
export async function openCore(config: Config, clock: Clock, log: (m: string) => void): Promise<Core> {
  const db = await connectDatabase(config.databaseUrl);
  if ((await db.campaign.count()) === 0) {
    const r = await seedCampaign(db, readCampaignFile(), clock, config.timezone);
    log(`loaded the default campaign (${r.sectors} sectors, ${r.units} units)`);
  }
  await ensureAdmins(db, config.admins);
  const registry = await Registry.load();
  const calendar = workCalendar(config);
  const bus = commandBus(config, { db, clock, registry, calendar, log });
  return { db, bus, registry, calendar, inbox: new ObservedInbox({ db, bus, clock, log }) };
}

/** The working days of the configuration's calendar file (holidays and make-up days). */
export const workCalendar = (config: Config): WorkCalendar => new WorkCalendar(readCalendarFile(config.calendarFile));

/** The command bus as the service runs it: the configuration's time zone, language, calendar and reach. */
export function commandBus(
  config: Config,
  o: { db: Db; clock: Clock; registry: Registry; calendar?: WorkCalendar; log?: (m: string) => void },
): ObservedBus {
  return new ObservedBus({
    db: o.db,
    clock: o.clock,
    timeZone: config.timezone,
    locale: config.locale,
    registry: o.registry,
    calendar: o.calendar ?? workCalendar(config),
    reach: groupReach(config),
    ...(o.log ? { log: o.log } : {}),
  });
}

/**
 * Groups with no robot are spoken to by chatid through the AI bot's long connection when the
 * deployment holds one (and in sandbox mode, which prints every channel).
 */
export const groupReach = (config: Config): GroupReach => ({
  longconn: config.sandbox || !!config.botLongConn,
  sandbox: config.sandbox,
  wire: wecomWire,
});

/** The process's logger as the configuration asks (LOG_LEVEL, LOG_FORMAT), its secrets redacted. */
export function serviceLogger(config: Config, clock: Clock): Logger {
  return createLogger({
    clock,
    level: config.logLevel ?? 'info',
    format: config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    secrets: configSecrets(config),
  });
}

/**
 * Starts the service. `output` is its logger (by default as the configuration asks), or a
 * function that collects the text of each line (tests); `options` tunes the long connection's timings (tests).
 */
export async function startService(
  config: Config,
  clock: Clock,
  output?: Logger | ((m: string) => void),
  options: { longConn?: LongConnTuning } = {},
): Promise<Service> {
  const logger =
    typeof output === 'function'
      ? functionLogger(output, clock, configSecrets(config))
      : (output ?? serviceLogger(config, clock));
  const text = (component: string) => textLog(logger.child({ component }));
  useProxy(config.proxy);
  // All of it, for an operator chasing a setting: the redaction takes the secrets out (src/log.ts).
  logger.debug({ config }, 'configuration');
  const core = await openCore(config, clock, text('bot'));
  const { db, inbox, calendar, bus } = core;
  const api = appApi(config, clock);
  const scheduler = new ObservedScheduler({
    db,
    clock,
    timeZone: config.timezone,
    locale: config.locale,
    calendar,
    log: text('scheduler'),
    reach: groupReach(config),
    cjkFont: config.cjkFont,
  });
  const lease = new Lease({ db, clock, ttlMs: (config.leaseSeconds ?? 20) * 1000, log: text('lease') });
  const role = () => (lease.token() === null ? ('follower' as const) : ('leader' as const));
  // Told of refused callbacks before the telemetry exists: the channels are built first, since the
  // telemetry watches the long connection.
  let refused = (_channel: 'bot' | 'app') => {};
  const channels = openChannels({
    config,
    clock,
    log: text,
    db,
    inbox,
    streams: new JobStreams({ db, clock }),
    ...(api ? { api } : {}),
    ...(options.longConn ? { tuning: options.longConn } : {}),
    onRefused: (channel) => refused(channel),
  });
  const longConn = channels.find((c): c is Channel & { connection: LongConnection } => 'connection' in c)?.connection;
  const telemetry = new Telemetry({
    db,
    clock,
    logger: logger.child({ component: 'ops' }),
    role,
    longConn,
  });
  refused = (channel) => telemetry.refused(channel);
  bus.telemetry = telemetry;
  inbox.telemetry = telemetry;
  scheduler.telemetry = telemetry;
  const log = text('service');
  const jobs = new JobRunner({
    db,
    registry: core.registry,
    clock,
    timeZone: config.timezone,
    databaseUrl: config.databaseUrl,
    reach: groupReach(config),
    cjkFont: config.cjkFont,
    log: text('jobs'),
    // The long connection's finishing frames: a slow command's result in the reply that asked for it.
    pushStream: channels.find((c) => c.pushStream)?.pushStream,
  });
  const dispatcher = new Dispatcher({
    wire: { ...wecomWire, perMinute: perMinuteOf(channels) },
    db,
    clock,
    locale: config.locale,
    log: text('outbox'),
    lease,
    senders: Object.fromEntries(
      Object.entries(sendersOf(channels)).map(([channel, send]) => [
        channel,
        telemetry.countSender(channel as OutboxChannel, send),
      ]),
    ),
    paused: (channel) => channels.some((c) => c.senders[channel] && c.paused?.()),
    prepare: drawCharts({
      db,
      clock,
      locale: config.locale,
      timeZone: config.timezone,
      wire: wecomWire,
      cjkFont: config.cjkFont,
    }),
  });
  const startedAt = clock.now().getTime();
  const app = createHttpApp({
    db,
    version: VERSION,
    mode: config.sandbox ? 'sandbox' : 'wecom',
    channels: { bot: !!(config.bot ?? config.botLongConn), app: !!config.app },
    logger: logger.child({ component: 'http' }),
    role,
    routers: [
      opsRoutes({
        readiness: () =>
          readiness({
            db,
            clock,
            config,
            role,
            startedAt,
            lastSweep: () => telemetry.lastSweep,
            channels,
          }),
        ...(config.metrics?.enabled
          ? {
              metrics: {
                registry: telemetry.registry,
                ...(config.metrics.token ? { token: config.metrics.token } : {}),
              },
            }
          : {}),
        ...(config.verifyFile ? { verifyFile: config.verifyFile } : {}),
      }),
      ...channels.flatMap((c) => (c.routes ? [c.routes] : [])),
      ...dashboard({
        db,
        clock,
        timeZone: config.timezone,
        locale: config.locale,
        calendar,
        sandbox: config.sandbox,
        publicBaseUrl: config.publicBaseUrl,
        oauthBase: config.wecomOauthBase,
        sessionSecret: config.sessionSecret,
        app: api,
        log: text('dashboard'),
      }),
    ],
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s)).once('error', reject);
  });
  const url = `http://${localAddress(config.host)}:${(server.address() as AddressInfo).port}`;

  // Messages this instance accepted before it was killed; another replica's are adopted by the leader below.
  const resumed = await inbox.resume();
  if (resumed) log(`resumed ${resumed} inbound messages left from the last run`);
  await lease.watch(leaderDuties({ db, dispatcher, scheduler, jobs, inbox, clock, log, channels }));
  return {
    ...core,
    dispatcher,
    jobs,
    scheduler,
    lease,
    server,
    url,
    ...(longConn ? { longConn } : {}),
    logger,
    telemetry,
    async close() {
      await lease.release();
      for (const c of channels) await c.stop?.();
      await jobs.close();
      await new Promise<void>((r) => server.close(() => r()));
      await db.$disconnect();
    },
  };
}

/** Where this machine reaches a server bound to `host`: loopback for all interfaces. */
function localAddress(host: string | undefined): string {
  if (!host || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * What only the leader among the replicas does (src/db/lease.ts): send the outbox, run the
 * reminder schedule and the slow commands' jobs, hold the bot's long connection (WeCom keeps one per bot and kicks the older),
 * and finish inbound messages an instance accepted and died with. A single instance leads from
 * start to close.
 */
function leaderDuties(o: {
  db: Db;
  dispatcher: Dispatcher;
  scheduler: Scheduler;
  jobs: JobRunner;
  inbox: Inbox;
  clock: Clock;
  log: (m: string) => void;
  channels: readonly Channel[];
}): Duties {
  const { db, dispatcher, scheduler, jobs, inbox, clock, log, channels } = o;
  let adopting: NodeJS.Timeout | null = null;
  const adopt = async () => {
    const n = await inbox.resume(new Date(clock.now().getTime() - ADOPT_EVERY_MS));
    if (n) log(`finished ${n} inbound messages an instance had accepted and not handled`);
  };
  return {
    async gain() {
      // What a predecessor left (mid-send messages, half-done imports, missed reminder days) is
      // recovered first, each step on its own: one that fails is logged and the leader's work
      // still starts, or a single bad row would leave the outbox, the schedule and the jobs idle.
      const attempt = async (what: string, step: () => Promise<unknown>) =>
        step().catch((e: unknown) =>
          log(`${what} failed (the leader's work starts anyway): ${(e as Error).stack ?? e}`),
        );
      await attempt('resuming the outbox', async () => {
        // What a previous leader left mid-send: sent again (the one-in-flight bound of the dispatcher).
        const recovered = await dispatcher.recover();
        if (recovered) log(`resumed ${recovered} outbound messages left mid-send`);
      });
      await attempt('recovering imports', async () => {
        // Roster imports whose process died: completed when every row was staged, else rolled back.
        const imports = await recoverImports(db, clock);
        for (const id of imports.completed) log(`completed import run ${id}, left staged by a process that stopped`);
        for (const id of imports.rolledBack)
          log(`rolled back import run ${id}, left half-read by a process that stopped`);
      });
      dispatcher.start();
      for (const c of channels) c.start?.();
      await attempt('rolling the kept cover', () => scheduler.rollCover(false));
      await attempt('catching up on reminders', async () => {
        for (const r of await scheduler.catchUp())
          if (r.state === 'late' || r.state === 'skipped') log(`reminders of ${r.day} missed while down: ${r.state}`);
      });
      scheduler.start();
      await jobs.start();
      adopting = setInterval(() => void adopt().catch((e) => log(`inbound: ${e}`)), ADOPT_EVERY_MS);
    },
    async lose() {
      if (adopting) clearInterval(adopting);
      scheduler.stop();
      dispatcher.stop();
      await jobs.close();
      for (const c of channels) await c.stop?.();
    },
  };
}
