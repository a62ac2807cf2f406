import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import type { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { writeLedgerExport } from '../../src/domain/ledger-export.ts';
import { translator } from '../../src/i18n.ts';
import type { FakeWeComApi } from '../support/fake-wecom.ts';
import { testBot, TZ, type TestDb } from '../support/db.ts';
import { fakeWeComDispatcher } from '../support/service.ts';

// /撤销 takes back only what is still one's own, and keeps the record (issue #15, rule 2).

let t: TestDb;
let bus: Bus;
let api: FakeWeComApi;
let dispatcher: Dispatcher;
const say = (userId: string, text: string) => bus.handle({ channel: 'sandbox', userId, chatId: null, text });
const nameOf = async (userId: string) => (await t.db.member.findUniqueOrThrow({ where: { userId } })).name;
/** What the 东坪镇 group's robot received, in order. */
const dongpingHeard = () =>
  api.delivered
    .filter((d) => d.target === 'demo-webhook-dongping')
    .map((d) => (d.body as { markdown: { content: string } }).markdown.content);
const assign = async (title: string) => {
  const out = await say('demo-leader', `/交办 东坪 ${title} 12月10日`);
  expect(out.outcome).toBe('ok');
  return (await t.db.obligation.findFirstOrThrow({ where: { title } })).id;
};

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  ({ api, dispatcher } = await fakeWeComDispatcher(t, ['demo-webhook-dongping']));
});
afterAll(async () => {
  await api.stop();
  await t.close();
});

describe('/撤销 of a /交办', () => {
  it('withdraws it, named in words: kept with its history, in the export, out of /任务; its sent notice is retracted', async () => {
    const id = await assign('撤销测试');
    await dispatcher.drain();
    expect(dongpingHeard().at(-1)).toContain(`新交办事项** #${id}`);

    const out = await say('demo-leader', '/撤销');
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain(`已撤回交办 #${id}（东坪镇，撤销测试）`);
    expect(out.text).not.toMatch(/\/?assign/);
    expect(out.text).toContain('已发出的通知已补发撤回说明');
    expect(out.text).toContain('已通知 1 个工作群');
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id }, include: { events: true } })).toMatchObject({
      withdrawnBy: 'demo-leader',
      events: [{ toStatus: 'assigned', withdrawnAt: null }],
    });
    await dispatcher.drain();
    expect(dongpingHeard().at(-1)).toContain(`撤回了交办 #${id}（东坪镇，撤销测试）`);
    expect((await say('demo-liaison-dongping', '/任务')).text).not.toContain(`#${id} `);
    expect((await say('demo-liaison-dongping', `/签收 ${id}`)).outcome).toBe('invalid');

    const t9n = translator('zh-CN');
    const file = join(mkdtempSync(join(tmpdir(), 'undo-export-')), 'ledger.xlsx');
    await writeLedgerExport(
      t.db,
      await t.db.campaign.findFirstOrThrow(),
      { day: '2026-11-29', now: t.clock.now(), t: t9n, timeZone: TZ },
      file,
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(file);
    const rows = workbook.getWorksheet(t9n('export.sheet_obligations'))!.getSheetValues();
    const row = rows.find((r) => Array.isArray(r) && r[1] === id) as unknown[];
    expect(row).toContain('已撤回');
  });

  it('cancels a notice not yet sent, and retracts nothing', async () => {
    const id = await assign('撤销测试二');
    const queued = await t.db.outboxMessage.findFirstOrThrow({ orderBy: { id: 'desc' } });
    const out = await say('demo-leader', '/撤销');
    expect(out.text).toContain(`已撤回交办 #${id}（东坪镇，撤销测试二）`);
    expect(out.text).toContain('尚未发出的 1 条通知已取消');
    expect(out.text).not.toContain('撤回说明');
    expect((await t.db.outboxMessage.findUniqueOrThrow({ where: { id: queued.id } })).state).toBe('cancelled');
    expect(await t.db.outboxMessage.count({ where: { id: { gt: queued.id } } })).toBe(0);
  });

  it('is refused once the unit signed for it, saying who did and what to do instead; nothing changes', async () => {
    const id = await assign('撤销测试三');
    expect((await say('demo-liaison-dongping', `/签收 ${id}`)).outcome).toBe('ok');
    const before = await t.db.obligation.findUniqueOrThrow({ where: { id } });
    const out = await say('demo-leader', '/撤销');
    expect(out.outcome).toBe('invalid');
    expect(out.text).toContain(
      `不能撤销交办 #${id}（东坪镇，撤销测试三）：${await nameOf('demo-liaison-dongping')} 已在 11-29 08:00 签收`,
    );
    expect(out.text).toContain('请通知对方撤回并说明原因，或发起更正');
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id } })).toEqual(before);
  });
});

describe('/撤销 of a decided extension request', () => {
  it('is refused once a leader approved it', async () => {
    const id = await assign('撤销测试四');
    await say('demo-liaison-dongping', `/签收 ${id}`);
    expect((await say('demo-liaison-dongping', `/延期 ${id} 12月20日 材料未齐`)).outcome).toBe('ok');
    expect((await say('demo-leader', `/批准 ${id}`)).outcome).toBe('ok');
    const out = await say('demo-liaison-dongping', '/撤销');
    expect(out.outcome).toBe('invalid');
    expect(out.text).toContain(`不能撤销#${id} 的延期申请：${await nameOf('demo-leader')} 已批准延期`);
    expect(out.text).toContain('重新 /延期');
    expect(await t.db.obligation.findUniqueOrThrow({ where: { id } })).toMatchObject({ dueOn: '2026-12-20' });
  });
});

describe('/撤销 of an archived visit', () => {
  it('is refused once the township confirmed it: AQ 9010 keeps it five years', async () => {
    const e = await t.db.enterprise.findFirstOrThrow({
      where: {
        status: 'operating',
        township: { code: '430923121' },
        members: { none: {} },
        policies: {
          some: {
            insurer: { code: 'pingan-pc' },
            status: 'valid',
            startOn: { lte: '2026-11-27' },
            endOn: { gte: '2026-11-29' },
          },
        },
      },
      orderBy: { id: 'asc' },
    });
    expect((await say('demo-insurer-pingan', `/走访 ${e.creditCode} 培训 11月27日`)).outcome).toBe('ok');
    const visit = await t.db.preventionVisit.findFirstOrThrow({
      where: { enterpriseId: e.id },
      orderBy: { id: 'desc' },
    });
    expect((await say('demo-liaison-dongping', `/确认 ${visit.id} 5`)).text).toContain('已归档');
    const out = await say('demo-insurer-pingan', '/撤销');
    expect(out.outcome).toBe('invalid');
    expect(out.text).toContain(`不能撤销走访记录 #${visit.id}`);
    expect(out.text).toContain('已归档（AQ 9010 要求保存五年）');
    expect(await t.db.preventionVisit.findUniqueOrThrow({ where: { id: visit.id } })).toMatchObject({
      withdrawnAt: null,
    });
  });
});
