import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Bus } from './bot/bus.ts';
import { Inbox } from './bot/inbox.ts';
import { Registry } from './bot/registry.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { openDatabase, type Db } from './db/client.ts';
import { Dispatcher, type Sender } from './delivery/dispatcher.ts';
import type { OutboxChannel } from './delivery/outbox.ts';
import { readCampaignFile } from './domain/campaign-file.ts';
import { readCalendarFile, WorkCalendar } from './domain/calendar.ts';
import { ensureAdmins, seedCampaign } from './domain/seed.ts';
import { createHttpApp } from './http/app.ts';
import { wecomCallbacks } from './http/wecom-callbacks.ts';
import { Scheduler } from './schedule/scheduler.ts';
import { AppApi, sendResponseUrl, sendWebhook } from './wecom/api.ts';

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Service extends Core { dispatcher: Dispatcher; scheduler: Scheduler; server: Server; url: string; close(): Promise<void> }

export interface Core { db: Db; bus: Bus; inbox: Inbox; registry: Registry; calendar: WorkCalendar }

/** Database, campaign, admins, commands: what the service and the sandbox chat share. */
export async function openCore(config: Config, clock: Clock, log: (m: string) => void): Promise<Core> {
  const db = openDatabase(config.databaseUrl);
  if ((await db.campaign.count()) === 0) {
    const r = await seedCampaign(db, readCampaignFile(), clock, config.timezone);
    log(`loaded the default campaign (${r.sectors} sectors, ${r.units} units)`);
  }
  await ensureAdmins(db, config.admins);
  const registry = await Registry.load();
  const calendar = new WorkCalendar(readCalendarFile(config.calendarFile));
  const bus = new Bus({ db, clock, timeZone: config.timezone, locale: config.locale, registry, calendar, log });
  return { db, bus, registry, calendar, inbox: new Inbox({ db, bus, clock, log }) };
}

/** Senders per outbox channel: the real WeCom ones, or, in sandbox mode, printing. */
export function senders(config: Config, print: (m: string) => void): Partial<Record<OutboxChannel, Sender>> {
  if (config.sandbox) {
    const printer: Sender = async (row) => {
      print(`[sandbox → ${row.channel} ${row.target}] ${row.payload}`);
      return 'printed';
    };
    return { webhook: printer, app: printer, response_url: printer };
  }
  const base = config.wecomApiBase;
  const out: Partial<Record<OutboxChannel, Sender>> = {
    webhook: async (row) => (await sendWebhook(base, row.target, JSON.parse(row.payload)), 'sent'),
    response_url: async (row) => (await sendResponseUrl(row.target, JSON.parse(row.payload)), 'sent'),
  };
  if (config.app) {
    const api = new AppApi({ apiBase: base, corpId: config.app.corpId, secret: config.app.secret, agentId: config.app.agentId });
    out.app = async (row) => (await api.sendMessage(JSON.parse(row.payload)), 'sent');
  }
  return out;
}

export async function startService(config: Config, clock: Clock, log: (m: string) => void = console.log): Promise<Service> {
  const core = await openCore(config, clock, log);
  const { db, inbox, calendar } = core;
  const scheduler = new Scheduler({ db, clock, timeZone: config.timezone, locale: config.locale, calendar, log });
  const dispatcher = new Dispatcher({ db, clock, senders: senders(config, log), locale: config.locale, log });
  const app = createHttpApp({
    db, version: VERSION, mode: config.sandbox ? 'sandbox' : 'wecom', channels: { bot: !!config.bot, app: !!config.app }, log,
    routers: [wecomCallbacks({ inbox, clock, maxSkewSeconds: config.callbackMaxSkewSeconds, bot: config.bot, app: config.app, log })],
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, () => resolve(s)).once('error', reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const recovered = await dispatcher.recover();
  const resumed = await inbox.resume();
  if (recovered || resumed) log(`resumed ${resumed} inbound and ${recovered} outbound messages left from the last run`);
  dispatcher.start();
  for (const r of await scheduler.catchUp()) if (r.state === 'late' || r.state === 'skipped') log(`reminders of ${r.day} missed while down: ${r.state}`);
  scheduler.start();
  return {
    ...core, dispatcher, scheduler, server, url,
    async close() {
      scheduler.stop();
      dispatcher.stop();
      await new Promise<void>((r) => server.close(() => r()));
      await db.$disconnect();
    },
  };
}
