import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Bus } from './bot/bus.ts';
import { Inbox } from './bot/inbox.ts';
import { Registry } from './bot/registry.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { connectDatabase, type Db } from './db/client.ts';
import { Lease, type Duties } from './db/lease.ts';
import { Dispatcher, type Sender } from './delivery/dispatcher.ts';
import type { OutboxChannel } from './delivery/outbox.ts';
import { readCampaignFile } from './domain/campaign-file.ts';
import { drawCharts } from './delivery/charts.ts';
import { readCalendarFile, WorkCalendar } from './domain/calendar.ts';
import type { GroupReach } from './delivery/groups.ts';
import { ensureAdmins, seedCampaign } from './domain/seed.ts';
import { createHttpApp } from './http/app.ts';
import { dashboard } from './http/dashboard.ts';
import { wecomCallbacks } from './http/wecom-callbacks.ts';
import { Scheduler } from './schedule/scheduler.ts';
import { AppApi, sendResponseUrl, sendWebhook } from './wecom/api.ts';
import type { LongConnection } from './wecom/longconn.ts';
import { botLongConnection, longconnSender } from './channels/longconn-bot.ts';

export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface Service extends Core {
  dispatcher: Dispatcher;
  scheduler: Scheduler;
  lease: Lease;
  server: Server;
  url: string;
  longConn?: LongConnection;
  close(): Promise<void>;
}

/** How often the leader finishes inbound messages another instance accepted and then died with, and how old they must be. */
const ADOPT_EVERY_MS = 60_000;

export interface Core {
  db: Db;
  bus: Bus;
  inbox: Inbox;
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
  const calendar = new WorkCalendar(readCalendarFile(config.calendarFile));
  const bus = new Bus({
    db,
    clock,
    timeZone: config.timezone,
    locale: config.locale,
    registry,
    calendar,
    log,
    reach: groupReach(config),
  });
  return { db, bus, registry, calendar, inbox: new Inbox({ db, bus, clock, log }) };
}

/**
 * Groups with no robot are spoken to by chatid through the AI bot's long connection when the
 * deployment holds one (and in sandbox mode, which prints every channel).
 */
export const groupReach = (config: Config): GroupReach => ({
  longconn: config.sandbox || !!config.botLongConn,
  sandbox: config.sandbox,
});

/** Senders per outbox channel: the real WeCom ones, or, in sandbox mode, printing. */
export function senders(
  config: Config,
  print: (m: string) => void,
  api = appApi(config),
): Partial<Record<OutboxChannel, Sender>> {
  if (config.sandbox) {
    const printer: Sender = async (row) => {
      // An image's base64 is shortened: the console is for people.
      const payload = row.payload.replace(/("base64":")([^"]{40})[^"]*"/g, '$1$2…"');
      print(`[sandbox → ${row.channel} ${row.target}] ${payload}`);
      return 'printed';
    };
    return { webhook: printer, app: printer, response_url: printer, longconn: printer };
  }
  const base = config.wecomApiBase;
  const out: Partial<Record<OutboxChannel, Sender>> = {
    webhook: async (row) => (await sendWebhook(base, row.target, JSON.parse(row.payload)), 'sent'),
    response_url: async (row) => (await sendResponseUrl(row.target, JSON.parse(row.payload)), 'sent'),
  };
  if (api) out.app = async (row) => (await api.sendMessage(JSON.parse(row.payload)), 'sent');
  return out;
}

/** The self-built app's API client, when configured: one per process, so its token and tickets are cached once. */
export function appApi(config: Config, clock?: Clock): AppApi | undefined {
  const now = clock ? () => clock.now().getTime() : Date.now;
  return (
    config.app &&
    new AppApi(
      {
        apiBase: config.wecomApiBase,
        corpId: config.app.corpId,
        secret: config.app.secret,
        agentId: config.app.agentId,
      },
      now,
    )
  );
}

export async function startService(
  config: Config,
  clock: Clock,
  log: (m: string) => void = console.log,
): Promise<Service> {
  const core = await openCore(config, clock, log);
  const { db, inbox, calendar } = core;
  const api = appApi(config, clock);
  const scheduler = new Scheduler({
    db,
    clock,
    timeZone: config.timezone,
    locale: config.locale,
    calendar,
    log,
    reach: groupReach(config),
  });
  const longConn = config.botLongConn && botLongConnection({ channel: config.botLongConn, inbox, log });
  const lease = new Lease({ db, clock, ttlMs: (config.leaseSeconds ?? 20) * 1000, log });
  const dispatcher = new Dispatcher({
    db,
    clock,
    locale: config.locale,
    log,
    lease,
    senders: { ...senders(config, log, api), ...(longConn ? { longconn: longconnSender(longConn) } : {}) },
    paused: (channel) => channel === 'longconn' && !!longConn && longConn.state !== 'subscribed',
    prepare: drawCharts({ db, clock, locale: config.locale, timeZone: config.timezone }),
  });
  const app = createHttpApp({
    db,
    version: VERSION,
    mode: config.sandbox ? 'sandbox' : 'wecom',
    channels: { bot: !!(config.bot ?? config.botLongConn), app: !!config.app },
    log,
    role: () => (lease.token() === null ? 'follower' : 'leader'),
    routers: [
      wecomCallbacks({
        inbox,
        clock,
        maxSkewSeconds: config.callbackMaxSkewSeconds,
        bot: config.bot,
        app: config.app,
        log,
      }),
      ...dashboard({
        db,
        clock,
        timeZone: config.timezone,
        locale: config.locale,
        calendar,
        sandbox: config.sandbox,
        publicBaseUrl: config.publicBaseUrl,
        sessionSecret: config.sessionSecret,
        app: api,
        log,
      }),
    ],
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, () => resolve(s)).once('error', reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Messages this instance accepted before it was killed; another replica's are adopted by the leader below.
  const resumed = await inbox.resume();
  if (resumed) log(`resumed ${resumed} inbound messages left from the last run`);
  await lease.watch(leaderDuties({ dispatcher, scheduler, inbox, clock, log, ...(longConn ? { longConn } : {}) }));
  return {
    ...core,
    dispatcher,
    scheduler,
    lease,
    server,
    url,
    ...(longConn ? { longConn } : {}),
    async close() {
      await lease.release();
      await longConn?.stop();
      await new Promise<void>((r) => server.close(() => r()));
      await db.$disconnect();
    },
  };
}

/**
 * What only the leader among the replicas does (src/db/lease.ts): send the outbox, run the
 * reminder schedule, hold the bot's long connection (WeCom keeps one per bot and kicks the older),
 * and finish inbound messages an instance accepted and died with. A single instance leads from
 * start to close.
 */
function leaderDuties(o: {
  dispatcher: Dispatcher;
  scheduler: Scheduler;
  inbox: Inbox;
  clock: Clock;
  log: (m: string) => void;
  longConn?: LongConnection;
}): Duties {
  const { dispatcher, scheduler, inbox, clock, log, longConn } = o;
  let adopting: NodeJS.Timeout | null = null;
  const adopt = async () => {
    const n = await inbox.resume(new Date(clock.now().getTime() - ADOPT_EVERY_MS));
    if (n) log(`finished ${n} inbound messages an instance had accepted and not handled`);
  };
  return {
    async gain() {
      // What a previous leader left mid-send: sent again (the one-in-flight bound of the dispatcher).
      const recovered = await dispatcher.recover();
      if (recovered) log(`resumed ${recovered} outbound messages left mid-send`);
      dispatcher.start();
      longConn?.start();
      await scheduler.rollCover(false);
      for (const r of await scheduler.catchUp())
        if (r.state === 'late' || r.state === 'skipped') log(`reminders of ${r.day} missed while down: ${r.state}`);
      scheduler.start();
      adopting = setInterval(() => void adopt().catch((e) => log(`inbound: ${e}`)), ADOPT_EVERY_MS);
    },
    async lose() {
      if (adopting) clearInterval(adopting);
      scheduler.stop();
      dispatcher.stop();
      await longConn?.stop();
    },
  };
}
