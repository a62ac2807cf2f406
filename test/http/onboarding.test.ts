import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import type { Service } from '../../src/service.ts';
import { testDb, type TestDb } from '../support/db.ts';
import { appTextXml, botTextMessage, FakeWeComApi, type WeComSender } from '../support/fake-wecom.ts';
import { APP, cardPress, responseUrls, startWecomService, until } from '../support/service.ts';

// #24 item 2 through WeCom's callbacks, against the fake WeCom: someone unregistered writes in a
// unit's group → an admin sees them with /待登记 → presses the card's button → they work; a
// hand-over confirmed by a press → both are told through the app → the successor's /任务 has the items.

let t: TestDb;
let service: Service;
let api: FakeWeComApi;
let bot: WeComSender;
let app: WeComSender;
const clock = fixedClock('2026-11-29T08:00:00+08:00');

let urls: Awaited<ReturnType<typeof responseUrls>>;

type Card = { button_list: { text: string; key: string }[] };
type BotReply = { msgtype: string; stream: { content: string }; template_card?: Card };

async function say(userid: string, text: string, msgid: string, chatid?: string): Promise<BotReply> {
  const res = await bot.postBot(botTextMessage({ msgid, userid, chatid, text }));
  expect(res.status).toBe(200);
  return bot.openBotReply(await res.json()) as BotReply;
}

/** A card button pressed in a group (doc 101027), its answer sent to a response_url. */
async function press(userid: string, key: string, msgid: string, chatid: string): Promise<string> {
  const res = await bot.postBot(cardPress({ msgid, userid, chatid, key, responseUrl: urls.url(msgid) }));
  expect(res.status).toBe(200);
  const answer = await until(
    async () => (await service.dispatcher.drain(), urls.answered.find((a) => a.code === msgid)),
    `the answer to ${msgid}`,
  );
  return answer.body.markdown.content;
}

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi(APP.corpId, 'app-secret');
  const apiBase = await api.start();
  urls = await responseUrls();
  ({ service, bot, app } = await startWecomService(t, apiBase, clock));
});

afterAll(async () => {
  await service?.close();
  await api?.stop();
  await urls?.close();
  await t?.close();
});

describe('onboarding through WeCom', () => {
  it('unknown user writes → admin sees them → presses bind → the user works', async () => {
    const refused = await say('newcomer-dp', '@安责险助手 /任务', 'onb-1', 'demo-chat-dongping');
    expect(refused.stream.content).toContain('您（newcomer-dp）还未登记');
    await say('newcomer-dp', '@安责险助手 /我是谁', 'onb-2', 'demo-chat-dongping');

    const list = await say('demo-admin', '/待登记', 'onb-3', 'demo-chat-dongping');
    expect(list.stream.content).toContain('• newcomer-dp · 2 次');
    expect(list.stream.content).toContain('演示·东坪镇工作群：“/我是谁”');
    const button = list.template_card!.button_list.find((b) => b.key.includes('newcomer-dp'))!;
    expect(button).toEqual({
      text: '登记 newcom…',
      style: 1,
      key: 'cmd:/绑定 newcomer-dp 联络员 430923121',
    });

    const bound = await press('demo-admin', button.key, 'onb-press', 'demo-chat-dongping');
    expect(bound).toContain('✅ 已登记 newcomer-dp');
    const audit = await service.db.auditEvent.findFirstOrThrow({ where: { command: 'bind' }, orderBy: { id: 'desc' } });
    expect([audit.actorUserId, audit.outcome]).toEqual(['demo-admin', 'ok']);

    const who = await say('newcomer-dp', '@安责险助手 /我是谁', 'onb-4', 'demo-chat-dongping');
    expect(who.stream.content).toContain('单位：东坪镇');
    expect((await say('demo-admin', '/待登记', 'onb-5')).stream.content).not.toContain('newcomer-dp');
  });
});

describe('hand-over through WeCom', () => {
  it('hand-over confirmed by a press → both told through the app → the successor’s /任务 shows the items', async () => {
    const assigned = await say('demo-leader', '/交办 东坪 报送交接测试台账 12月20日', 'ho-0', 'demo-chat-leaders');
    expect(assigned.stream.content).toContain('报送交接测试台账');
    const item = await service.db.obligation.findFirstOrThrow({ where: { title: '报送交接测试台账' } });
    const ack = await say('demo-liaison-dongping', `/签收 ${item.id}`, 'ho-1', 'demo-chat-dongping');
    expect(ack.stream.content).toContain(`已签收 #${item.id}`);

    const preview = await say(
      'demo-admin',
      '/交接 demo-liaison-dongping demo-responsible-dongping',
      'ho-2',
      'demo-chat-dongping',
    );
    expect(preview.stream.content).toContain('将把 演示·东坪镇联络员 在东坪镇的角色（联络员）');
    expect(preview.template_card!.button_list[0]!.key).toBe('cmd:/执行');
    const done = await press('demo-admin', 'cmd:/执行', 'ho-press', 'demo-chat-dongping');
    expect(done).toContain('已把在东坪镇的角色（联络员）和 1 项经办事项交给 演示·东坪镇责任人');

    const told = await until(async () => {
      await service.dispatcher.drain();
      const d = api.delivered.filter(
        (x) => x.kind === 'app' && ['demo-responsible-dongping', 'demo-liaison-dongping'].includes(x.target),
      );
      return d.length >= 2 ? d : undefined;
    }, 'both told through the app');
    const text = (target: string) => (told.find((d) => d.target === target)!.body.text as { content: string }).content;
    expect(text('demo-responsible-dongping')).toContain('演示·东坪镇联络员 已把在东坪镇的工作交接给您');
    expect(text('demo-responsible-dongping')).toContain(`#${item.id} ${item.title}`);
    expect(text('demo-liaison-dongping')).toContain('您的工作已交接给 演示·东坪镇责任人');

    // The successor asks in the app: the reply comes back through the outbox.
    await app.postApp(
      appTextXml({
        corpId: APP.corpId,
        from: 'demo-responsible-dongping',
        text: '/任务',
        msgId: '9101',
        createTime: 2,
      }),
    );
    const tasks = await until(async () => {
      const rows = await service.db.outboxMessage.findMany({
        where: { target: 'demo-responsible-dongping', payload: { contains: '未办结督办事项' } },
      });
      return rows[0];
    }, 'the successor’s /任务');
    expect(tasks.payload).toContain(`#${item.id}`);
    expect(tasks.payload).toContain('经办：演示·东坪镇责任人');
  });
});
