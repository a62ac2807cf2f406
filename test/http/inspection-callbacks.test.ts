import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import type { Service } from '../../src/service.ts';
import { testDb, type TestDb } from '../support/db.ts';
import { botTextMessage, FakeWeComApi, type WeComSender } from '../support/fake-wecom.ts';
import { APP, startWecomService } from '../support/service.ts';

// #25's lifecycles as members live them, through the AI bot's real callback (signature, AES, the
// inbox) into the service and back: inspection → rectification → closed by /投保; refusal →
// blacklist proposal → a leader's approval.

let t: TestDb;
let service: Service;
let api: FakeWeComApi;
let bot: WeComSender;
let msgid = 0;
const clock = fixedClock('2026-11-29T10:00:00+08:00');

type BotReply = { msgtype: string; stream: { finish: boolean; content: string } };
async function say(userid: string, text: string, chatid = 'demo-chat-jtj'): Promise<string> {
  const res = await bot.postBot(botTextMessage({ msgid: `insp-${++msgid}`, userid, chatid, text }));
  expect(res.status).toBe(200);
  const reply = bot.openBotReply(await res.json()) as BotReply;
  expect(reply.stream.finish).toBe(true);
  return reply.stream.content;
}

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi(APP.corpId, 'app-secret');
  ({ service, bot } = await startWecomService(t, await api.start(), clock));
});
afterAll(async () => {
  await service?.close();
  await api?.stop();
  await t?.close();
});

describe('through WeCom callbacks', () => {
  it('inspection → rectification → closed by itself by /投保', async () => {
    const e = await t.db.enterprise.findFirstOrThrow({
      where: {
        status: 'operating',
        sector: { code: 'transport' },
        policies: { none: { status: 'valid', startOn: { lte: '2026-11-29' }, endOn: { gte: '2026-11-29' } } },
      },
      orderBy: { id: 'asc' },
    });
    const inspected = await say('demo-liaison-jtj', `/检查 ${e.creditCode} 未续保 12月15日 处罚 安交罚〔2026〕9号 5万`);
    expect(inspected).toContain('✅ 已登记执法检查');
    expect(inspected).toContain('罚款 ¥50,000');
    const item = await t.db.obligation.findFirstOrThrow({ where: { inspection: { enterpriseId: e.id } } });
    expect(item).toMatchObject({ finding: 'lapsed', dueOn: '2026-12-15', status: 'assigned' });
    expect(await say('demo-liaison-jtj', '/任务')).toContain(`#${item.id} 整改：`);
    const insured = await say(
      'demo-insurer-pingan',
      `/投保 ${e.creditCode} 平安 CB-RECT-1 2026-11-29 2027-11-28 ${e.employees}`,
      'demo-chat-leaders',
    );
    expect(insured).toContain(`✅ 整改事项 #${item.id} `);
    expect((await t.db.obligation.findUniqueOrThrow({ where: { id: item.id } })).status).toBe('done');
    // A refusal through the wire writes nothing either.
    const count = await t.db.inspection.count();
    expect(await say('demo-liaison-jtj', `/检查 ${e.creditCode} 未投保 2026-11-01`)).toContain('早于今天');
    expect(await t.db.inspection.count()).toBe(count);
  });

  it('refusal → blacklist proposal → approval by a leader, nothing sent anywhere', async () => {
    const e = await t.db.enterprise.findFirstOrThrow({
      where: { status: 'operating', sector: { code: 'transport' } },
      orderBy: { id: 'desc' },
    });
    await say('demo-liaison-jtj', `/检查 ${e.creditCode} 摊派 12月10日`);
    const item = await t.db.obligation.findFirstOrThrow({
      where: { inspection: { enterpriseId: e.id }, finding: 'charged' },
    });
    // What was queued so far; nothing after it may speak of the proposal.
    const outbox = (await t.db.outboxMessage.findFirst({ orderBy: { id: 'desc' } }))?.id ?? 0;
    expect(await say('demo-liaison-jtj', `/提请黑名单 ${item.id} 拒不退还摊派的保费`)).toContain('已记录黑名单提请');
    const p = await t.db.blacklistProposal.findFirstOrThrow({ where: { obligationId: item.id } });
    expect(await say('demo-leader', '/黑名单', 'demo-chat-leaders')).toContain(`⏳ #${p.id} `);
    expect(await say('demo-leader', `/黑名单 批准 ${p.id}`, 'demo-chat-leaders')).toContain(`已批准提请 #${p.id}`);
    expect(await t.db.blacklistProposal.findUniqueOrThrow({ where: { id: p.id } })).toMatchObject({
      state: 'approved',
      proposedBy: 'demo-liaison-jtj',
      decidedBy: 'demo-leader',
    });
    // (The dispatcher may meanwhile report to the admins a message of the inspection that could not go.)
    const after = await t.db.outboxMessage.findMany({ where: { id: { gt: outbox } } });
    expect(after.filter((m) => m.payload.includes(e.name) || m.payload.includes('黑名单'))).toEqual([]);
  });
});
