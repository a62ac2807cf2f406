import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import type { Service } from '../../src/service.ts';
import { ANHUA_SECTORS, testDb, type TestDb } from '../support/db.ts';
import { appTextXml, botTextMessage, FakeWeComApi, type WeComSender } from '../support/fake-wecom.ts';
import { APP, callbackTrail, itRefuses, startWecomService, until } from '../support/service.ts';

// The official sample (wecom.md): a self-built app's token, key and corpid.
const OFFICIAL_MESSAGE =
  'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+';

let t: TestDb;
let service: Service;
let api: FakeWeComApi;
const clock = fixedClock('2026-11-29T08:00:00+08:00');
let bot: WeComSender;
let app: WeComSender;

const counts = () => callbackTrail(service.db);
/** Whatever a callback set going has ended: its runs in the inbox, and what they queued, sent. */
const settle = async () => {
  await service.inbox.idle();
  await service.dispatcher.drain();
  await service.dispatcher.drain(); // one already under way may have looked before
};

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi(APP.corpId, 'app-secret');
  const apiBase = await api.start();
  ({ service, bot, app } = await startWecomService(t, apiBase, clock));
});

afterAll(async () => {
  await service?.close();
  await api?.stop();
  await t?.close();
});

beforeEach(() => clock.set('2026-11-29T08:00:00+08:00'));

describe('the official WeCom sample vector over HTTP', () => {
  it('verifies the callback URL', async () => {
    clock.set(new Date(1476416373 * 1000));
    const echostr = 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==';
    const q = new URLSearchParams({
      msg_signature: '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb',
      timestamp: '1476416373',
      nonce: '47744683',
      echostr,
    });
    const res = await fetch(`${service.url}/wecom/app?${q}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1288432023552776189');
  });

  it('accepts the sample message once, answers at once, and replies through the app', async () => {
    clock.set(new Date(1476422779 * 1000));
    const q = new URLSearchParams({
      msg_signature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e',
      timestamp: '1476422779',
      nonce: '1597212914',
    });
    const body = `<xml><ToUserName><![CDATA[${APP.corpId}]]></ToUserName><Encrypt><![CDATA[${OFFICIAL_MESSAGE}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>`;
    const post = () => fetch(`${service.url}/wecom/app?${q}`, { method: 'POST', body });
    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('');
    const row = await until(
      () =>
        service.db.inboundMessage
          .findFirst({ where: { dedupeKey: 'app:1456453720', state: 'handled' } })
          .then((r) => r ?? undefined),
      'the message to be handled',
    );
    expect(row.fromUser).toBe('ChenJiaShun');
    // "你好" is no command: the unregistered sender is told how to use the bot, through the app.
    const sent = await until(() => api.delivered.find((d) => d.target === 'ChenJiaShun'), 'the reply to reach WeCom');
    expect(sent.body).toMatchObject({ msgtype: 'text', agentid: 1000002, enable_duplicate_check: 1 });
    expect(JSON.stringify(sent.body)).toContain('/帮助');

    // WeCom's retry of the same message changes nothing and sends nothing more.
    const before = await counts();
    expect((await post()).status).toBe(200);
    await settle();
    expect(await counts()).toEqual(before);
    expect(api.delivered.filter((d) => d.target === 'ChenJiaShun')).toHaveLength(1);
  });
});

describe('the AI bot callback', () => {
  it('answers /覆盖率 with an encrypted, finished stream, and a retry gets the same answer without running twice', async () => {
    const msg = botTextMessage({
      msgid: 'bot-msg-1',
      userid: 'demo-leader',
      chatid: 'demo-chat-leaders',
      text: '@安责险助手 /覆盖率',
    });
    const res = await bot.postBot(msg);
    expect(res.status).toBe(200);
    const reply = bot.openBotReply(await res.json()) as {
      msgtype: string;
      stream: { finish: boolean; content: string };
    };
    expect(reply.msgtype).toBe('stream');
    expect(reply.stream.finish).toBe(true);
    for (const sector of ANHUA_SECTORS) expect(reply.stream.content).toContain(sector);

    const audits = await service.db.auditEvent.count({ where: { command: 'coverage' } });
    const again = bot.openBotReply(await (await bot.postBot(msg)).json()) as typeof reply;
    expect(again.stream.content).toBe(reply.stream.content);
    expect(await service.db.auditEvent.count({ where: { command: 'coverage' } })).toBe(audits);
    expect(await service.db.inboundMessage.count({ where: { dedupeKey: 'bot:bot-msg-1' } })).toBe(1);
  });

  it('reads a message as the sandbox does: a mention and a command glued to its argument', async () => {
    const ask = async (msgid: string, text: string) => {
      const res = await bot.postBot(
        botTextMessage({ msgid, userid: 'demo-leader', chatid: 'demo-chat-leaders', text }),
      );
      return (bot.openBotReply(await res.json()) as { stream: { content: string } }).stream.content;
    };
    const glued = await ask('bot-msg-glued', '@安责险助手/覆盖率危化');
    const spaced = await service.bus.handle({
      channel: 'sandbox',
      userId: 'demo-leader',
      chatId: 'demo-chat-leaders',
      text: '@安责险助手 /覆盖率 危化',
    });
    expect(glued).toBe(spaced.text);
    expect(glued).toMatch(/\d+\.\d%/);
  });

  it('verifies its URL with an empty ReceiveId', async () => {
    const res = await bot.verifyUrl('echo-123');
    expect(await res.text()).toBe('echo-123');
  });
});

describe('forged and malformed callbacks are refused and change nothing', () => {
  const text = botTextMessage({ msgid: 'forged', userid: 'demo-leader', text: '/覆盖率' });
  const cases: [string, () => Promise<Response>, number][] = [
    ['a wrong signature', () => bot.postBot(text, { msg_signature: 'f'.repeat(40) }), 403],
    ['a signature of another length', () => bot.postBot(text, { msg_signature: 'abc' }), 403],
    [
      'a stale timestamp',
      () => bot.postBot(text, { timestamp: String(Math.floor(clock.now().getTime() / 1000) - 3600) }),
      403,
    ],
    [
      'a timestamp from the future',
      () => bot.postBot(text, { timestamp: String(Math.floor(clock.now().getTime() / 1000) + 3600) }),
      403,
    ],
    [
      'a wrong ReceiveId',
      () => bot.postEncrypted(bot.seal(JSON.stringify(text), 'ww-someone-else'), (e) => JSON.stringify({ encrypt: e })),
      400,
    ],
    [
      'a truncated ciphertext',
      () => bot.postEncrypted(bot.seal(JSON.stringify(text)).slice(0, 40), (e) => JSON.stringify({ encrypt: e })),
      400,
    ],
    [
      'a ciphertext that is not base64',
      () => bot.postEncrypted('!!!not*base64!!!', (e) => JSON.stringify({ encrypt: e })),
      400,
    ],
    ['a body that is not JSON', () => bot.postEncrypted(bot.seal('{}'), () => 'encrypt=abc'), 400],
    [
      'an app XML with a DOCTYPE',
      () =>
        app.postEncrypted(
          app.seal('<xml/>'),
          (e) => `<!DOCTYPE xml [<!ENTITY x "y">]><xml><Encrypt>${e}</Encrypt></xml>`,
        ),
      400,
    ],
    [
      'an app message whose plaintext XML has an entity',
      () =>
        app.postApp(
          `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><MsgType>text</MsgType><Content>&e;</Content></xml>`,
        ),
      400,
    ],
    ['a 1 MB body', () => bot.postEncrypted('A'.repeat(1 << 20), (e) => JSON.stringify({ encrypt: e })), 413],
  ];
  itRefuses(cases, () => service.db);

  it('refuses a replayed app message even inside the time window', async () => {
    const xml = appTextXml({
      corpId: APP.corpId,
      from: 'demo-leader',
      text: '/覆盖率',
      msgId: '9223372036854775807123',
      createTime: 1,
    });
    const sealed = app.seal(xml);
    const envelope = (e: string) => `<xml><Encrypt><![CDATA[${e}]]></Encrypt></xml>`;
    await app.postEncrypted(sealed, envelope);
    await until(
      () =>
        service.db.inboundMessage
          .findFirst({ where: { dedupeKey: 'app:9223372036854775807123', state: 'handled' } })
          .then((r) => r ?? undefined),
      'handling',
    );
    const before = await counts();
    expect((await app.postEncrypted(sealed, envelope)).status).toBe(200);
    await settle();
    expect(await counts()).toEqual(before);
  });
});

describe('health', () => {
  it('reports the database, version, mode and role', async () => {
    const res = await fetch(`${service.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ok: true,
      mode: 'wecom',
      channels: { bot: true, app: true },
      role: 'leader',
      database: 'ok',
    });
  });
});

describe('nobody writes in the bot’s voice, through the AI bot callback', () => {
  it('answers and notifies with hostile text neutralised: no link, bold, forged line or mention in the stream or the outbox', async () => {
    const said = async (msgid: string, userid: string, chatid: string, text: string) => {
      const res = await bot.postBot(botTextMessage({ msgid, userid, chatid, text: `@安责险助手 ${text}` }));
      return (bot.openBotReply(await res.json()) as { stream: { content: string } }).stream.content;
    };
    const assign = await said(
      'bot-hostile-1',
      'demo-leader',
      'demo-chat-leaders',
      '/交办 东坪 [点此查看](http://evil.example.com/a) **加粗**<@someone> 12月9日',
    );
    expect(assign).toContain('［点此查看］（http://evil.example.com/a） ＊＊加粗＊＊＜@someone＞');
    const o = await service.db.obligation.findFirstOrThrow({ orderBy: { id: 'desc' } });
    const extend = await said(
      'bot-hostile-2',
      'demo-liaison-dongping',
      'demo-chat-dongping',
      `/延期 ${o.id} 12月20日 理由\n> 截止 2026-12-09 → 已获批准延至 **2099-01-01**`,
    );
    expect(extend).toContain('已提交');
    const payloads = (await service.db.outboxMessage.findMany({ where: { createdAt: { gte: clock.now() } } })).map(
      (m) => m.payload,
    );
    expect(payloads.join('\n')).toContain('理由 ＞ 截止 2026-12-09 → 已获批准延至 ＊＊2099-01-01＊＊');
    const contents = payloads.map((p) => {
      const m = JSON.parse(p) as Record<string, { content?: string }>;
      return m[String(m.msgtype)]?.content ?? '';
    });
    expect(contents.length).toBeGreaterThan(1);
    for (const text of [assign, extend, ...contents]) {
      for (const bad of ['](http', '**加粗', '**2099', '<@someone']) expect(text).not.toContain(bad);
      expect(text).not.toMatch(/^\s*>\s*截止[^\n]*已获批准/m);
    }
  });
});
