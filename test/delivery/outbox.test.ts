import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, splitLines } from '../../src/delivery/outbox.ts';
import { appText, webhookMarkdown } from '../../src/wecom/messages.ts';
import { testDb, type TestDb } from '../support/db.ts';

let t: TestDb;
beforeAll(async () => (t = await testDb()));
afterAll(() => t.close());

describe('the outbox', () => {
  it('splits content over WeCom’s byte limits between lines, keeping every line whole', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `| 东坪镇 | 危险化学品 | ${i} |`);
    const written = await enqueue(t.db, appText('demo-leader', rows.join('\n')), t.clock);
    const stored = await t.db.outboxMessage.findMany({
      where: { id: { in: written.map((w) => w.id) } },
      orderBy: { id: 'asc' },
    });
    expect(stored.length).toBeGreaterThan(1);
    const contents = stored.map((s) => (JSON.parse(s.payload) as { text: { content: string } }).text.content);
    for (const c of contents) expect(Buffer.byteLength(c)).toBeLessThanOrEqual(2048);
    expect(contents.join('\n')).toBe(rows.join('\n'));
  });

  it('keeps a short message whole, and cuts a single over-long line between characters', async () => {
    expect(await enqueue(t.db, webhookMarkdown('k', '**短**'), t.clock)).toHaveLength(1);
    const long = '安'.repeat(2000); // 6000 bytes
    const pieces = splitLines(long, 4096);
    expect(pieces.map((p) => Buffer.byteLength(p))).toEqual([4095, 1905]);
    expect(pieces.join('')).toBe(long);
  });
});
