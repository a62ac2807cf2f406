import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Inbox, type Accepted } from '../../src/bot/inbox.ts';
import { Registry } from '../../src/bot/registry.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';

let t: TestDb;
let registry: Registry;
const inbox = () =>
  new Inbox({
    db: t.db,
    bus: new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry }),
    clock: t.clock,
  });
const message = (id: string, text = '/我是谁'): Accepted => ({
  dedupeKey: `app:${id}`,
  channel: 'app',
  userId: 'demo-leader',
  chatId: null,
  text,
  replyVia: 'app',
});

beforeAll(async () => {
  t = await testDb({ demo: true });
  registry = await Registry.load();
});
afterAll(() => t.close());

describe('the inbox', () => {
  it('finishes, after a restart, a message accepted before the crash, once', async () => {
    // The first process stored the message and died before handling it.
    await inbox().accept(message('crash-1'));
    expect(await t.db.outboxMessage.count({ where: { target: 'demo-leader' } })).toBe(0);

    const restarted = inbox();
    expect(await restarted.resume()).toBe(1);
    const row = await t.db.inboundMessage.findUniqueOrThrow({ where: { dedupeKey: 'app:crash-1' } });
    expect(row.state).toBe('handled');
    expect(row.reply).toContain('演示·县领导');
    const out = await t.db.outboxMessage.findMany({ where: { target: 'demo-leader' } });
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!.payload)).toMatchObject({
      touser: 'demo-leader',
      msgtype: 'text',
      text: { content: row.reply },
    });

    expect(await inbox().resume()).toBe(0);
    expect(await t.db.outboxMessage.count({ where: { target: 'demo-leader' } })).toBe(1);
  });

  it('runs a message delivered twice at the same moment once', async () => {
    const box = inbox();
    const audits = await t.db.auditEvent.count();
    const [a, b] = await Promise.all([box.receive(message('twice')), box.receive(message('twice'))]);
    expect(a.reply).toBe(b.reply);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(await t.db.auditEvent.count()).toBe(audits + 1);
    expect(await t.db.outboxMessage.count({ where: { target: 'demo-leader' } })).toBe(2);
  });

  it('adopts, as the leader does, only messages older than the cut-off (a dead instance’s), leaving the ones in hand', async () => {
    await inbox().accept(message('dead-instance'));
    t.clock.advance(90_000);
    await inbox().accept(message('in-hand'));
    const cutoff = new Date(t.clock.now().getTime() - 60_000);
    expect(await inbox().resume(cutoff)).toBe(1);
    const state = async (id: string) =>
      (await t.db.inboundMessage.findUniqueOrThrow({ where: { dedupeKey: `app:${id}` } })).state;
    expect(await state('dead-instance')).toBe('handled');
    expect(await state('in-hand')).toBe('received');
  });

  it('answers with the stored reply when another instance handled the message while it ran', async () => {
    const { row } = await inbox().accept(message('raced', '/上报 危化 3/40 东坪 raced'));
    const audits = await t.db.auditEvent.count();
    // Another instance finished it first (as after a retry to another replica).
    await t.db.inboundMessage.update({
      where: { id: row.id },
      data: { state: 'handled', reply: 'the other instance’s answer' },
    });
    const liaison = {
      ...row,
      payload: JSON.stringify({ ...message('raced', '/上报 危化 3/40 东坪 raced'), userId: 'demo-liaison-yjj' }),
    };
    expect(await inbox().process({ ...liaison, state: 'received' })).toEqual({ text: 'the other instance’s answer' });
    expect(await t.db.progressReport.count({ where: { note: 'raced' } })).toBe(0);
    expect(await t.db.auditEvent.count()).toBe(audits);
  });
});
