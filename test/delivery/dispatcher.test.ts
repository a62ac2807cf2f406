import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { appText, webhookMarkdown, wecomWire } from '../../src/wecom/messages.ts';
import { sendersOf } from '../../src/channels/channel.ts';
import { testDb, type TestDb } from '../support/db.ts';
import type { FakeWeComApi } from '../support/fake-wecom.ts';
import { fakeWeComDispatcher, sendingChannels, wecomConfig } from '../support/service.ts';

let t: TestDb;
let api: FakeWeComApi;
let base: string;
let dispatcher: Dispatcher;

beforeAll(async () => {
  t = await testDb();
  ({ api, base, dispatcher } = await fakeWeComDispatcher(t, ['good-key']));
});
afterAll(async () => {
  await api.stop();
  await t.close();
});
beforeEach(async () => {
  await t.db.outboxMessage.deleteMany();
  api.delivered.length = 0;
});

const state = async (id: number) => t.db.outboxMessage.findUniqueOrThrow({ where: { id } });

describe('the dispatcher', () => {
  it('sends what is pending, once', async () => {
    const [m] = await enqueue(t.db, webhookMarkdown('good-key', '**逾期提醒**'), t.clock);
    expect(await dispatcher.drain()).toBe(1);
    expect((await state(m!.id)).state).toBe('sent');
    expect(api.delivered).toEqual([
      { kind: 'webhook', target: 'good-key', body: { msgtype: 'markdown', markdown: { content: '**逾期提醒**' } } },
    ]);
    expect(await dispatcher.drain()).toBe(0);
  });

  it('keeps a permanent failure with its reason and stops retrying', async () => {
    const [m] = await enqueue(t.db, webhookMarkdown('removed-robot', 'x'), t.clock);
    await dispatcher.drain();
    expect(await state(m!.id)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: expect.stringContaining('93000'),
    });
  });

  it('retries a rate-limited message later, with backoff', async () => {
    api.failNext.push(45009);
    const [m] = await enqueue(t.db, webhookMarkdown('good-key', 'x'), t.clock);
    await dispatcher.drain();
    const after = await state(m!.id);
    expect(after).toMatchObject({ state: 'pending', attempts: 1 });
    expect(after.nextAttemptAt.getTime()).toBeGreaterThan(t.clock.now().getTime());
    expect(await dispatcher.drain()).toBe(0);
    t.clock.advance(60_000);
    await dispatcher.drain();
    expect((await state(m!.id)).state).toBe('sent');
    t.clock.set('2026-11-29T08:00:00+08:00');
  });

  it('refreshes an app token WeCom expired early, once, and sends', async () => {
    await enqueue(t.db, appText('demo-leader', 'hello'), t.clock);
    await dispatcher.drain();
    api.expireToken();
    await enqueue(t.db, appText('demo-leader', 'again'), t.clock);
    await dispatcher.drain();
    expect(api.tokensIssued).toHaveLength(2);
    expect(api.delivered.map((d) => d.body.text)).toEqual([{ content: 'hello' }, { content: 'again' }]);
  });

  it('sends after an upgrade the rows the previous version queued, as it wrote them', async () => {
    // The outbox rows of the version before the wire moved to src/wecom, byte for byte: a robot's
    // markdown and text with a mention, a member's text and card, a file on disk.
    const queued = [
      ['webhook', 'good-key', '{"msgtype":"markdown","markdown":{"content":"**逾期提醒** #4"}}'],
      [
        'webhook',
        'good-key',
        '{"msgtype":"text","text":{"content":"请签收 #4","mentioned_list":["demo-liaison-jtj"]}}',
      ],
      ['app', 'demo-liaison-jtj', '{"touser":"demo-liaison-jtj","msgtype":"text","text":{"content":"请签收 #4"}}'],
      [
        'app',
        'demo-liaison-jtj',
        '{"touser":"demo-liaison-jtj","msgtype":"template_card","template_card":{"card_type":"button_interaction",' +
          '"main_title":{"title":"请签收 #4"},"button_list":[{"text":"签收 #4","style":1,"key":"cmd:/签收 4"}],' +
          '"task_id":"0a1b2c3d4e5f"}}',
      ],
    ] as const;
    for (const [channel, target, payload] of queued)
      await t.db.outboxMessage.create({
        data: { channel, target, payload, nextAttemptAt: t.clock.now(), createdAt: t.clock.now() },
      });
    expect(await dispatcher.drain()).toBe(queued.length);
    expect(await t.db.outboxMessage.findMany({ select: { state: true } })).toEqual(
      queued.map(() => ({ state: 'sent' })),
    );
    expect(api.delivered.map((d) => [d.kind, d.target, d.body])).toEqual([
      ['webhook', 'good-key', { msgtype: 'markdown', markdown: { content: '**逾期提醒** #4' } }],
      [
        'webhook',
        'good-key',
        { msgtype: 'text', text: { content: '请签收 #4', mentioned_list: ['demo-liaison-jtj'] } },
      ],
      ['app', 'demo-liaison-jtj', expect.objectContaining({ msgtype: 'text', text: { content: '请签收 #4' } })],
      [
        'app',
        'demo-liaison-jtj',
        expect.objectContaining({
          msgtype: 'template_card',
          template_card: expect.objectContaining({
            button_list: [{ text: '签收 #4', style: 1, key: 'cmd:/签收 4' }],
            task_id: '0a1b2c3d4e5f',
          }),
        }),
      ],
    ]);
  });

  it('resends after a restart what a crash left mid-send', async () => {
    const [m] = await enqueue(t.db, webhookMarkdown('good-key', 'in flight'), t.clock);
    await t.db.outboxMessage.update({ where: { id: m!.id }, data: { state: 'sending', attempts: 1 } });
    expect(await dispatcher.drain()).toBe(0);
    expect(await dispatcher.recover()).toBe(1);
    await dispatcher.drain();
    expect((await state(m!.id)).state).toBe('sent');
    expect(api.delivered).toHaveLength(1);
  });
});

describe('rate limits and failure reports', () => {
  it('never sends more than 20 a minute to one webhook, and sends the rest as the window frees', async () => {
    api.webhooks.add('burst-key');
    for (let i = 0; i < 45; i++) await enqueue(t.db, webhookMarkdown('burst-key', `#${i}`), t.clock);
    await enqueue(t.db, webhookMarkdown('other-key', 'elsewhere'), t.clock);
    api.webhooks.add('other-key');
    await dispatcher.drain();
    expect(api.delivered.filter((d) => d.target === 'burst-key')).toHaveLength(20);
    expect(api.delivered.filter((d) => d.target === 'other-key')).toHaveLength(1);
    t.clock.advance(30_000);
    await dispatcher.drain();
    expect(api.delivered.filter((d) => d.target === 'burst-key')).toHaveLength(20);
    t.clock.advance(31_000);
    await dispatcher.drain();
    expect(api.delivered.filter((d) => d.target === 'burst-key')).toHaveLength(40);
    t.clock.advance(61_000);
    await dispatcher.drain();
    // In order, none lost, none twice, and the fake WeCom never had to say 45009.
    expect(
      api.delivered
        .filter((d) => d.target === 'burst-key')
        .map((d) => (d.body.markdown as { content: string }).content),
    ).toEqual(Array.from({ length: 45 }, (_, i) => `#${i}`));
    expect(await t.db.outboxMessage.count({ where: { lastError: { not: null } } })).toBe(0);
    t.clock.set('2026-11-29T08:00:00+08:00');
  });

  it('reports a permanent failure to the admins’ group', async () => {
    api.webhooks.add('admins-key');
    await t.db.groupChat.create({
      data: { name: '管理员群', purpose: 'admins', webhookKey: 'admins-key', chatId: 'admins-chat' },
    });
    await t.db.groupChat.create({
      data: { name: '已解散的群', purpose: 'unit', webhookKey: 'gone-key', chatId: 'gone-chat' },
    });
    await enqueue(t.db, webhookMarkdown('gone-key', '提醒'), t.clock);
    await dispatcher.drain();
    await dispatcher.drain();
    const report = api.delivered.find((d) => d.target === 'admins-key');
    expect((report?.body.markdown as { content: string }).content).toMatch(/无法发送到 已解散的群.*93000/);
    await t.db.groupChat.deleteMany();
  });

  it('reports a failure to the admins through the app when they have no group, never to the leaders’ group', async () => {
    api.webhooks.add('leaders-key');
    await t.db.member.create({ data: { userId: 'ops-admin', name: '运维管理员', roles: 'admin' } });
    await t.db.groupChat.create({
      data: { name: '县领导群', purpose: 'leaders', webhookKey: 'leaders-key', chatId: 'leaders-chat' },
    });
    await t.db.groupChat.create({
      data: { name: '已解散的群', purpose: 'unit', webhookKey: 'gone-key', chatId: 'gone-chat' },
    });
    await enqueue(t.db, webhookMarkdown('gone-key', '提醒'), t.clock);
    await dispatcher.drain();
    await dispatcher.drain();
    expect(api.delivered.filter((d) => d.target === 'leaders-key')).toEqual([]);
    const report = await t.db.outboxMessage.findFirstOrThrow({ where: { channel: 'app', target: 'ops-admin' } });
    expect(JSON.parse(report.payload).text.content).toMatch(/无法发送到 已解散的群.*93000/);
    await t.db.groupChat.deleteMany();
    await t.db.member.delete({ where: { userId: 'ops-admin' } });
  });

  it('fails and reports at once a message for a channel this deployment does not have, instead of keeping it for ever', async () => {
    api.webhooks.add('admins-key');
    await t.db.groupChat.create({
      data: { name: '管理员群', purpose: 'admins', webhookKey: 'admins-key', chatId: 'admins-chat' },
    });
    const withoutApp = new Dispatcher({
      wire: wecomWire,
      db: t.db,
      clock: t.clock,
      senders: { webhook: sendersOf(sendingChannels(wecomConfig(t, base), t.clock)).webhook! },
    });
    const [m] = await enqueue(t.db, appText('demo-liaison-jtj', '请签收 #4'), t.clock);
    await withoutApp.drain();
    expect(await state(m!.id)).toMatchObject({
      state: 'failed',
      attempts: 0,
      lastError: '未配置企业微信自建应用，无法发送',
    });
    await withoutApp.drain();
    const report = api.delivered.filter((d) => d.target === 'admins-key');
    expect(report).toHaveLength(1);
    expect((report[0]!.body.markdown as { content: string }).content).toContain('无法发送到 demo-liaison-jtj');
    expect(api.delivered.filter((d) => d.kind === 'app')).toEqual([]);
    await t.db.groupChat.deleteMany();
  });

  it('reports to an admins’ group with no robot by its chatid, through the long connection where the deployment holds one', async () => {
    await t.db.groupChat.create({ data: { name: '管理员群', purpose: 'admins', chatId: 'admins-chat' } });
    await t.db.groupChat.create({
      data: { name: '已解散的群', purpose: 'unit', webhookKey: 'gone-key', chatId: 'gone-chat' },
    });
    const webhook = sendersOf(sendingChannels(wecomConfig(t, base), t.clock)).webhook!;
    const report = () => t.db.outboxMessage.findMany({ where: { NOT: { target: 'gone-key' } } });
    // Robots only: the admins' group cannot be reached, so the failure is only logged.
    const [a] = await enqueue(t.db, webhookMarkdown('gone-key', '提醒'), t.clock);
    await new Dispatcher({
      wire: wecomWire,
      db: t.db,
      clock: t.clock,
      senders: { webhook },
    }).drain();
    expect(await state(a!.id)).toMatchObject({ state: 'failed' });
    expect(await report()).toEqual([]);
    // With the long connection (down for now, so the report waits in the outbox to be read here).
    const [b] = await enqueue(t.db, webhookMarkdown('gone-key', '提醒'), t.clock);
    await new Dispatcher({
      wire: wecomWire,
      db: t.db,
      clock: t.clock,
      senders: { webhook, longconn: webhook },
      paused: (c) => c === 'longconn',
    }).drain();
    expect(await state(b!.id)).toMatchObject({ state: 'failed' });
    const [row, ...more] = await report();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ channel: 'longconn', target: 'admins-chat', state: 'pending' });
    expect(JSON.parse(row!.payload).markdown.content).toMatch(/无法发送到 已解散的群.*93000/);
    await t.db.groupChat.deleteMany();
  });
});
