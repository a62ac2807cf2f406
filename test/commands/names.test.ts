import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { testBot, type TestDb } from '../support/db.ts';
import { dialog } from '../support/dialog.ts';

// Rule: a name that names nothing is a question with the nearest known names, never a guess; a
// word after a report's numbers that looks like a place is a place.

let t: TestDb;
let bus: Bus;
const say = (userId: string, text: string) => bus.handle({ channel: 'sandbox', userId, chatId: null, text });
const snapshot = async () =>
  JSON.stringify([await t.db.progressReport.findMany({ orderBy: { id: 'asc' } }), await t.db.obligation.count()]);

beforeAll(async () => ({ t, bus } = await testBot({ demo: true })));
afterAll(() => t.close());

describe('an unknown place is a question, not a note', () => {
  it('asks about a word after the numbers that looks like a township, and stores nothing', async () => {
    const before = await snapshot();
    const replies = await dialog(bus, [
      ['demo-liaison-yjj', '/上报 民爆 4/4 东平 已全部投保', '找不到乡镇“东平”，您是不是要写东坪？'],
      ['demo-liaison-yjj', '/上报 危化 4/4 东平镇', '找不到乡镇“东平镇”，您是不是要写东坪镇？'],
      ['demo-liaison-yjj', '/上报 危化 4/4 北京镇 已全部投保', '找不到乡镇“北京镇”，请写本县的乡镇名'],
      ['demo-liaison-yjj', '/上报 危化 4/4 城东街道', '找不到乡镇“城东街道”'],
    ]);
    expect(replies.map((r) => r.outcome)).toEqual(replies.map(() => 'invalid'));
    expect(await snapshot()).toBe(before);
  });

  it('takes a known township as the place, and other words as the note', async () => {
    const place = await say('demo-liaison-yjj', '/上报 危化 4/4 东坪 已全部投保');
    expect(place.outcome, place.text).toBe('ok');
    expect(
      await t.db.progressReport.findFirstOrThrow({ orderBy: { id: 'desc' }, include: { township: true } }),
    ).toMatchObject({ township: { name: '东坪镇' }, note: '已全部投保' });
    const note = await say('demo-liaison-yjj', '/上报 危化 5/6 已全部督促');
    expect(note.outcome, note.text).toBe('ok');
    expect(await t.db.progressReport.findFirstOrThrow({ orderBy: { id: 'desc' } })).toMatchObject({
      townshipId: null,
      note: '已全部督促',
    });
  });
});

describe('units, sectors and townships get the nearest known names', () => {
  it('/交办 to a misspelt unit suggests the nearest, writing nothing', async () => {
    const before = await snapshot();
    const replies = await dialog(bus, [
      ['demo-leader', '/交办 东平 报送台账 明天', '没有找到“东平”。您是不是要写东坪？'],
      ['demo-leader', '/交办 建设局 报送台账 明天', '您是不是要写建筑、县住建局？'],
    ]);
    expect(replies.map((r) => r.outcome)).toEqual(['invalid', 'invalid']);
    expect(await snapshot()).toBe(before);
  });

  it('/覆盖率 of a department names the sectors it leads; of a near miss, the nearest names', async () => {
    expect((await say('demo-leader', '/覆盖率 应急局')).text).toMatch(
      /^县应急管理局 不是行业或乡镇。它牵头的行业：.*危化/,
    );
    expect((await say('demo-leader', '/覆盖率 东坪镇人民政府')).text).toContain('您是不是要写东坪？');
    expect((await say('demo-leader', '/覆盖率 建设局')).text).toContain('您是不是要写建筑、县住建局？');
    expect((await say('demo-liaison-yjj', '/上报 危话 4/4')).text).toContain('您是不是要写危化？');
  });

  it('/逾期 of a misspelt unit suggests the nearest', async () => {
    const out = await say('demo-leader', '/逾期 应机局');
    expect(out.outcome).toBe('invalid');
    expect(out.text).toContain('没有找到单位“应机局”。您是不是要写县应急管理局？');
  });

  it('/覆盖率 东坪 危化 gives that one cell, in either order', async () => {
    const cell = await say('demo-leader', '/覆盖率 东坪 危化');
    expect(cell.outcome, cell.text).toBe('ok');
    expect(cell.text.split('\n')[0]).toBe('📊 东坪镇危险化学品安责险参保率');
    const sectorRows = (text: string) => text.split('\n').filter((l) => /^[🟢🟡🔴⚪] .* 家 /u.test(l));
    expect(sectorRows(cell.text)).toHaveLength(1);
    expect(sectorRows(cell.text)[0]).toContain('危险化学品');
    // The same line as in the township's own view.
    const township = await say('demo-leader', '/覆盖率 东坪');
    expect(sectorRows(township.text)).toContain(sectorRows(cell.text)[0]);
    expect((await say('demo-leader', '/覆盖率 危化 东坪')).text).toBe(cell.text);
    const bad = await say('demo-leader', '/覆盖率 东坪 梅城');
    expect(bad.outcome).toBe('invalid');
    expect(bad.text).toContain('两个词应是一个乡镇和一个行业');
  });
});
