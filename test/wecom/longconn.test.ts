import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Inbox } from '../../src/bot/inbox.ts';
import { Registry } from '../../src/bot/registry.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { type Outbound } from '../../src/core/outbound.ts';
import { longconnMarkdown, wecomWire } from '../../src/wecom/messages.ts';
import { readCalendarFile, WorkCalendar } from '../../src/domain/calendar.ts';
import { instantAt, Scheduler } from '../../src/schedule/scheduler.ts';
import { minuteIn } from '../../src/clock.ts';
import { startService, type Service } from '../../src/service.ts';
import type { LongConnection } from '../../src/wecom/longconn.ts';
import {
  botLongConnection,
  longconnSender,
  mediaUploader,
  type LongConnTuning,
} from '../../src/channels/longconn-bot.ts';
import { testConfig, testDb, TZ, type TestDb } from '../support/db.ts';
import { FAST_TUNING, FakeLongConnServer, TEST_BOT } from '../support/fake-longconn.ts';
import { botTextMessage } from '../support/fake-wecom.ts';

const BOT = TEST_BOT;
const FAST = FAST_TUNING;

let t: TestDb;
let fake: FakeLongConnServer;
let url: string;
let registry: Registry;
const clients: LongConnection[] = [];

beforeAll(async () => {
  t = await testDb({ demo: true });
  registry = await Registry.load();
  fake = new FakeLongConnServer({ [BOT.botId]: BOT.secret });
  url = await fake.start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop();
});

afterAll(async () => {
  await fake?.stop();
  await t?.close();
});

/** A long-connection client over the test database, as the service builds it, with fast timings. */
function client(logs: string[] = [], tuning: LongConnTuning = {}, secret = BOT.secret): LongConnection {
  const bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry });
  const conn = botLongConnection({
    channel: { ...BOT, secret, url },
    inbox: new Inbox({ db: t.db, bus, clock: t.clock }),
    log: (m) => logs.push(m),
    tuning: { ...FAST, ...tuning },
  });
  clients.push(conn);
  return conn;
}

const holder = () => fake.current(BOT.botId);
const subscribed = (conn: LongConnection, after = 0) =>
  fake.until(
    () => conn.state === 'subscribed' && (holder()?.id ?? 0) > after && holder(),
    'the client to (re)subscribe',
  );

/** Polls the database (async probes) until a row appears. */
async function until<T>(probe: () => Promise<T | null>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Pushes a text message and waits for the respond frame answering it. */
async function ask(msgid: string, userid: string, text: string, chatid?: string) {
  const reqId = fake.pushMessage(BOT.botId, botTextMessage({ msgid, userid, text, ...(chatid ? { chatid } : {}) }));
  const frame = await fake.until(() => fake.frames('aibot_respond_msg', reqId)[0], `the reply to ${msgid}`);
  return frame.body as { msgtype: string; stream: { id: string; finish: boolean; content: string } };
}

describe('configuration of the long connection', () => {
  it('is selected by WECOM_BOT_MODE=websocket with the bot id and secret, on the default URL', () => {
    const c = loadConfig({ WECOM_BOT_MODE: 'websocket', WECOM_BOT_ID: 'b', WECOM_BOT_SECRET: 's' });
    expect(c.botLongConn).toEqual({ botId: 'b', secret: 's', url: 'wss://openws.work.weixin.qq.com' });
    expect(c.bot).toBeUndefined();
    expect(c.sandbox).toBe(false);
    expect(
      loadConfig({
        WECOM_BOT_MODE: 'websocket',
        WECOM_BOT_ID: 'b',
        WECOM_BOT_SECRET: 's',
        WECOM_BOT_WS_URL: 'wss://ws.gov.example',
      }).botLongConn?.url,
    ).toBe('wss://ws.gov.example');
    expect(loadConfig({}).botLongConn).toBeUndefined();
  });

  it('stops start-up naming what is missing or misplaced', () => {
    expect(() => loadConfig({ WECOM_BOT_MODE: 'websocket' })).toThrow(/WECOM_BOT_ID and WECOM_BOT_SECRET/);
    expect(() => loadConfig({ WECOM_BOT_MODE: 'websocket', WECOM_BOT_ID: 'b' })).toThrow(
      /half-configured: set WECOM_BOT_SECRET/,
    );
    expect(() => loadConfig({ WECOM_BOT_ID: 'b', WECOM_BOT_SECRET: 's' })).toThrow(/WECOM_BOT_MODE=websocket/);
    expect(() =>
      loadConfig({
        WECOM_BOT_MODE: 'websocket',
        WECOM_BOT_ID: 'b',
        WECOM_BOT_SECRET: 's',
        WECOM_BOT_TOKEN: 't',
        WECOM_BOT_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
      }),
    ).toThrow(/WECOM_BOT_TOKEN, WECOM_BOT_AES_KEY are for WECOM_BOT_MODE=callback/);
    expect(() => loadConfig({ WECOM_BOT_MODE: 'stream' })).toThrow(/^WECOM_BOT_MODE: /);
    expect(() =>
      loadConfig({
        WECOM_BOT_MODE: 'websocket',
        WECOM_BOT_ID: 'b',
        WECOM_BOT_SECRET: 's',
        WECOM_BOT_WS_URL: 'https://x',
      }),
    ).toThrow(/^WECOM_BOT_WS_URL: /);
  });
});

describe('the service in websocket mode', () => {
  let service: Service;
  const logs: string[] = [];

  beforeAll(async () => {
    const config: Config = {
      // Nothing here may reach a real WeCom host.
      ...testConfig(t, 'http://127.0.0.1:9'),
      botLongConn: { ...BOT, url },
    };
    service = await startService(config, t.clock, (m) => logs.push(m));
  });

  afterAll(() => service?.close());

  it('holds the bot connection, subscribed with its id and secret', async () => {
    await subscribed(service.longConn!);
    expect(fake.subscriptions.at(-1)).toEqual({ conn: holder()!.id, botId: BOT.botId, ok: true });
    expect(fake.frames('aibot_subscribe').at(-1)!.body).toEqual({ bot_id: BOT.botId, secret: BOT.secret });
    // Not mounted in this mode: WeCom has no URL to call.
    expect((await fetch(`${service.url}/wecom/bot`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('answers a message through the bus with a respond frame under its req_id, once per msgid', async () => {
    const reply = await ask('ws-msg-1', 'demo-leader', '@安责险助手 /覆盖率', 'demo-chat-leaders');
    const row = await service.db.inboundMessage.findUniqueOrThrow({ where: { dedupeKey: 'bot:ws-msg-1' } });
    expect(row).toMatchObject({
      channel: 'bot',
      fromUser: 'demo-leader',
      chatId: 'demo-chat-leaders',
      state: 'handled',
    });
    expect(JSON.parse(row.payload).text).toBe('/覆盖率'); // the @mention is gone
    expect(reply.msgtype).toBe('stream');
    expect(reply.stream.finish).toBe(true);
    expect(reply.stream.content).toBe(row.reply);
    expect(reply.stream.content).toContain('非煤矿山');
    expect(reply.stream.content).toContain('截至 2026-11-29 08:00');

    // WeCom pushes the same message again (say, after a reconnect): the stored answer, no second run.
    const audits = await service.db.auditEvent.count();
    const again = await ask('ws-msg-1', 'demo-leader', '@安责险助手 /覆盖率', 'demo-chat-leaders');
    expect(again.stream.content).toBe(reply.stream.content);
    expect(await service.db.auditEvent.count()).toBe(audits);
    expect(await service.db.inboundMessage.count({ where: { dedupeKey: 'bot:ws-msg-1' } })).toBe(1);
  });

  it('welcomes a member entering the single chat with /帮助 简要, whole within the welcome message’s 2,048 bytes', async () => {
    const reqId = fake.pushEvent(BOT.botId, {
      msgid: 'ws-enter-1',
      create_time: 1,
      aibotid: BOT.botId,
      from: { userid: 'demo-liaison-jtj' },
      msgtype: 'event',
      event: { eventtype: 'enter_chat' },
    });
    const frame = await fake.until(() => fake.frames('aibot_respond_welcome_msg', reqId)[0], 'the welcome');
    const help = (
      await new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry }).handle({
        channel: 'bot',
        userId: 'demo-liaison-jtj',
        chatId: null,
        text: '/帮助 简要',
      })
    ).text;
    expect(help).toContain('/签收');
    expect(Buffer.byteLength(help)).toBeLessThan(2048);
    expect(frame.body).toEqual({ msgtype: 'text', text: { content: help } });
  });

  it('sends a reminder queued on the longconn channel to the group chat as one send frame', async () => {
    const content = '⏰ 演示提醒：本周覆盖率通报请于周一 09:00 前查看';
    const id = (await enqueue(service.db, longconnMarkdown('demo-chat-leaders', content), t.clock))[0]!.id;
    const row = await until(
      () => service.db.outboxMessage.findFirst({ where: { id, state: { notIn: ['pending', 'sending'] } } }),
      'the reminder to be sent',
    );
    expect(row).toMatchObject({ state: 'sent', attempts: 1, lastError: null });
    await service.dispatcher.drain(); // another pass sends nothing more
    const sends = fake
      .frames('aibot_send_msg')
      .filter((f) => (f.body.markdown as { content?: string } | undefined)?.content === content);
    expect(sends).toHaveLength(1);
    expect(sends[0]!.body).toEqual({ chatid: 'demo-chat-leaders', msgtype: 'markdown', markdown: { content } });
  });
});

describe('reminders in websocket mode', () => {
  let own: TestDb;
  let service: Service;
  let byApp: Outbound[];
  const monday = instantAt('2026-11-30', '09:00', TZ);

  beforeAll(async () => {
    own = await testDb({ demo: true });
    own.clock.set(monday);
    // The transport bureau's group has no robot: only the long connection can speak in it.
    await own.db.groupChat.update({ where: { chatId: 'demo-chat-jtj' }, data: { webhookKey: null } });
    const jtj = (await own.db.unit.findFirstOrThrow({ where: { code: 'jtj' } })).id;
    // What a deployment without the long connection would send the bureau that morning.
    const robotsOnly = new Scheduler({
      db: own.db,
      clock: own.clock,
      timeZone: TZ,
      locale: 'zh-CN',
      calendar: new WorkCalendar(readCalendarFile('prisma/calendar.json')),
    });
    byApp = (await robotsOnly.runAt(monday, { dryRun: true }))
      .flatMap((r) => r.reminders)
      .filter((r) => r.target === `unit:${jtj}`)
      .flatMap((r) => r.messages);
    // Started at 09:00 on a working day, the service sends the morning's reminders itself.
    service = await startService(
      {
        port: 0,
        databaseUrl: own.url,
        timezone: TZ,
        locale: 'zh-CN',
        admins: [],
        calendarFile: 'prisma/calendar.json',
        callbackMaxSkewSeconds: 300,
        wecomApiBase: 'http://127.0.0.1:9',
        sandbox: false,
        botLongConn: { ...BOT, url },
        leaseSeconds: 3600, // the test moves the clock on by minutes
      },
      own.clock,
      () => {},
    );
  });
  afterAll(async () => {
    await service?.close();
    await own?.close();
  });

  it('reminds a unit whose group has no robot in that group, by chatid through the connection; without the connection, its liaisons through the app', async () => {
    // The unit's liaisons, then (the item being overdue) the ladder's rungs: its 责任人 and 分管领导.
    expect(byApp.map((m) => `${m.channel} ${m.target}`)).toEqual([
      'app demo-liaison-jtj',
      'app demo-responsible-jtj',
      'app demo-incharge-jtj',
    ]);
    own.clock.advance(10 * 60_000); // past the spread the scheduler gives the morning's sends
    // The service queued the morning's reminders as it started; once its connection is up, the
    // test sends them rather than wait for the dispatcher's next tick (twice: a tick's drain
    // under way may have looked before the clock moved).
    // (A generous bound: the service connects with its own tuning, a second's backoff after a failure.)
    await fake.until(() => service.longConn?.state === 'subscribed', 'the service to subscribe', 20_000);
    await service.dispatcher.drain();
    await service.dispatcher.drain();
    const frame = fake.frames('aibot_send_msg').find((f) => f.body.chatid === 'demo-chat-jtj');
    expect(frame, 'the reminder in the group').toBeDefined();
    const content = (frame!.body.markdown as { content: string }).content;
    expect(content).toContain('<@demo-liaison-jtj>');
    expect(content.replace(/\s*<@[^>]+>/g, '').trim()).toBe((byApp[0]!.payload.text as { content: string }).content);
    await until(
      () => own.db.outboxMessage.findFirst({ where: { target: 'demo-chat-jtj', state: 'sent' } }),
      'the reminder to be recorded as sent',
    );
    const rows = await own.db.outboxMessage.findMany({
      where: { target: { in: ['demo-chat-jtj', 'demo-liaison-jtj'] } },
    });
    expect(rows.map((r) => `${r.channel} ${r.target} ${r.state}`)).toEqual(['longconn demo-chat-jtj sent']);
  });
});

describe('the wire', () => {
  it('sends nothing while the connection is down, then the reminder once; an errcode in the ack is read', async () => {
    const conn = client();
    const dispatcher = new Dispatcher({
      wire: wecomWire,
      db: t.db,
      clock: t.clock,
      senders: {
        longconn: longconnSender(
          conn,
          mediaUploader(conn, () => t.clock.now().getTime()),
        ),
      },
      paused: () => conn.state !== 'subscribed',
    });
    const id = (await enqueue(t.db, longconnMarkdown('demo-chat-yjj', '应急局：请今日内上报危化行业进度'), t.clock))[0]!
      .id;
    expect(await dispatcher.drain()).toBe(0);
    expect(await t.db.outboxMessage.findUniqueOrThrow({ where: { id } })).toMatchObject({
      state: 'pending',
      attempts: 0,
    });

    conn.start();
    await subscribed(conn);
    expect(await dispatcher.drain()).toBe(1);
    expect(await dispatcher.drain()).toBe(0);
    expect(await t.db.outboxMessage.findUniqueOrThrow({ where: { id } })).toMatchObject({ state: 'sent', attempts: 1 });
    expect(fake.frames('aibot_send_msg').filter((f) => f.body.chatid === 'demo-chat-yjj')).toHaveLength(1);

    // WeCom refuses text in a proactive send (40008): a permanent error, kept with its reason.
    const [bad] = await enqueue(
      t.db,
      {
        channel: 'longconn',
        target: 'demo-chat-jtj',
        payload: { chatid: 'demo-chat-jtj', msgtype: 'text', text: { content: 'x' } },
      },
      t.clock,
    );
    await dispatcher.drain();
    expect(await t.db.outboxMessage.findUniqueOrThrow({ where: { id: bad!.id } })).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'WeCom errcode 40008: invalid message type',
    });
  });

  it("carries a reply's buttons, runs a pressed one as if the presser typed it, answers through response_url and closes the card", async () => {
    const logs: string[] = [];
    const conn = client(logs);
    conn.start();
    await subscribed(conn);
    const preview = (await ask(
      'ws-assign',
      'demo-leader',
      '@安责险助手 /交办 全部乡镇 排查危化企业隐患 2026-12-31',
      'demo-chat-leaders',
    )) as unknown as {
      msgtype: string;
      template_card: { task_id: string; main_title: { title: string }; button_list: { key: string }[] };
    };
    expect(preview.msgtype).toBe('stream_with_template_card');
    expect(preview.template_card.button_list.map((b) => b.key)).toEqual(['cmd:/执行', 'cmd:/取消']);
    const before = await t.db.obligation.count();
    const responseUrl = 'http://127.0.0.1:9/press-1';
    const pressReq = fake.pushEvent(BOT.botId, {
      msgid: 'ws-press-1',
      create_time: 1,
      aibotid: BOT.botId,
      chatid: 'demo-chat-leaders',
      chattype: 'group',
      from: { userid: 'demo-leader' },
      response_url: responseUrl,
      msgtype: 'event',
      event: {
        eventtype: 'template_card_event',
        template_card_event: {
          card_type: 'button_interaction',
          event_key: 'cmd:/执行',
          task_id: preview.template_card.task_id,
        },
      },
    });
    const answered = await until(
      () => t.db.outboxMessage.findFirst({ where: { channel: 'response_url', target: responseUrl } }),
      'the answer to the press',
    );
    expect(await t.db.obligation.count()).toBe(before + 23);
    const press = await t.db.inboundMessage.findUniqueOrThrow({ where: { dedupeKey: 'bot:ws-press-1' } });
    expect(JSON.parse(answered.payload).markdown.content).toBe(press.reply);
    expect(fake.frames('aibot_respond_msg').filter((f) => f.conn === holder()!.id)).toHaveLength(1); // the press itself gets no respond frame
    // The pressed card is replaced under the event's req_id (the SDK's updateTemplateCard): same
    // task_id, who pressed and when, the result, and 执行/取消 (one decision) greyed out.
    const [update] = await fake.until(() => {
      const f = fake.frames('aibot_respond_update_msg', pressReq);
      return f.length ? f : undefined;
    }, 'the card update');
    expect(update!.body).toEqual({
      response_type: 'update_template_card',
      template_card: {
        card_type: 'button_interaction',
        main_title: { title: preview.template_card.main_title.title },
        sub_title_text: `${press.reply!.split('\n')[0]}（演示·县领导，${minuteIn(t.clock.now(), TZ)}）`,
        button_list: preview.template_card.button_list,
        replace_text: '已处理',
        task_id: preview.template_card.task_id,
      },
    });
    expect(fake.seen.find((s) => s.reqId === pressReq && s.cmd === 'aibot_respond_msg')).toBeUndefined();

    // Pressed again on a view not yet replaced: nothing runs; who decided it, and the closed card again.
    const againUrl = 'http://127.0.0.1:9/press-2';
    const againReq = fake.pushEvent(BOT.botId, {
      msgid: 'ws-press-2',
      create_time: 2,
      aibotid: BOT.botId,
      chatid: 'demo-chat-leaders',
      chattype: 'group',
      from: { userid: 'demo-leader' },
      response_url: againUrl,
      msgtype: 'event',
      event: {
        eventtype: 'template_card_event',
        template_card_event: {
          card_type: 'button_interaction',
          event_key: 'cmd:/取消',
          task_id: preview.template_card.task_id,
        },
      },
    });
    const again = await until(
      () => t.db.outboxMessage.findFirst({ where: { channel: 'response_url', target: againUrl } }),
      'the answer to the second press',
    );
    expect(JSON.parse(again.payload).markdown.content).toBe(
      `已由演示·县领导于 ${minuteIn(t.clock.now(), TZ)} 处理：${press.reply!.split('\n')[0]}`,
    );
    const [second] = await fake.until(() => {
      const f = fake.frames('aibot_respond_update_msg', againReq);
      return f.length ? f : undefined;
    }, 'the card again');
    expect(second!.body).toEqual(update!.body);
    expect(await t.db.obligation.count()).toBe(before + 23);
    // WeCom (the fake) took both updates: none was refused.
    expect([fake.acks.get(pressReq), fake.acks.get(againReq)]).toEqual([0, 0]);
    expect(logs.filter((l) => l.includes('not answered'))).toEqual([]);
  });

  it('comes back by itself after the network drops the socket, and answers again', async () => {
    const logs: string[] = [];
    const conn = client(logs);
    conn.start();
    const first = await subscribed(conn);
    fake.drop(BOT.botId);
    const second = await subscribed(conn, first.id);
    expect(second.id).toBeGreaterThan(first.id);
    expect(logs.some((l) => /connection closed \(1006\); reconnecting in \d+ ms \(attempt 1\)/.test(l))).toBe(true);
    const reply = await ask('ws-after-drop', 'demo-liaison-jtj', '/我是谁');
    expect(reply.stream.content).toContain('demo-liaison-jtj');
  });

  it('replaces a socket that stopped answering heartbeats', async () => {
    const logs: string[] = [];
    const conn = client(logs, { heartbeatMs: 100 });
    conn.start();
    const first = await subscribed(conn);
    fake.stall(BOT.botId);
    const second = await subscribed(conn, first.id);
    expect(logs).toContain('long connection: nothing from WeCom for 2 heartbeats; replacing the socket');
    // The stalled socket was pinged (unanswered) before it was given up.
    expect(fake.seen.filter((f) => f.conn === first.id && f.cmd === 'ping').length).toBeGreaterThanOrEqual(2);
    expect(second.id).toBeGreaterThan(first.id);
    const reply = await ask('ws-after-stall', 'demo-leader', '@安责险助手 /我是谁');
    expect(reply.stream.content).toContain('demo-leader');
  });

  it('gives way when a second connection subscribes as the same bot, without fighting back', async () => {
    const logsA: string[] = [];
    const a = client(logsA);
    a.start();
    const first = await subscribed(a);
    const b = client();
    b.start();
    const second = await subscribed(b, first.id);
    await fake.until(() => a.state === 'kicked', 'the first client to stop');
    expect(logsA).toContain(
      `long connection: WeCom handed bot ${BOT.botId} to a newer connection; this one stops and will not reconnect`,
    );
    // Once its socket is closed the first client has not scheduled a reconnect (each is logged, and
    // only a close schedules one), so it will not come back: the second keeps the bot.
    const opened = fake.connections.length;
    await fake.until(() => first.ws.readyState === first.ws.CLOSED, 'the first socket to be closed');
    expect(logsA.filter((l) => l.includes('reconnecting in'))).toEqual([]);
    expect(fake.connections.length).toBe(opened);
    expect(holder()!.id).toBe(second.id);
    expect(b.state).toBe('subscribed');
    const reply = await ask('ws-after-kick', 'demo-leader', '/我是谁');
    expect(reply.stream.content).toContain('demo-leader');
    expect(a.state).toBe('kicked');
  });

  it('keeps trying, with growing delays, when the secret is refused', async () => {
    const logs: string[] = [];
    const conn = client(logs, { random: () => 1 }, 'wrong');
    conn.start();
    await fake.until(
      () => logs.filter((l) => l.includes('reconnecting in')).length >= 3 && true,
      'three refused subscriptions',
    );
    expect(logs).toContain('long connection: subscribe failed: WeCom errcode 40001: invalid bot_id or secret');
    const delays = logs.flatMap((l) => /reconnecting in (\d+) ms/.exec(l)?.[1] ?? []).map(Number);
    expect(delays.slice(0, 3)).toEqual([20, 40, 80]);
    expect(conn.state).not.toBe('subscribed');
  });
});
