import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { appText, enqueue, webhookMarkdown } from '../../src/delivery/outbox.ts';
import { AppApi, sendWebhook } from '../../src/wecom/api.ts';
import { testDb, type TestDb } from '../support/db.ts';
import { FakeWeComApi } from '../support/fake-wecom.ts';

let t: TestDb;
let api: FakeWeComApi;
let base: string;
let dispatcher: Dispatcher;

beforeAll(async () => {
  t = await testDb();
  api = new FakeWeComApi('ww-corp', 'secret', () => t.clock.now().getTime());
  base = await api.start();
  api.webhooks.add('good-key');
  const app = new AppApi({ apiBase: base, corpId: 'ww-corp', secret: 'secret', agentId: '1000002' }, () => t.clock.now().getTime());
  dispatcher = new Dispatcher({
    db: t.db, clock: t.clock,
    senders: {
      webhook: async (row) => (await sendWebhook(base, row.target, JSON.parse(row.payload)), 'sent'),
      app: async (row) => (await app.sendMessage(JSON.parse(row.payload)), 'sent'),
    },
  });
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
    expect(api.delivered).toEqual([{ kind: 'webhook', target: 'good-key', body: { msgtype: 'markdown', markdown: { content: '**逾期提醒**' } } }]);
    expect(await dispatcher.drain()).toBe(0);
  });

  it('keeps a permanent failure with its reason and stops retrying', async () => {
    const [m] = await enqueue(t.db, webhookMarkdown('removed-robot', 'x'), t.clock);
    await dispatcher.drain();
    expect(await state(m!.id)).toMatchObject({ state: 'failed', attempts: 1, lastError: expect.stringContaining('93000') });
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
