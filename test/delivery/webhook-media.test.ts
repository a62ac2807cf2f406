import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { appMedia, webhookFile, webhookImage, webhookText } from '../../src/wecom/messages.ts';
import { testDb, type TestDb } from '../support/db.ts';
import type { FakeWeComApi } from '../support/fake-wecom.ts';
import { fakeWeComDispatcher } from '../support/service.ts';

// Group robot messages beyond markdown: text with @-mentions, images inline, files uploaded first.

let t: TestDb;
let api: FakeWeComApi;
let dispatcher: Dispatcher;

beforeAll(async () => {
  t = await testDb();
  ({ api, dispatcher } = await fakeWeComDispatcher(t, ['group-key']));
});
afterAll(async () => {
  await api.stop();
  await t.close();
});
beforeEach(async () => {
  await t.db.outboxMessage.deleteMany();
  api.delivered.length = 0;
  api.uploads.clear();
});

const row = async (id: number) => t.db.outboxMessage.findUniqueOrThrow({ where: { id } });

describe('webhook text, image and file messages', () => {
  it('a text @-mentions members by userid; a long one is split, mentioning them once, with its last part', async () => {
    await enqueue(t.db, webhookText('group-key', '请尽快签收 #14', ['demo-liaison-jtj']), t.clock);
    const lines = Array.from({ length: 150 }, (_, i) => `🔴 #${i} 开展投保落实安责险情况专项执法检查`);
    await enqueue(t.db, webhookText('group-key', lines.join('\n'), ['demo-liaison-jtj', 'demo-leader']), t.clock);
    await dispatcher.drain();
    const [short, ...parts] = api.delivered.map(
      (d) => d.body as { msgtype: string; text: { content: string; mentioned_list?: string[] } },
    );
    expect(short).toEqual({
      msgtype: 'text',
      text: { content: '请尽快签收 #14', mentioned_list: ['demo-liaison-jtj'] },
    });
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) expect(Buffer.byteLength(p.text.content)).toBeLessThanOrEqual(2048);
    expect(parts.map((p) => p.text.content).join('\n')).toBe(lines.join('\n'));
    expect(parts.map((p) => p.text.mentioned_list)).toEqual([
      ...parts.slice(1).map(() => undefined),
      ['demo-liaison-jtj', 'demo-leader'],
    ]);
  });

  it('an image goes inline, in base64 with its MD5; one over 2 MB is refused before it is queued', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(50_000)]);
    const [m] = await enqueue(t.db, webhookImage('group-key', png), t.clock);
    await dispatcher.drain();
    expect((await row(m!.id)).state).toBe('sent');
    const sent = api.delivered[0]!.body.image as { base64: string; md5: string };
    expect(Buffer.from(sent.base64, 'base64').equals(png)).toBe(true);
    expect(sent.md5).toBe(createHash('md5').update(png).digest('hex'));
    expect(() => webhookImage('group-key', Buffer.alloc(2 * 1024 * 1024 + 1))).toThrow(/2 MB/);
  });

  it('a file: the outbox keeps its path and name; the sender uploads it (multipart), then sends its media_id', async () => {
    const path = join(t.dir, 'weekly.csv');
    const data = Buffer.from('乡镇,行业,已投保,应投保\n东坪镇,危险化学品,12,13\n', 'utf8');
    writeFileSync(path, data);
    const [m] = await enqueue(t.db, webhookFile('group-key', path, '安化县安责险周报.csv'), t.clock);
    expect(JSON.parse((await row(m!.id)).payload)).toEqual({
      msgtype: 'file',
      file: { path, name: '安化县安责险周报.csv' },
    });
    await dispatcher.drain();
    expect((await row(m!.id)).state).toBe('sent');
    const [mediaId, upload] = [...api.uploads][0]!;
    expect(upload).toMatchObject({ key: 'group-key', name: '安化县安责险周报.csv', filelength: data.length });
    expect(upload!.data.equals(data)).toBe(true);
    expect(api.delivered).toEqual([
      { kind: 'webhook', target: 'group-key', body: { msgtype: 'file', file: { media_id: mediaId } } },
    ]);
  });

  it('a rate-limited upload is retried later; a missing file or a removed robot fails at once, kept with its reason', async () => {
    const path = join(t.dir, 'ranking.csv');
    writeFileSync(path, '排名,乡镇,参保率\n1,东坪镇,92%\n');
    api.failNext.push(45009);
    const [retried] = await enqueue(t.db, webhookFile('group-key', path, '通报排名.csv'), t.clock);
    const [missing] = await enqueue(t.db, webhookFile('group-key', join(t.dir, 'gone.csv'), '已删除.csv'), t.clock);
    const [removed] = await enqueue(t.db, webhookFile('removed-key', path, '通报排名.csv'), t.clock);
    await dispatcher.drain();
    expect(await row(retried!.id)).toMatchObject({
      state: 'pending',
      attempts: 1,
      lastError: expect.stringContaining('45009'),
    });
    expect(await row(missing!.id)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: expect.stringContaining('已删除.csv'),
    });
    expect(await row(removed!.id)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: expect.stringContaining('93000'),
    });
    t.clock.advance(60_000);
    await dispatcher.drain();
    expect((await row(retried!.id)).state).toBe('sent');
    expect(api.delivered.map((d) => d.body.msgtype)).toEqual(['file']);
    t.clock.set('2026-11-29T08:00:00+08:00');
  });
});

describe('app images and files', () => {
  it('are uploaded through media/upload with the app token, then sent by media_id', async () => {
    const path = join(t.dir, '覆盖率.png');
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(3000)]);
    writeFileSync(path, png);
    const [m] = await enqueue(t.db, appMedia('demo-leader', 'image', path, '覆盖率.png'), t.clock);
    await dispatcher.drain();
    expect((await row(m!.id)).state).toBe('sent');
    const sent = api.delivered.find((x) => x.kind === 'app')!.body as { msgtype: string; image: { media_id: string } };
    expect(sent.msgtype).toBe('image');
    expect(api.uploads.get(sent.image.media_id)?.data.equals(png)).toBe(true);

    const [missing] = await enqueue(
      t.db,
      appMedia('demo-leader', 'file', join(t.dir, 'gone.xlsx'), 'gone.xlsx'),
      t.clock,
    );
    await dispatcher.drain();
    expect(await row(missing!.id)).toMatchObject({ state: 'failed', attempts: 1 });
  });
});
