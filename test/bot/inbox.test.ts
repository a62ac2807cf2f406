import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Inbox, type Accepted } from '../../src/bot/inbox.ts';
import { Registry } from '../../src/bot/registry.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';

let t: TestDb;
let registry: Registry;
const inbox = () => new Inbox({ db: t.db, bus: new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry }), clock: t.clock });
const message = (id: string, text = '/我是谁'): Accepted => ({ dedupeKey: `app:${id}`, channel: 'app', userId: 'demo-leader', chatId: null, text, replyVia: 'app' });

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
    expect(JSON.parse(out[0]!.payload)).toMatchObject({ touser: 'demo-leader', msgtype: 'text', text: { content: row.reply } });

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
});
