// Forged, replayed and malformed callbacks against a running service: each is refused (or, for a
// replay, answered from what is stored) with nothing stored — no inbound message, audit event or
// outbox row — and the service keeps answering.
import { createCipheriv, randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import type { Service } from '../../src/service.ts';
import { testDb, type TestDb } from '../support/db.ts';
import { appTextXml, botTextMessage, FakeWeComApi, WeComSender } from '../support/fake-wecom.ts';
import { APP, BOT, callbackTrail, itRefuses, startWecomService, until } from '../support/service.ts';

const MAX_SKEW = 300; // wecomConfig's callbackMaxSkewSeconds

let t: TestDb;
let service: Service;
let api: FakeWeComApi;
let bot: WeComSender;
let app: WeComSender;
const clock = fixedClock('2026-11-29T08:00:00+08:00');
const sockets: Socket[] = [];

const counts = () => callbackTrail(service.db);
const now = () => Math.floor(clock.now().getTime() / 1000);

/** WeCom's layout encrypted by hand, so that any part of it can be wrong: random16 | length | msg | receiveId | pad. */
function sealRaw(aesKey: string, msg: Buffer, receiveId: string, pad?: Buffer): string {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  const body = Buffer.concat([randomBytes(16), len, msg, Buffer.from(receiveId)]);
  const n = 32 - (body.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([body, pad ?? Buffer.alloc(n, n)]);
  if (plain.length % 16) throw new Error('the test pad must keep whole blocks');
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}
const botEnvelope = (e: string) => JSON.stringify({ encrypt: e });
const appEnvelope = (e: string) =>
  `<xml><ToUserName><![CDATA[${APP.corpId}]]></ToUserName><Encrypt><![CDATA[${e}]]></Encrypt><AgentID>1000002</AgentID></xml>`;

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi(APP.corpId, 'app-secret');
  ({ service, bot, app } = await startWecomService(t, await api.start(), clock));
  service.server.on('connection', (s: Socket) => void sockets.push(s));
});

afterAll(async () => {
  await service?.close();
  await api?.stop();
  await t?.close();
});

const coverage = (msgid: string) =>
  botTextMessage({ msgid, userid: 'demo-leader', chatid: 'demo-chat-leaders', text: '@安责险助手 /覆盖率' });
const billion = `<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>`;

describe('every forged or malformed callback is refused, stores nothing, and the service goes on', () => {
  const cases: [string, () => Promise<Response>, number][] = [
    ['a wrong signature (bot)', () => bot.postBot(coverage('a1'), { msg_signature: '0'.repeat(40) }), 403],
    [
      'a wrong signature (app)',
      () =>
        app.postApp(
          appTextXml({ corpId: APP.corpId, from: 'demo-leader', text: '/覆盖率', msgId: '1001', createTime: now() }),
          { msg_signature: 'a'.repeat(40) },
        ),
      403,
    ],
    [
      'a signature over another body',
      () =>
        bot.postEncrypted(bot.seal(JSON.stringify(coverage('a2'))), () =>
          botEnvelope(bot.seal(JSON.stringify(coverage('a3')))),
        ),
      403,
    ],
    [
      'no signature at all',
      () =>
        fetch(`${service.url}/wecom/bot?timestamp=${now()}&nonce=x`, {
          method: 'POST',
          body: botEnvelope(bot.seal('{}')),
        }),
      403,
    ],
    [
      `a timestamp ${MAX_SKEW + 1} s old`,
      () => bot.postBot(coverage('a4'), { timestamp: String(now() - MAX_SKEW - 1) }),
      403,
    ],
    [
      `a timestamp ${MAX_SKEW + 1} s ahead`,
      () => bot.postBot(coverage('a5'), { timestamp: String(now() + MAX_SKEW + 1) }),
      403,
    ],
    ['a timestamp that is no number', () => bot.postBot(coverage('a6'), { timestamp: '1e9' }), 403],
    [
      'a ReceiveId of another corp (app)',
      () =>
        app.postEncrypted(
          app.seal(
            appTextXml({ corpId: APP.corpId, from: 'demo-leader', text: '/覆盖率', msgId: '1002', createTime: now() }),
            'wwsomeoneelse000',
          ),
          appEnvelope,
        ),
      400,
    ],
    [
      'a ReceiveId on the bot, whose is empty',
      () => bot.postEncrypted(bot.seal(JSON.stringify(coverage('a7')), APP.corpId), botEnvelope),
      400,
    ],
    [
      'a pad byte of 0',
      () =>
        bot.postEncrypted(
          sealRaw(
            BOT.encodingAesKey,
            Buffer.from(JSON.stringify(coverage('a8'))),
            '',
            Buffer.alloc(32 - ((20 + Buffer.byteLength(JSON.stringify(coverage('a8')))) % 32) || 32, 0),
          ),
          botEnvelope,
        ),
      400,
    ],
    [
      'a pad byte over 32',
      () => {
        const msg = Buffer.from(JSON.stringify(coverage('a9')));
        const n = 32 - ((20 + msg.length) % 32) || 32;
        return bot.postEncrypted(
          sealRaw(BOT.encodingAesKey, msg, '', Buffer.concat([Buffer.alloc(n + 16 - 1, 7), Buffer.from([48])])),
          botEnvelope,
        );
      },
      400,
    ],
    [
      'pad bytes that differ',
      () => {
        const msg = Buffer.from(JSON.stringify(coverage('a10')));
        const n = 32 - ((20 + msg.length) % 32) || 32;
        const pad = Buffer.alloc(n, n);
        pad[0] = n - 1;
        return bot.postEncrypted(sealRaw(BOT.encodingAesKey, msg, '', pad), botEnvelope);
      },
      400,
    ],
    [
      'a truncated ciphertext',
      () => bot.postEncrypted(bot.seal(JSON.stringify(coverage('a11'))).slice(0, 64), botEnvelope),
      400,
    ],
    [
      'a ciphertext cut by one block',
      () => {
        const c = Buffer.from(bot.seal(JSON.stringify(coverage('a12'))), 'base64');
        return bot.postEncrypted(c.subarray(0, c.length - 16).toString('base64'), botEnvelope);
      },
      400,
    ],
    ['a ciphertext that is not base64', () => bot.postEncrypted('%%%%not-base64%%%%', botEnvelope), 400],
    [
      'base64 with junk inside',
      () => {
        const c = bot.seal(JSON.stringify(coverage('a13')));
        return bot.postEncrypted(`${c.slice(0, 10)}*${c.slice(10)}`, botEnvelope);
      },
      400,
    ],
    ['an empty ciphertext', () => bot.postEncrypted('', botEnvelope), 400],
    ['a body that is not JSON (bot)', () => bot.postEncrypted(bot.seal('{}'), (e) => `encrypt=${e}`), 400],
    ['a decrypted message that is not JSON', () => bot.postEncrypted(bot.seal('<xml/>'), botEnvelope), 400],
    [
      'a message without msgid',
      () => bot.postEncrypted(bot.seal(JSON.stringify({ ...coverage('x'), msgid: '' })), botEnvelope),
      400,
    ],
    [
      'an envelope with a DOCTYPE (app)',
      () => app.postEncrypted(app.seal('<xml/>'), (e) => `<!DOCTYPE xml [<!ENTITY x "y">]>${appEnvelope(e)}`),
      400,
    ],
    [
      'an envelope with an external entity (app)',
      () =>
        app.postEncrypted(
          app.seal('<xml/>'),
          (e) => `<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>${e}&x;</Encrypt></xml>`,
        ),
      400,
    ],
    [
      'a plaintext with nested entities (billion laughs)',
      () =>
        app.postApp(
          `${billion}<xml><ToUserName>${APP.corpId}</ToUserName><FromUserName>demo-leader</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&c;</Content><MsgId>1003</MsgId></xml>`,
        ),
      400,
    ],
    [
      'an undeclared entity in the plaintext',
      () =>
        app.postApp(
          `<xml><ToUserName>${APP.corpId}</ToUserName><FromUserName>demo-leader</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&e;</Content><MsgId>1004</MsgId></xml>`,
        ),
      400,
    ],
    [
      'two <Encrypt> in one envelope',
      () => app.postEncrypted(app.seal('<xml/>'), (e) => `<xml><Encrypt>${e}</Encrypt><Encrypt>${e}</Encrypt></xml>`),
      400,
    ],
    [
      'a plaintext that is not UTF-8 (bot)',
      () =>
        bot.postEncrypted(
          sealRaw(BOT.encodingAesKey, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), ''),
          botEnvelope,
        ),
      400,
    ],
    [
      'a plaintext that is not UTF-8 (app)',
      () =>
        app.postEncrypted(
          sealRaw(
            APP.encodingAesKey,
            Buffer.concat([
              Buffer.from('<xml><Content>'),
              Buffer.from([0xed, 0xa0, 0x80]),
              Buffer.from('</Content></xml>'),
            ]),
            APP.corpId,
          ),
          appEnvelope,
        ),
      400,
    ],
    [
      'a declared length past the data',
      () => {
        const key = Buffer.from(`${BOT.encodingAesKey}=`, 'base64');
        const plain = Buffer.concat([
          randomBytes(16),
          Buffer.from([0x7f, 0, 0, 0]),
          Buffer.from('{}'),
          Buffer.alloc(10, 10),
        ]);
        const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
        return bot.postEncrypted(Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64'), botEnvelope);
      },
      400,
    ],
    ['a 70 KB body', () => bot.postEncrypted('A'.repeat(70 * 1024), botEnvelope), 413],
  ];
  itRefuses(cases, () => service.db);

  it(`takes a timestamp ${MAX_SKEW - 5} s off, either way (the documented window)`, async () => {
    for (const [msgid, ts] of [
      ['w1', now() - MAX_SKEW + 5],
      ['w2', now() + MAX_SKEW - 5],
    ] as const) {
      const res = await bot.postBot(coverage(msgid), { timestamp: String(ts) });
      expect(res.status).toBe(200);
    }
    expect(await service.db.inboundMessage.count({ where: { dedupeKey: { in: ['bot:w1', 'bot:w2'] } } })).toBe(2);
  });

  it('answers a replayed message from what it stored: one inbound message, one audit event, the same reply', async () => {
    const first = await bot.postBot(coverage('replay-1'));
    const content = (r: unknown) => (r as { stream: { content: string } }).stream.content;
    const reply = content(bot.openBotReply(await first.json()));
    const before = await counts();
    // The same message again, newly signed (WeCom's retry), and the very same request (a replay).
    const sealed = bot.seal(JSON.stringify(coverage('replay-1')));
    const q = { timestamp: String(now()), nonce: 'n1' };
    for (const res of [
      await bot.postBot(coverage('replay-1')),
      await bot.postEncrypted(sealed, botEnvelope, q),
      await bot.postEncrypted(sealed, botEnvelope, q),
    ]) {
      expect(res.status).toBe(200);
      expect(content(bot.openBotReply(await res.json()))).toBe(reply);
    }
    expect(await counts()).toEqual(before);
  });

  for (const framing of ['Content-Length', 'chunked'] as const) {
    it(`refuses a 10 MB body sent with ${framing} with 413 and closes the connection, without reading it`, async () => {
      const before = await counts();
      const total = 10 * 1024 * 1024;
      const { port } = new URL(service.url);
      const q = new URLSearchParams({ msg_signature: 'f'.repeat(40), timestamp: String(now()), nonce: 'big' });
      const sock = net.connect(Number(port), '127.0.0.1');
      let response = '';
      let closed = false;
      sock.on('data', (d) => void (response += d));
      sock.on('error', () => {});
      sock.on('close', () => void (closed = true));
      await new Promise((r) => sock.once('connect', r));
      sock.write(
        `POST /wecom/bot?${q} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`}\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 65);
      let written = 0;
      const deadline = Date.now() + 10_000;
      while (written < total && !closed && Date.now() < deadline) {
        const ok =
          framing === 'chunked'
            ? sock.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`)
            : sock.write(chunk);
        written += chunk.length;
        if (!ok)
          await new Promise((r) => {
            sock.once('drain', r);
            sock.once('close', r);
            setTimeout(r, 100);
          });
      }
      await until(() => closed, 'the service to close the connection');
      const serverSide = sockets.find((s) => s.remotePort === sock.localPort);
      sock.destroy();
      expect(serverSide).toBeDefined();
      expect(response.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
      expect(closed).toBe(true);
      // The service stopped reading long before the end, and read far less than was sent.
      expect(written).toBeLessThan(total);
      expect(serverSide?.bytesRead ?? Infinity).toBeLessThan(1024 * 1024);
      expect(await counts()).toEqual(before);
    });
  }

  it('still serves: /healthz answers and a good message gets its reply', async () => {
    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, database: 'ok' });
    const res = await bot.postBot(coverage('after-attacks'));
    expect(res.status).toBe(200);
    expect((bot.openBotReply(await res.json()) as { stream: { content: string } }).stream.content).toContain(
      '非煤矿山',
    );
  });
});
