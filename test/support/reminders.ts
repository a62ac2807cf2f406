import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { addDays, dayIn, fixedClock } from '../../src/clock.ts';
import { openDatabase, type Db } from '../../src/db/client.ts';
import { Dispatcher, type Sender } from '../../src/delivery/dispatcher.ts';
import { WorkCalendar } from '../../src/domain/calendar.ts';
import { drawCharts } from '../../src/delivery/charts.ts';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { AppApi, sendWebhook } from '../../src/wecom/api.ts';
import { NOW, testDb, TZ, type TestDb } from './db.ts';
import { FakeWeComApi } from './fake-wecom.ts';
import { wecomWire } from '../../src/wecom/messages.ts';

// The scheduler and the dispatcher together, on copies of one demo database, against the fake
// WeCom on loopback. Time only moves when a test moves the clock: nothing here waits for real.

let base: TestDb;
let registry: Registry;
let copies = 0;
export const calendar = new WorkCalendar();
export const KEYS = { leaders: 'demo-webhook-leaders', jtj: 'demo-webhook-jtj', dongping: 'demo-webhook-dongping' };
export const campaignId = () => base.campaignId;

/** Call at the top of a test file: one seeded demo database per file, copied for each world. */
export function reminderWorlds(): void {
  beforeAll(async () => {
    base = await testDb({ demo: true });
    registry = await Registry.load();
  });
  afterAll(async () => {
    for (const w of worlds.splice(0)) await w.close();
    await base.close();
  });
}

/** A seeded generator, so the jitter of every run of these tests is the same. */
export const seeded = (seed: number) => () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
/** 'HH:MM' on a day in Anhua. */
export const at = (day: string, hhmm = '09:00') => new Date(`${day}T${hhmm}:00+08:00`);

export interface World {
  url: string;
  db: Db;
  clock: ReturnType<typeof fixedClock>;
  api: FakeWeComApi;
  scheduler: Scheduler;
  dispatcher: Dispatcher;
  bus: Bus;
  /** A scheduler and a dispatcher as a new process would make them, on their own connection. */
  restart(): { db: Db; scheduler: Scheduler; dispatcher: Dispatcher };
  senders(extra?: (row: Parameters<Sender>[0]) => Promise<void>): { webhook: Sender; app: Sender };
  close(): Promise<void>;
}

const worlds: World[] = [];

/** A fresh copy of the demo database (the seeded state), its own clock and its own fake WeCom. */
export async function world(): Promise<World> {
  const file = join(base.dir, `world-${++copies}.db`);
  await base.db.$executeRawUnsafe(`VACUUM INTO '${file}'`);
  const url = `file:${file}`;
  const clock = fixedClock(NOW);
  const api = new FakeWeComApi('ww-corp', 'secret', () => clock.now().getTime());
  const apiBase = await api.start();
  for (const key of Object.values(KEYS)) api.webhooks.add(key);
  const app = new AppApi({ apiBase, corpId: 'ww-corp', secret: 'secret', agentId: '1000002' }, () =>
    clock.now().getTime(),
  );
  const dbs: Db[] = [];
  const senders: World['senders'] = (extra) => ({
    webhook: async (row) => (
      await sendWebhook(apiBase, row.target, JSON.parse(row.payload)),
      await extra?.(row),
      'sent'
    ),
    app: async (row) => (await app.sendMessage(JSON.parse(row.payload)), await extra?.(row), 'sent'),
  });
  const open = () => {
    const db = openDatabase(url);
    dbs.push(db);
    return {
      db,
      scheduler: new Scheduler({ db, clock, timeZone: TZ, locale: 'zh-CN', calendar, random: seeded(7) }),
      dispatcher: new Dispatcher({
        wire: wecomWire,
        db,
        clock,
        senders: senders(),
        random: seeded(11),
        prepare: drawCharts({ db, clock, locale: 'zh-CN', timeZone: TZ, wire: wecomWire }),
      }),
    };
  };
  const first = open();
  const w: World = {
    url,
    clock,
    api,
    ...first,
    senders,
    restart: open,
    bus: new Bus({ db: first.db, clock, timeZone: TZ, locale: 'zh-CN', registry, calendar }),
    async close() {
      await api.stop();
      for (const db of dbs) await db.$disconnect();
    },
  };
  worlds.push(w);
  return w;
}

/** Runs the reminders of a day as the timer would, at 09:00 (or another time) Beijing time. */
export async function runDay(w: World, day: string, hhmm = '09:00') {
  w.clock.set(at(day, hhmm));
  const [r] = await w.scheduler.runAt(w.clock.now());
  return r!;
}

export const content = (payload: string) => {
  const p = JSON.parse(payload) as Record<string, { content?: string }>;
  return p[String(p.msgtype)]?.content ?? '';
};

/** What the outbox holds for one destination: the day it was queued and its text. */
export async function queued(db: Db, target: string) {
  const rows = await db.outboxMessage.findMany({ where: { target }, orderBy: { id: 'asc' } });
  return rows.map((r) => ({
    id: r.id,
    day: dayIn(r.createdAt, TZ),
    text: content(r.payload),
    nextAttemptAt: r.nextAttemptAt,
    state: r.state,
  }));
}

/** Lets the dispatcher work through `minutes` of simulated time, a tick every 15 s. */
export async function drainFor(w: { clock: World['clock']; dispatcher: Dispatcher }, minutes: number) {
  for (let s = 0; s < minutes * 4; s++) {
    await w.dispatcher.drain();
    w.clock.advance(15_000);
  }
}

/** The most messages any 60 s window saw at one destination, from the fake WeCom's own log. */
export function busiestMinute(api: FakeWeComApi, target: string): number {
  const times = api.calls
    .filter((c) => c.path === '/cgi-bin/webhook/send' && c.target === target && c.errcode === 0)
    .map((c) => c.at);
  return Math.max(0, ...times.map((t0) => times.filter((t) => t >= t0 && t < t0 + 60_000).length));
}

export const unitId = async (db: Db, code: string) => (await db.unit.findFirstOrThrow({ where: { code } })).id;

/** An obligation of a unit, assigned a week before it is due (that is its last reaction). */
export async function obligation(w: World, code: string, title: string, dueOn: string) {
  const o = await w.db.obligation.create({
    data: { campaignId: base.campaignId, unitId: await unitId(w.db, code), title, period: dueOn.slice(0, 4), dueOn },
  });
  await w.db.obligationEvent.create({
    data: { obligationId: o.id, toStatus: 'assigned', at: at(addDays(dueOn, -7), '08:00') },
  });
  return o;
}
