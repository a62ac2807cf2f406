import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import type { Service } from '../../src/service.ts';
import { pinganDongping, testDb, type TestDb } from '../support/db.ts';
import { appTextXml, botTextMessage, FakeWeComApi, type WeComSender } from '../support/fake-wecom.ts';
import { APP, startWecomService, until } from '../support/service.ts';

// Claims, disputes, agencies' findings and /查询 through WeCom's real protocol: signed, encrypted
// callbacks in, the fake WeCom server out. claim → overdue reminder → payment; dispute → a press
// of the outcome's button on the coordinating liaison's app card → outcome; finding → insurer and
// county office told → counted in /排名; /查询 by each kind of member, with scope refusals.

let t: TestDb;
let service: Service;
let api: FakeWeComApi;
let bot: WeComSender;
let app: WeComSender;
const clock = fixedClock('2026-11-29T08:00:00+08:00');
let insured: { id: number; name: string; creditCode: string };
let claimId: number;
let serial = 0;

/** A message to the AI bot in a chat (or alone); the reply it answers with. */
async function say(userid: string, text: string, chatid?: string): Promise<string> {
  const res = await bot.postBot(botTextMessage({ msgid: `claims-${++serial}`, userid, chatid, text }));
  expect(res.status).toBe(200);
  return (bot.openBotReply(await res.json()) as { stream: { content: string } }).stream.content;
}
/** A message to the self-built app; its reply goes out through the app (read from the fake WeCom): the one that says `says`. */
async function sayApp(from: string, text: string, says: string): Promise<string> {
  const before = api.delivered.length;
  const xml = appTextXml({
    corpId: APP.corpId,
    from,
    text,
    msgId: String(9_000 + ++serial),
    createTime: Math.floor(clock.now().getTime() / 1000),
  });
  expect((await app.postApp(xml)).status).toBe(200);
  const sent = await until(async () => {
    await settle();
    return api.delivered
      .slice(before)
      .find((d) => d.kind === 'app' && d.target === from && JSON.stringify(d.body).includes(says));
  }, `the app reply to ${from} saying ${says}`);
  return JSON.stringify(sent.body);
}
/** A press of a button on an app card (template_card_event, doc 90240). */
const appPress = (from: string, key: string, card?: { taskId: string; responseCode: string }) =>
  app.postApp(
    `<xml><ToUserName><![CDATA[${APP.corpId}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${Math.floor(clock.now().getTime() / 1000) + ++serial}</CreateTime>` +
      `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[${key}]]></EventKey>` +
      `<TaskId><![CDATA[${card?.taskId ?? `apptask${serial}`}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>` +
      `<ResponseCode><![CDATA[${card?.responseCode ?? 'rc'}]]></ResponseCode><AgentID>1000002</AgentID></xml>`,
  );
const settle = async () => {
  await service.inbox.idle();
  await service.dispatcher.drain();
  await service.dispatcher.drain();
};
/**
 * The dispatcher working through `minutes` of simulated time (reminders are spread over a few
 * minutes), the leader lease renewed on that clock as its timer would.
 */
const drainFor = async (minutes: number) => {
  for (let s = 0; s < minutes * 4; s++) {
    await service.lease.acquire();
    await service.dispatcher.drain();
    clock.advance(15_000);
  }
};
/** What reached one destination after `from` (an index into the fake WeCom's log), as text. */
const deliveredTo = (target: string, from = 0) =>
  api.delivered
    .slice(from)
    .filter((d) => d.target === target)
    .map((d) => JSON.stringify(d.body));

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi(APP.corpId, 'app-secret', () => clock.now().getTime());
  for (const key of ['demo-webhook-leaders', 'demo-webhook-yjj', 'demo-webhook-jtj', 'demo-webhook-dongping'])
    api.webhooks.add(key);
  const apiBase = await api.start();
  ({ service, bot, app } = await startWecomService(t, apiBase, clock));
  insured = await pinganDongping(t.db, '2026-10-01');
  // 县住建局 has no group: its liaison hears through the app, with the card's buttons.
  const zjj = await t.db.unit.findFirstOrThrow({ where: { code: 'zjj' } });
  await t.db.member.create({ data: { userId: 'liaison-zjj', name: '住建局联络员', roles: 'liaison', unitId: zjj.id } });
});

afterAll(async () => {
  await service?.close();
  await api?.stop();
  await t?.close();
});

describe('a claim through WeCom: recorded, reminded when overdue, paid', () => {
  it('an insurer records it in a chat; an amount that is not money and a report before the accident write nothing', async () => {
    expect(
      await say('demo-insurer-pingan', `@安责险助手 /理赔 ${insured.creditCode} 10月20日 10月21日 一点钱`),
    ).toContain('金额“一点钱”不对');
    expect(await say('demo-insurer-pingan', `/理赔 ${insured.creditCode} 10月20日 10月19日 8000`)).toContain(
      '报案日期 2026-10-19 早于事故日期 2026-10-20',
    );
    expect(await t.db.claim.count()).toBe(0);
    const reply = await say('demo-insurer-pingan', `/理赔 ${insured.creditCode} 10月20日 10月21日 8.5万`);
    expect(reply).toContain('✅ 已登记理赔 #');
    claimId = (await t.db.claim.findFirstOrThrow()).id;
    expect(await t.db.auditEvent.count({ where: { command: 'claim', outcome: 'ok' } })).toBe(1);
  });

  it('the reminder sweep tells 应急局 in its group and 平安 through the app', async () => {
    clock.set('2026-11-30T09:00:00+08:00');
    const before = api.delivered.length;
    const runs = await service.scheduler.runAt(clock.now());
    await drainFor(15);
    expect(runs[0]!.reminders.map((r) => r.rule)).toContain('claim-overdue');
    expect(deliveredTo('demo-webhook-yjj', before).join()).toContain(`#${claimId} ${insured.name}`);
    expect(deliveredTo('demo-webhook-yjj', before).join()).toContain('已逾期 10 天');
    expect(deliveredTo('demo-insurer-pingan', before).join()).toContain('逾期未赔付的理赔 1 件');
  });

  it('the insurer records the payment in the app; a payment before the accident is refused', async () => {
    clock.set('2026-12-01T10:00:00+08:00');
    await sayApp('demo-insurer-pingan', `/赔付 ${claimId} 8万 2026-10-01`, '早于事故日期');
    expect((await t.db.claim.findUniqueOrThrow({ where: { id: claimId } })).paidOn).toBeNull();
    const before = api.delivered.length;
    await sayApp('demo-insurer-pingan', `/赔付 ${claimId} 8万 今天`, '报案后 41 天');
    expect(await t.db.claim.findUniqueOrThrow({ where: { id: claimId } })).toMatchObject({
      paidFen: 8_000_000,
      paidOn: '2026-12-01',
    });
    await settle();
    expect(deliveredTo('demo-webhook-yjj', before).join()).toContain('逾期理赔已赔付');
  });
});

describe('a dispute through WeCom: the coordinating liaison ends it with one press', () => {
  it('the township opens it naming 住建局; its liaison gets a card with a button per outcome and presses one', async () => {
    const before = api.delivered.length;
    const reply = await say('demo-liaison-dongping', `/争议 ${claimId} 住建局 伤残等级认定偏低`, 'demo-chat-dongping');
    expect(reply).toContain('由县住建局协调');
    await settle();
    const card = api.delivered
      .slice(before)
      .find((d) => d.target === 'liaison-zjj' && d.body.msgtype === 'template_card');
    const { button_list: buttons, task_id: taskId } = card!.body.template_card as {
      button_list: { text: string; key: string }[];
      task_id: string;
    };
    expect(buttons.map((b) => b.text)).toEqual(['达成一致', '维持原处理', '转仲裁或诉讼']);
    // Someone else pressing it is refused, and nothing changes.
    expect((await appPress('demo-liaison-jtj', buttons[0]!.key)).status).toBe(200);
    await settle();
    expect((await t.db.claimDispute.findFirstOrThrow()).closedAt).toBeNull();
    const responseCode = api.issueResponseCode('liaison-zjj', taskId);
    expect((await appPress('liaison-zjj', buttons[0]!.key, { taskId, responseCode })).status).toBe(200);
    await until(
      async () => (await t.db.claimDispute.findFirst({ where: { outcome: 'agreed' } })) ?? undefined,
      'the outcome to be recorded',
    );
    const d = await t.db.claimDispute.findFirstOrThrow();
    expect(d).toMatchObject({ closedBy: 'liaison-zjj', outcome: 'agreed' });
    await settle();
    expect(deliveredTo('demo-insurer-pingan', before).join()).toContain('理赔争议协调结束');
    // The notice's card is closed with the press's response_code: its buttons greyed out (doc 94888).
    const closed = await until(async () => {
      await settle();
      return api.delivered.find((d) => d.body.response_code === responseCode);
    }, 'the card closed');
    expect(closed.body).toEqual({
      userids: ['liaison-zjj'],
      response_code: responseCode,
      button: { replace_name: '已处理' },
      agentid: 1000002,
    });
  });
});

describe('an agency finding through WeCom, and /查询 by each kind of member', () => {
  it('is told to the insurer and the county office, and counts in /排名', async () => {
    const before = api.delivered.length;
    const reply = await say('demo-agency', `/发现 平安 理赔 #${claimId} 报案后 41 天才赔付`);
    expect(reply).toContain('✅ 已登记发现 #');
    await settle();
    expect(deliveredTo('demo-insurer-pingan', before).join()).toContain('服务发现（理赔服务）');
    expect(deliveredTo('demo-webhook-leaders', before).join()).toContain('服务发现（理赔服务）');
    const rank = await say('demo-leader', '/排名', 'demo-chat-leaders');
    expect(rank).toContain(
      '中国平安财险安化支公司  理赔 1 件 · 已赔 1 · 逾期未赔 0 · 报案至赔付中位 41 天 · 未结争议 0 · 第三方发现 1',
    );
  });

  it('/查询 answers each within their scope and refuses what lies outside it', async () => {
    const outside = await t.db.enterprise.findFirstOrThrow({
      where: {
        township: { code: { not: '430923121' } },
        sector: { code: { notIn: ['transport'] } },
        policies: { none: { insurer: { code: 'pingan-pc' } } },
      },
      orderBy: { id: 'asc' },
    });
    for (const who of ['demo-leader', 'demo-agency', 'demo-liaison-dongping', 'demo-insurer-pingan', 'demo-admin'])
      expect(await say(who, `/查询 ${insured.creditCode}`), who).toContain(`🏭 ${insured.name}`);
    expect(await say('demo-liaison-dongping', `/查询 ${outside.creditCode}`)).toContain(
      '不在您的查询范围（东坪镇的企业）',
    );
    expect(await say('demo-liaison-jtj', `/查询 ${outside.creditCode}`)).toContain('不在您的查询范围');
    expect(await say('demo-insurer-pingan', `/查询 ${outside.creditCode}`)).toContain('不在您的查询范围');
    expect(await say('demo-agency', `/查询 ${outside.creditCode}`)).toContain(`🏭 ${outside.name}`);
    expect(await say('someone-unknown', `/查询 ${outside.creditCode}`)).not.toContain('🏭');
  });
});
