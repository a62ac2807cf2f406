import { renameSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import type { Config } from '../../src/config.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { webhookMarkdown } from '../../src/wecom/messages.ts';
import { readiness, type Readiness } from '../../src/ops/readiness.ts';
import { startService, type Service } from '../../src/service.ts';
import { openChannels } from '../../src/channels/channels.ts';
import { LongConnection } from '../../src/wecom/longconn.ts';
import { testDb, type TestDb } from '../support/db.ts';
import { FakeLongConnServer } from '../support/fake-longconn.ts';
import { appTextXml, botTextMessage, FakeWeComApi, WeComSender } from '../support/fake-wecom.ts';
import { APP, BOT, until, wecomConfig } from '../support/service.ts';

// /healthz, /readyz, /metrics and the domain verification file, over real HTTP on loopback, with
// the fake WeCom API and the fake long-connection server.

const NOW = '2026-11-29T08:00:00+08:00';
const ready = async (url: string) => {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
};
const metrics = async (url: string, init: RequestInit = {}) => {
  const res = await fetch(`${url}/metrics`, init);
  return { status: res.status, text: await res.text() };
};
/** A metric line's value, or undefined when the series is absent. */
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('a service with the AI bot callback and the self-built app', () => {
  let t: TestDb;
  let api: FakeWeComApi;
  let service: Service;
  let bot: WeComSender;
  let app: WeComSender;
  const clock = fixedClock(NOW);

  beforeAll(async () => {
    t = await testDb({ demo: true });
    api = new FakeWeComApi(APP.corpId, 'app-secret', () => clock.now().getTime());
    const config: Config = {
      ...wecomConfig(t, await api.start()),
      host: '0.0.0.0',
      metrics: { enabled: true },
      verifyFile: { name: 'WW_verify_Ab12Cd34.txt', content: 'Ab12Cd34' },
    };
    service = await startService(config, clock, () => {});
    const now = () => clock.now().getTime();
    bot = new WeComSender(service.url, '/wecom/bot', { ...BOT, receiveId: '' }, now);
    app = new WeComSender(service.url, '/wecom/app', { ...APP, receiveId: APP.corpId }, now);
  });

  afterAll(async () => {
    await service?.close();
    await api?.stop();
    await t?.close();
  });

  it('/healthz: alive, with version, mode, channels and role', async () => {
    const res = await fetch(`${service.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, mode: 'wecom', role: 'leader', database: 'ok' });
  });

  it('/readyz: ready, with the database, migrations, channels, role and the start-up sweep', async () => {
    const { status, body } = await ready(service.url);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ready: true,
      problems: [],
      role: 'leader',
      database: { reachable: true, migrations: { pending: [] } },
      channels: { bot: { status: 'up', state: 'callback' }, app: { status: 'unknown', lastTokenFetch: null } },
      outbox: { pending: 0, oldestPendingSeconds: null },
      // Started on a Sunday: the catch-up at start was the sweep, with nothing due.
      lastReminderSweep: { at: new Date(NOW).toISOString(), ok: true, queued: 0 },
    });
    expect(body.database.migrations!.applied).toBeGreaterThan(0);
  });

  it('/readyz: the outbox backlog by channel and its oldest age, and permanent failures of the last 24 h', async () => {
    const at = (minutesAgo: number) => new Date(clock.now().getTime() - minutesAgo * 60_000);
    const later = new Date(clock.now().getTime() + 86_400_000); // not due: the dispatcher leaves them
    const rows = [
      { state: 'pending', createdAt: at(10), nextAttemptAt: later },
      { state: 'pending', createdAt: at(2), nextAttemptAt: later },
      { state: 'failed', createdAt: at(120), nextAttemptAt: at(119) },
      { state: 'failed', createdAt: at(3 * 1440), nextAttemptAt: at(3 * 1440) },
      { state: 'sent', createdAt: at(5), nextAttemptAt: at(5), sentAt: at(5) },
    ];
    const made = await Promise.all(
      rows.map((r) => t.db.outboxMessage.create({ data: { channel: 'webhook', target: 'k', payload: '{}', ...r } })),
    );
    try {
      const { body } = await ready(service.url);
      expect(body.outbox).toEqual({
        pending: 2,
        oldestPendingSeconds: 600,
        byChannel: { webhook: { pending: 2, oldestPendingSeconds: 600 } },
        failedLast24h: 1,
      });
    } finally {
      await t.db.outboxMessage.deleteMany({ where: { id: { in: made.map((m) => m.id) } } });
    }
  });

  it('/readyz: 503 naming the migrations a database lacks', async () => {
    const [last] = await t.db.$queryRawUnsafe<{ id: string; migration_name: string }[]>(
      'SELECT id, migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1',
    );
    await t.db.$executeRawUnsafe('UPDATE _prisma_migrations SET finished_at = NULL WHERE id = ?', last!.id);
    try {
      const { status, body } = await ready(service.url);
      expect(status).toBe(503);
      expect(body.database.migrations!.pending).toEqual([last!.migration_name]);
      expect(body.problems).toEqual([`migrations not applied: ${last!.migration_name}`]);
    } finally {
      await t.db.$executeRawUnsafe('UPDATE _prisma_migrations SET finished_at = started_at WHERE id = ?', last!.id);
    }
    expect((await ready(service.url)).status).toBe(200);
  });

  it('/readyz: the last access-token fetch of the app once it sent', async () => {
    const xml = appTextXml({
      corpId: APP.corpId,
      from: 'demo-leader',
      text: '/我是谁',
      msgId: '7001',
      createTime: Math.floor(clock.now().getTime() / 1000),
    });
    expect((await app.postApp(xml)).status).toBe(200);
    await until(() => api.delivered.some((d) => d.kind === 'app' && d.target === 'demo-leader'), 'the app reply');
    const { body } = await ready(service.url);
    expect(body.channels.app).toEqual({
      status: 'up',
      lastTokenFetch: { at: clock.now().toISOString(), ok: true },
    });
  });

  it('/metrics: inbound messages by channel and outcome, command latency, sends and 45009 answers', async () => {
    const before = await metrics(service.url);
    expect(before.status).toBe(200);
    // What a reverse proxy on this machine relays comes over loopback too: not for it.
    expect((await metrics(service.url, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(403);
    expect((await metrics(service.url, { headers: { forwarded: 'for=203.0.113.9' } })).status).toBe(403);
    const okBefore = value(before.text, 'anze_inbound_messages_total{channel="bot",outcome="ok"}') ?? 0;

    const msg = botTextMessage({ msgid: 'm-metrics-1', userid: 'demo-leader', text: '@安责险助手 /覆盖率' });
    expect((await bot.postBot(msg)).status).toBe(200);
    expect((await bot.postBot(msg)).status).toBe(200); // WeCom's retry: answered from the inbox
    expect((await bot.postBot(msg, { msg_signature: 'bad' })).status).toBe(403);

    api.webhooks.add('robot-key-metrics');
    api.failNext.push(45009);
    await enqueue(t.db, webhookMarkdown('robot-key-metrics', '限流测试'), clock);
    await until(() => api.calls.some((c) => c.errcode === 45009), 'the 45009 answer');

    const { text } = await metrics(service.url);
    expect(value(text, 'anze_inbound_messages_total{channel="bot",outcome="ok"}')).toBe(okBefore + 1);
    expect(value(text, 'anze_inbound_messages_total{channel="bot",outcome="duplicate"}')).toBe(1);
    expect(value(text, 'anze_inbound_messages_total{channel="bot",outcome="refused"}')).toBe(1);
    expect(value(text, 'anze_command_duration_seconds_count{command="coverage"}')).toBe(1);
    expect(value(text, 'anze_wecom_rate_limited_total{channel="webhook"}')).toBe(1);
    expect(value(text, 'anze_outbox_sends_total{channel="webhook",result="error"}')).toBe(1);
    expect(value(text, 'anze_outbox_sends_total{channel="app",result="sent"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'anze_outbox_messages{channel="webhook",state="pending"}')).toBe(1);
    expect(value(text, 'anze_lease_leader')).toBe(1);
    expect(value(text, 'anze_reminder_sweep_duration_seconds_count')).toBe(1);
    // Callback mode: no long connection to report.
    expect(text).not.toContain('anze_longconn_up ');
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

  it.skipIf(!external)('/metrics without a token: refused to anyone but this machine', async () => {
    const port = new URL(service.url).port;
    const res = await fetch(`http://${external}:${port}/metrics`);
    expect(res.status).toBe(403);
    expect((await fetch(`http://${external}:${port}/readyz`)).status).toBe(200);
  });

  it("serves WeCom's domain verification file at its name", async () => {
    const res = await fetch(`${service.url}/WW_verify_Ab12Cd34.txt`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Ab12Cd34');
    expect((await fetch(`${service.url}/WW_verify_other.txt`)).status).toBe(404);
  });
});

describe('a service holding the long connection', () => {
  const BOT_WS = { botId: 'aibot-ops', secret: 'bot-ops-secret' };
  const TOKEN = 'metrics-token-0123456789abcdef';
  let t: TestDb;
  let api: FakeWeComApi;
  let fake: FakeLongConnServer;
  let service: Service;
  let app: WeComSender;
  const clock = fixedClock(NOW);

  beforeAll(async () => {
    t = await testDb({ demo: true });
    // The app's secret is not the one WeCom knows: its token fetches fail.
    api = new FakeWeComApi(APP.corpId, 'the-right-secret', () => clock.now().getTime());
    fake = new FakeLongConnServer({ [BOT_WS.botId]: BOT_WS.secret });
    const config: Config = {
      ...wecomConfig(t, await api.start()),
      bot: undefined,
      botLongConn: { ...BOT_WS, url: await fake.start() },
      leaseSeconds: 3600, // the test moves the clock on by minutes
      readyMaxDownSeconds: 300,
      metrics: { enabled: true, token: TOKEN },
    };
    service = await startService(config, clock, () => {}, {
      longConn: { heartbeatMs: 1000, ackTimeoutMs: 3000, backoffBaseMs: 20, backoffMaxMs: 200 },
    });
    app = new WeComSender(service.url, '/wecom/app', { ...APP, receiveId: APP.corpId }, () => clock.now().getTime());
  });

  afterAll(async () => {
    await service?.close();
    await fake?.stop();
    await api?.stop();
    await t?.close();
  });

  it('/readyz: the long connection subscribed', async () => {
    await until(() => service.longConn!.state === 'subscribed', 'the subscription');
    const { status, body } = await ready(service.url);
    expect(status).toBe(200);
    expect(body.channels.longconn).toMatchObject({
      status: 'up',
      state: 'subscribed',
      reconnects: 0,
      lastSubscribedAt: clock.now().toISOString(),
    });
  });

  it('/readyz: an app whose access token fails is down, and ready until that lasts READY_MAX_DOWN_SECONDS', async () => {
    const xml = appTextXml({
      corpId: APP.corpId,
      from: 'demo-leader',
      text: '/我是谁',
      msgId: '7002',
      createTime: Math.floor(clock.now().getTime() / 1000),
    });
    expect((await app.postApp(xml)).status).toBe(200);
    await until(() => api.calls.some((c) => c.path === '/cgi-bin/gettoken' && c.errcode === 40001), 'a refused fetch');
    const { status, body } = await ready(service.url);
    expect(status).toBe(200);
    expect(body.channels.app).toEqual({
      status: 'down',
      downSeconds: 0,
      lastTokenFetch: { at: clock.now().toISOString(), ok: false, error: 'WeCom errcode 40001: invalid credential' },
    });
  });

  it('/readyz: the long connection lost is down at once, and 503 once down longer than READY_MAX_DOWN_SECONDS', async () => {
    await fake.stop();
    await until(() => service.longConn!.state !== 'subscribed', 'the loss');
    const first = await ready(service.url);
    expect(first.status).toBe(200);
    expect(first.body.channels.longconn).toMatchObject({ status: 'down', downSeconds: 0 });

    clock.advance(301_000);
    const { status, body } = await ready(service.url);
    expect(status).toBe(503);
    expect(body.ready).toBe(false);
    expect(body.channels.longconn).toMatchObject({ status: 'down', downSeconds: 301 });
    expect(body.problems).toEqual([
      expect.stringMatching(/^long connection (waiting|connecting) for 301 s$/),
      'self-built app: access token failing for 301 s',
    ]);
    expect(body.role).toBe('leader');
    // Nothing secret in it.
    const raw = JSON.stringify(body);
    for (const secret of [BOT_WS.secret, 'app-secret', APP.token, APP.encodingAesKey, TOKEN])
      expect(raw).not.toContain(secret);
  });

  it('/metrics behind METRICS_TOKEN: refused without it or with another, served with it', async () => {
    await until(() => service.longConn!.reconnects >= 1, 'a reconnection attempt');
    expect((await metrics(service.url)).status).toBe(401);
    expect(
      (await metrics(service.url, { headers: { authorization: 'Bearer wrong-token-0123456789abcd' } })).status,
    ).toBe(401);
    const { status, text } = await metrics(service.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(status).toBe(200);
    expect(value(text, 'anze_longconn_up')).toBe(0);
    expect(value(text, 'anze_longconn_reconnects_total')).toBeGreaterThanOrEqual(1);
  });
});

describe('a service whose long connection another one took over', () => {
  const BOT_WS = { botId: 'aibot-kicked', secret: 'bot-kicked-secret' };
  let t: TestDb;
  let fake: FakeLongConnServer;
  let service: Service;
  let other: LongConnection;
  const clock = fixedClock(NOW);

  beforeAll(async () => {
    t = await testDb();
    fake = new FakeLongConnServer({ [BOT_WS.botId]: BOT_WS.secret });
    const url = await fake.start();
    service = await startService(
      {
        ...wecomConfig(t, 'http://127.0.0.1:9'),
        bot: undefined,
        app: undefined,
        botLongConn: { ...BOT_WS, url },
        leaseSeconds: 3600,
        readyMaxDownSeconds: 60,
      },
      clock,
      () => {},
    );
    other = new LongConnection({ url, ...BOT_WS, onCallback: () => {}, log: () => {} });
  });
  afterAll(async () => {
    await other?.stop();
    await service?.close();
    await fake?.stop();
    await t?.close();
  });

  it('/readyz: kicked, down, and 503 once that lasts READY_MAX_DOWN_SECONDS', async () => {
    await until(() => service.longConn!.state === 'subscribed', 'the subscription');
    clock.advance(30_000);
    other.start(); // the same bot subscribing elsewhere: WeCom drops ours
    await until(() => service.longConn!.state === 'kicked', 'the kick');
    const first = await ready(service.url);
    expect(first.status).toBe(200);
    expect(first.body.channels.longconn).toMatchObject({
      status: 'down',
      state: 'kicked',
      since: clock.now().toISOString(),
      downSeconds: 0,
    });
    clock.advance(60_000);
    const { status, body } = await ready(service.url);
    expect(status).toBe(503);
    expect(body.problems).toEqual(['long connection kicked for 60 s']);
  });
});

describe('/metrics off, and a service bound to 127.0.0.1', () => {
  let t: TestDb;
  let service: Service;

  beforeAll(async () => {
    t = await testDb();
    service = await startService(
      { ...wecomConfig(t, 'http://127.0.0.1:9'), app: undefined, host: '127.0.0.1' },
      t.clock,
      () => {},
    );
  });
  afterAll(async () => {
    await service?.close();
    await t?.close();
  });

  it('listens on HOST only', () => {
    expect((service.server.address() as AddressInfo).address).toBe('127.0.0.1');
  });

  it('is not served unless enabled', async () => {
    expect((await metrics(service.url)).status).toBe(404);
  });

  it('/readyz: a follower leaves the long connection to the leader: standby, and ready', async () => {
    const config: Config = {
      ...wecomConfig(t, 'http://127.0.0.1:9'),
      bot: undefined,
      app: undefined,
      botLongConn: { botId: 'b', secret: 's', url: 'ws://127.0.0.1:9' },
    };
    const r = await readiness({
      db: t.db,
      clock: t.clock,
      config,
      role: () => 'follower',
      channels: openChannels({ config, clock: t.clock, log: () => () => {}, inbox: service.inbox }),
      lastSweep: () => null,
      startedAt: 0,
    });
    expect(r).toMatchObject({
      ready: true,
      role: 'follower',
      channels: { longconn: { status: 'standby', state: 'idle', reconnects: 0, lastSubscribedAt: null } },
      lastReminderSweep: null,
    });
  });

  it('/readyz: 503 while the database cannot be reached (its volume gone), ready again once it is back', async () => {
    await service.db.$disconnect();
    renameSync(t.dir, `${t.dir}-away`);
    try {
      const { status, body } = await ready(service.url);
      expect(status).toBe(503);
      expect(body).toMatchObject({ ready: false, problems: ['database unreachable'], database: { reachable: false } });
      expect(body.database.error).toEqual(expect.any(String));
      expect(body.outbox).toBeUndefined();
      // Still alive: the process serves.
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    } finally {
      await service.db.$disconnect();
      renameSync(`${t.dir}-away`, t.dir);
    }
    expect((await ready(service.url)).status).toBe(200);
  });
});
