import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import type { Service } from '../../src/service.ts';
import { buttonCard, cardTitle, closedCard, commandOfKey } from '../../src/wecom/cards.ts';
import { readAppMessage, readBotMessage } from '../../src/wecom/inbound.ts';
import { pinganDongping, testDb, type TestDb } from '../support/db.ts';
import { appTextXml, botTextMessage, FakeWeComApi, type WeComSender } from '../support/fake-wecom.ts';
import { APP, cardPress, responseUrls, startWecomService, until, type Answered } from '../support/service.ts';

// Template cards: replies that carry buttons (签收, 确认, 执行/取消, 批准/驳回), and button presses
// (template_card_event) that run the button's command exactly as if the presser had typed it.

const TASK_ID = /^[A-Za-z0-9_\-@]{1,128}$/;

let t: TestDb;
let service: Service;
let api: FakeWeComApi;
let bot: WeComSender;
let app: WeComSender;
const clock = fixedClock('2026-11-29T08:00:00+08:00');

/** The AI bot's response_urls (doc 101138): each code answers once. */
let urls: Awaited<ReturnType<typeof responseUrls>>;
let answered: Answered[] = [];
const responseUrl = (code: string) => urls.url(code);

const press = (o: { msgid: string; userid: string; chatid?: string; key: string; code?: string; taskId?: string }) =>
  cardPress({ ...o, responseUrl: o.code ? responseUrl(o.code) : undefined });
/** A self-built app's template_card_event as doc 90240 shows it (decrypted XML). */
const appPress = (from: string, key: string, createTime: number, taskId = 'apptask1', responseCode = 'rc') =>
  `<xml><ToUserName><![CDATA[${APP.corpId}]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${createTime}</CreateTime>` +
  `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[${key}]]></EventKey>` +
  `<TaskId><![CDATA[${taskId}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[${responseCode}]]></ResponseCode><AgentID>1000002</AgentID></xml>`;

type Card = {
  card_type: string;
  main_title: { title: string };
  button_list: { text: string; style?: number; key: string }[];
  task_id: string;
};
type BotReply = { msgtype: string; stream: { finish: boolean; content: string }; template_card?: Card };

async function say(userid: string, text: string, msgid: string, chatid?: string): Promise<BotReply> {
  const res = await bot.postBot(botTextMessage({ msgid, userid, chatid, text }));
  expect(res.status).toBe(200);
  return bot.openBotReply(await res.json()) as BotReply;
}

/**
 * Whatever a callback set going has ended: its runs in the inbox, then what they queued, sent (a
 * drain already under way may have looked before that was queued: a second one comes after it).
 */
const settle = async () => {
  await service.inbox.idle();
  await service.dispatcher.drain();
  await service.dispatcher.drain();
};
/** The answer sent to a response_url, sending what the outbox holds rather than waiting for the next tick. */
const answerAt = (code: string) =>
  until(async () => (await service.dispatcher.drain(), answered.find((a) => a.code === code)), `the answer at ${code}`);

/** Everything a press could change. */
async function snapshot() {
  const db = service.db;
  return JSON.stringify(
    await Promise.all([
      db.obligation.findMany({ orderBy: { id: 'asc' } }),
      db.obligationEvent.count(),
      db.pendingAction.findMany({ orderBy: { id: 'asc' } }),
      db.inboundMessage.count(),
      db.auditEvent.count(),
      answered.length,
      api.delivered.length,
    ]),
  );
}

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi(APP.corpId, 'app-secret');
  const apiBase = await api.start();
  urls = await responseUrls();
  answered = urls.answered;
  ({ service, bot, app } = await startWecomService(t, apiBase, clock));
});

afterAll(async () => {
  await service?.close();
  await api?.stop();
  await urls?.close();
  await t?.close();
});

describe('the AI bot', () => {
  it('answers /任务 with the whole list in a finished stream and a button_interaction card with 签收 for each new item', async () => {
    const reply = await say('demo-liaison-jtj', '@安责险助手 /任务', 'cards-tasks', 'demo-chat-jtj');
    expect(reply.msgtype).toBe('stream_with_template_card');
    expect(reply.stream.finish).toBe(true);
    expect(reply.stream.content).toContain('🔴 #14 开展投保落实安责险情况专项执法检查');
    const card = reply.template_card!;
    expect(card.card_type).toBe('button_interaction');
    expect(card.main_title.title).toBe('📋 县交通运输局 未办结督办事项 2 项');
    expect(card.button_list).toEqual([
      { text: '签收 #14', style: 1, key: 'cmd:/签收 14' },
      { text: '签收 #4', style: 1, key: 'cmd:/签收 4' },
    ]);
    expect(card.task_id).toMatch(TASK_ID);
    // A reply without buttons stays a plain stream.
    expect((await say('demo-liaison-jtj', '/我是谁', 'cards-whoami')).msgtype).toBe('stream');
  });

  it('runs a pressed 签收 as the presser, answers through the response_url, and a replayed press does nothing more', async () => {
    const event = press({
      msgid: 'press-ack-14',
      userid: 'demo-liaison-jtj',
      chatid: 'demo-chat-jtj',
      key: 'cmd:/签收 14',
      code: 'rc-ack-14',
    });
    const res = await bot.postBot(event);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(''); // a card event's passive reply could only update the card
    const answer = await answerAt('rc-ack-14');
    expect(answer.body.msgtype).toBe('markdown');
    expect(answer.body.markdown.content).toContain('✅ 已签收 #14');
    expect((await service.db.obligation.findUniqueOrThrow({ where: { id: 14 } })).status).toBe('acknowledged');
    const events = await service.db.obligationEvent.findMany({ where: { obligationId: 14, toStatus: 'acknowledged' } });
    expect(events.map((e) => [e.fromStatus, e.actorUserId])).toEqual([['assigned', 'demo-liaison-jtj']]);
    const audit = await service.db.auditEvent.findFirstOrThrow({ where: { command: 'ack' }, orderBy: { id: 'desc' } });
    expect([audit.actorUserId, audit.channel, audit.chatId, audit.outcome]).toEqual([
      'demo-liaison-jtj',
      'bot',
      'demo-chat-jtj',
      'ok',
    ]);

    const before = await snapshot();
    expect((await bot.postBot(event)).status).toBe(200);
    await settle();
    expect(await snapshot()).toBe(before);
  });

  it('refuses a forged press exactly as it refuses the typed command, and changes nothing', async () => {
    // 东坪镇's liaison may not acknowledge 交通局's obligation: typed, and pressed with a forged key.
    const typed = await say('demo-liaison-dongping', '/签收 4', 'typed-ack-4');
    expect(typed.stream.content).toContain('县交通运输局');
    const before = await service.db.obligation.findUniqueOrThrow({ where: { id: 4 } });
    const eventsBefore = await service.db.obligationEvent.count();
    await bot.postBot(
      press({ msgid: 'forged-ack-4', userid: 'demo-liaison-dongping', key: 'cmd:/签收 4', code: 'rc-forged-4' }),
    );
    const answer = await answerAt('rc-forged-4');
    expect(answer.body.markdown.content).toBe(typed.stream.content);
    expect(await service.db.obligation.findUniqueOrThrow({ where: { id: 4 } })).toEqual(before);
    expect(await service.db.obligationEvent.count()).toBe(eventsBefore);

    // A role that may not run the command at all is refused as typing would be.
    const denied = await say('demo-liaison-dongping', '/批准 14', 'typed-approve-14');
    await bot.postBot(
      press({
        msgid: 'forged-approve-14',
        userid: 'demo-liaison-dongping',
        key: 'cmd:/批准 14',
        code: 'rc-forged-approve',
      }),
    );
    expect((await answerAt('rc-forged-approve')).body.markdown.content).toBe(denied.stream.content);
    expect(denied.stream.content).toContain('/批准');
    expect(await service.db.obligationEvent.count()).toBe(eventsBefore);
  });

  it('offers 执行/取消 with a preview; 执行 pressed by someone else finds nothing, by its member runs once', async () => {
    const countBefore = await service.db.obligation.count();
    const preview = await say(
      'demo-admin',
      '/交办 全部乡镇 摸排辖区未参保企业 本月底',
      'cards-assign',
      'demo-chat-leaders',
    );
    expect(preview.stream.content).toContain('将向 23 个单位交办');
    expect(preview.template_card!.button_list).toEqual([
      { text: '执行', style: 1, key: 'cmd:/执行' },
      { text: '取消', key: 'cmd:/取消' },
    ]);
    const pending = await service.db.pendingAction.findFirstOrThrow({
      where: { userId: 'demo-admin', state: 'pending' },
    });

    // The same button pressed by another member runs *their* /执行: there is nothing of theirs to run.
    await bot.postBot(
      press({
        msgid: 'press-yes-other',
        userid: 'demo-liaison-jtj',
        chatid: 'demo-chat-leaders',
        key: 'cmd:/执行',
        code: 'rc-yes-other',
      }),
    );
    expect((await answerAt('rc-yes-other')).body.markdown.content).toContain('没有等待确认的操作');
    expect((await service.db.pendingAction.findUniqueOrThrow({ where: { id: pending.id } })).state).toBe('pending');
    expect(await service.db.obligation.count()).toBe(countBefore);

    const event = press({
      msgid: 'press-yes',
      userid: 'demo-admin',
      chatid: 'demo-chat-leaders',
      key: 'cmd:/执行',
      code: 'rc-yes',
    });
    await bot.postBot(event);
    expect((await answerAt('rc-yes')).body.markdown.content).toContain('已向 23 个单位交办');
    expect(await service.db.obligation.count()).toBe(countBefore + 23);
    expect((await service.db.pendingAction.findUniqueOrThrow({ where: { id: pending.id } })).state).toBe('done');

    const before = await snapshot();
    await bot.postBot(event);
    await settle();
    expect(await snapshot()).toBe(before);
    expect(await service.db.obligation.count()).toBe(countBefore + 23);
  });

  it('ignores a press whose key is not a command of ours, storing nothing', async () => {
    const before = await snapshot();
    const res = await bot.postBot(
      press({ msgid: 'press-foreign', userid: 'demo-admin', key: 'approve:abc', code: 'rc-foreign' }),
    );
    expect(res.status).toBe(200);
    await settle();
    expect(await snapshot()).toBe(before);
  });
});

describe('the self-built app', () => {
  it('queues a template_card app message with the buttons after the text, and WeCom gets both', async () => {
    const before = await service.db.outboxMessage.count();
    await app.postApp(
      appTextXml({ corpId: APP.corpId, from: 'demo-liaison-jtj', text: '/任务', msgId: '7001', createTime: 1 }),
    );
    const rows = await until(async () => {
      const r = await service.db.outboxMessage.findMany({
        where: { target: 'demo-liaison-jtj' },
        orderBy: { id: 'asc' },
      });
      return r.length >= 2 ? r : undefined;
    }, 'the reply in the outbox');
    expect(await service.db.outboxMessage.count()).toBe(before + 2);
    const [text, card] = rows.map(
      (r) => JSON.parse(r.payload) as { msgtype: string; text?: { content: string }; template_card?: Card },
    );
    expect(text!.msgtype).toBe('text');
    expect(text!.text!.content).toContain('#4 开展投保落实安责险情况专项执法检查');
    expect(card!.msgtype).toBe('template_card');
    expect(card!.template_card!.button_list).toEqual([{ text: '签收 #4', style: 1, key: 'cmd:/签收 4' }]); // #14 is acknowledged
    expect(card!.template_card!.task_id).toMatch(TASK_ID);
    const sent = await until(async () => {
      await service.dispatcher.drain();
      const d = api.delivered.filter((x) => x.target === 'demo-liaison-jtj');
      return d.length >= 2 ? d : undefined;
    }, 'both messages to reach WeCom');
    expect(sent[1]!.body).toMatchObject({
      touser: 'demo-liaison-jtj',
      msgtype: 'template_card',
      agentid: 1000002,
      template_card: { card_type: 'button_interaction' },
    });
  });

  it('runs a pressed button as the member, replies through the app, and a replayed event does nothing more', async () => {
    const xml = appPress('demo-liaison-jtj', 'cmd:/签收 4', 1764374400);
    expect((await app.postApp(xml)).status).toBe(200);
    await until(
      async () =>
        (await service.db.obligation.findUniqueOrThrow({ where: { id: 4 } })).status === 'acknowledged'
          ? true
          : undefined,
      'the acknowledgement',
    );
    const reply = await until(
      async () => (
        await service.dispatcher.drain(),
        api.delivered.find((d) => d.target === 'demo-liaison-jtj' && JSON.stringify(d.body).includes('已签收 #4'))
      ),
      'the reply',
    );
    expect(reply.body).toMatchObject({ msgtype: 'text' });
    const row = await service.db.inboundMessage.findFirstOrThrow({
      where: { dedupeKey: { startsWith: 'app-event:demo-liaison-jtj:1764374400:template_card_event' } },
    });
    expect(JSON.parse(row.payload)).toMatchObject({ text: '/签收 4', userId: 'demo-liaison-jtj' });

    const before = await snapshot();
    await app.postApp(xml);
    await settle();
    expect(await snapshot()).toBe(before);
  });
});

describe('visits awaiting confirmation', () => {
  let insured: { id: number; name: string; creditCode: string };
  const ask = (userId: string, text: string, chatId: string | null = null) =>
    service.bus.handle({ channel: 'sandbox', userId, chatId, text });

  beforeAll(async () => {
    insured = await pinganDongping(service.db, '2026-11-27');
  });

  it('offer 确认 to those who may confirm: in the group where /走访 is said, and in /走访记录', async () => {
    const inGroup = await ask('demo-insurer-pingan', `/走访 ${insured.creditCode} 排查 昨天`, 'demo-chat-dongping');
    const visit = await service.db.preventionVisit.findFirstOrThrow({
      where: { enterpriseId: insured.id },
      orderBy: { id: 'desc' },
    });
    expect(inGroup.buttons).toEqual([{ label: `确认 #${visit.id}`, command: `/确认 ${visit.id}`, style: 'primary' }]);
    expect((await ask('demo-insurer-pingan', '/走访记录')).buttons).toBeUndefined(); // insurers never confirm
    expect((await ask('demo-liaison-dongping', '/走访记录')).buttons).toEqual([
      { label: `确认 #${visit.id}`, command: `/确认 ${visit.id}`, style: 'primary' },
    ]);
    expect((await ask('demo-liaison-jtj', '/走访记录')).buttons).toBeUndefined(); // not 交通局's enterprise
    expect((await ask('demo-liaison-dongping', `/确认 ${visit.id}`)).outcome).toBe('ok');
    expect((await ask('demo-liaison-dongping', '/走访记录')).buttons).toBeUndefined();
  });

  it('send the enterprise’s own contact an app card whose 确认 runs /确认 as that contact', async () => {
    await service.db.member.create({
      data: { userId: 'contact-1', name: '企业安全员', roles: 'enterprise', enterpriseId: insured.id },
    });
    const out = await ask('demo-insurer-pingan', `/走访 ${insured.creditCode} 培训 今天`);
    expect(out.buttons).toBeUndefined(); // said one to one: nobody else to press it
    const visit = await service.db.preventionVisit.findFirstOrThrow({
      where: { enterpriseId: insured.id },
      orderBy: { id: 'desc' },
    });
    const rows = await service.db.outboxMessage.findMany({ where: { target: 'contact-1' }, orderBy: { id: 'asc' } });
    const card = JSON.parse(rows.at(-1)!.payload) as { msgtype: string; template_card: Card };
    expect(rows.map((r) => (JSON.parse(r.payload) as { msgtype: string }).msgtype)).toEqual(['text', 'template_card']);
    expect(card.template_card.button_list).toEqual([
      { text: `确认 #${visit.id}`, style: 1, key: `cmd:/确认 ${visit.id}` },
    ]);

    await app.postApp(appPress('contact-1', `cmd:/确认 ${visit.id}`, 1764374500));
    const confirmed = await until(async () => {
      const v = await service.db.preventionVisit.findUniqueOrThrow({ where: { id: visit.id } });
      return v.enterpriseConfirmedBy ? v : undefined;
    }, 'the confirmation');
    expect(confirmed.enterpriseConfirmedBy).toBe('contact-1');
  });
});

describe('cards that close', () => {
  /** A new obligation of 交通局, assigned by the admin: its 签收 is on the liaison's /任务 card. */
  const assign = async (what: string) => {
    const out = await service.bus.handle({
      channel: 'sandbox',
      userId: 'demo-admin',
      chatId: null,
      text: `/交办 交通局 ${what} 本月底`,
    });
    expect(out.outcome).toBe('ok');
    return (await service.db.obligation.findFirstOrThrow({ where: { title: what } })).id;
  };
  const LIAISON = '演示·交通局联络员';
  const WHEN = '2026-11-29 08:00';
  type Closed = Card & { sub_title_text: string; replace_text?: string };
  /** A /任务 card with one 签收, after it was pressed: the result, who and when; its one button greyed out. */
  const signedFor = (card: Card, id: number) => ({
    card_type: 'button_interaction',
    main_title: card.main_title,
    sub_title_text: expect.stringMatching(new RegExp(`^✅ 已签收 #${id}.*（${LIAISON}，${WHEN}）$`)),
    button_list: card.button_list,
    replace_text: '已处理',
    task_id: card.task_id,
  });

  it('on the AI bot: a pressed 签收 replaces the card in the passive reply with who, when and the result; a second press says who decided it', async () => {
    const id = await assign('卡片关闭测试');
    const reply = await say('demo-liaison-jtj', '@安责险助手 /任务', 'close-tasks', 'demo-chat-jtj');
    const card = reply.template_card!;
    expect(card.button_list).toEqual([{ text: `签收 #${id}`, style: 1, key: `cmd:/签收 ${id}` }]);

    const first = await bot.postBot(
      press({
        msgid: 'close-press-1',
        userid: 'demo-liaison-jtj',
        chatid: 'demo-chat-jtj',
        key: `cmd:/签收 ${id}`,
        code: 'rc-close-1',
        taskId: card.task_id,
      }),
    );
    const update = bot.openBotReply(await first.json()) as { response_type: string; template_card: Closed };
    expect(update.response_type).toBe('update_template_card');
    expect(update.template_card).toEqual(signedFor(card, id));
    expect((await answerAt('rc-close-1')).body.markdown.content).toContain(`✅ 已签收 #${id}`);
    expect((await service.db.obligation.findUniqueOrThrow({ where: { id } })).status).toBe('acknowledged');

    // The same button pressed again (a stale view, another member): who decided, and the card again; nothing runs.
    const events = await service.db.obligationEvent.count();
    const second = await bot.postBot(
      press({
        msgid: 'close-press-2',
        userid: 'demo-responsible-jtj',
        chatid: 'demo-chat-jtj',
        key: `cmd:/签收 ${id}`,
        code: 'rc-close-2',
        taskId: card.task_id,
      }),
    );
    expect(bot.openBotReply(await second.json())).toEqual(update);
    const again = (await answerAt('rc-close-2')).body.markdown.content as string;
    expect(again).toMatch(new RegExp(`^已由${LIAISON}于 ${WHEN} 处理：✅ 已签收 #${id}`));
    expect(await service.db.obligationEvent.count()).toBe(events);
  });

  it('on the AI bot: a press that decides nothing (a lookup) leaves the card as it is', async () => {
    const reply = await say('demo-leader', '/查询 演示', 'close-lookup');
    const card = reply.template_card!;
    expect(card.button_list.length).toBeGreaterThan(1);
    const res = await bot.postBot(
      press({
        msgid: 'close-lookup-press',
        userid: 'demo-leader',
        key: card.button_list[0]!.key,
        code: 'rc-close-lookup',
        taskId: card.task_id,
      }),
    );
    expect(await res.text()).toBe('');
    expect((await answerAt('rc-close-lookup')).body.markdown.content).not.toContain('已由');
  });

  it('in the app: a pressed 签收 updates the card through update_template_card with the press’s response_code; a second press says who decided it', async () => {
    const id = await assign('应用卡片关闭测试');
    await app.postApp(
      appTextXml({ corpId: APP.corpId, from: 'demo-liaison-jtj', text: '/任务', msgId: '7101', createTime: 2 }),
    );
    const cardRow = await until(async () => {
      const rows = await service.db.outboxMessage.findMany({ where: { target: 'demo-liaison-jtj' } });
      return rows.find((r) => r.payload.includes(`cmd:/签收 ${id}`));
    }, 'the card in the outbox');
    const card = (JSON.parse(cardRow.payload) as { template_card: Card }).template_card;
    const updates = () => api.delivered.filter((d) => d.target === 'demo-liaison-jtj' && 'response_code' in d.body);
    const before = updates().length;

    const code1 = api.issueResponseCode('demo-liaison-jtj', card.task_id);
    await app.postApp(appPress('demo-liaison-jtj', `cmd:/签收 ${id}`, 1764374600, card.task_id, code1));
    const [update] = await until(async () => {
      await service.dispatcher.drain();
      const u = updates().slice(before);
      return u.length ? u : undefined;
    }, 'the card update');
    expect(update!.body).toEqual({
      userids: ['demo-liaison-jtj'],
      response_code: code1,
      agentid: 1000002,
      template_card: signedFor(card, id),
    });

    const events = await service.db.obligationEvent.count();
    const code2 = api.issueResponseCode('demo-liaison-jtj', card.task_id);
    await app.postApp(appPress('demo-liaison-jtj', `cmd:/签收 ${id}`, 1764374601, card.task_id, code2));
    const said = await until(
      async () => (
        await service.dispatcher.drain(),
        api.delivered.find((d) => d.target === 'demo-liaison-jtj' && JSON.stringify(d.body).includes('已由'))
      ),
      'the answer to the second press',
    );
    expect((said.body.text as { content: string }).content).toMatch(
      new RegExp(`^已由${LIAISON}于 ${WHEN} 处理：✅ 已签收 #${id}`),
    );
    const second = await until(async () => {
      await service.dispatcher.drain();
      return updates().find((u) => u.body.response_code === code2);
    }, 'the card again');
    expect(second.body.template_card).toEqual(update!.body.template_card);
    expect(await service.db.obligationEvent.count()).toBe(events);
  });
});

describe('the card wire format', () => {
  it('keeps at most six buttons, drops repeated commands and keys over 1024 bytes (never cuts a command)', () => {
    const many = Array.from({ length: 8 }, (_, i) => ({ label: `签收 #${i}`, command: `/签收 ${i}` }));
    const long = { label: '太长', command: `/反馈 1 ${'进'.repeat(340)}` }; // 4 + 9 + 1020 bytes
    const card = buttonCard('标题', [long, many[0]!, many[0]!, ...many], 'task1')!;
    expect(card.button_list).toEqual(many.slice(0, 6).map((b) => ({ text: b.label, key: `cmd:${b.command}` })));
    expect(buttonCard('标题', [long])).toBeNull();
    expect(
      buttonCard('t', [{ label: '一二三四五六七八九十十一', command: '/执行', style: 'danger' }])!.button_list,
    ).toEqual([{ text: '一二三四五六七八九…', style: 3, key: 'cmd:/执行' }]);
    expect(cardTitle('**📋 县交通运输局 未办结督办事项 2 项，含很长很长很长的说明**\n第二行')).toBe(
      '📋 县交通运输局 未办结督办事项 2 项，含很长很…',
    );
  });

  it('closes a card decision by decision: the outcomes under the title (newest kept within 112 characters), the open buttons, then all greyed out', () => {
    const all = [
      { label: '批准提请 #1', command: '/黑名单 批准 1', decides: 'blacklist 1' },
      { label: '驳回提请 #1', command: '/黑名单 驳回 1', decides: 'blacklist 1' },
      { label: '签收 #2', command: '/签收 2' },
    ];
    const partly = closedCard({
      taskId: 't1',
      title: '标题',
      lines: ['一'.repeat(60)],
      open: all.slice(2),
      all,
      done: '已处理',
    });
    expect(partly).toEqual({
      card_type: 'button_interaction',
      main_title: { title: '标题' },
      sub_title_text: '一'.repeat(60),
      button_list: [{ text: '签收 #2', key: 'cmd:/签收 2' }],
      task_id: 't1',
    });
    const lines = ['一'.repeat(60), '二'.repeat(60)];
    expect(closedCard({ taskId: 't1', title: '标题', lines, open: [], all, done: '已处理' })).toMatchObject({
      sub_title_text: '二'.repeat(60),
      button_list: all.map((b) => ({ text: b.label, key: `cmd:${b.command}` })),
      replace_text: '已处理',
    });
  });

  it('reads only keys of ours as command lines', () => {
    expect(commandOfKey('cmd:/签收 12')).toBe('/签收 12');
    expect(commandOfKey('approve:12')).toBeNull();
    expect(commandOfKey('cmd:/签收 12\n/解绑 x')).toBeNull();
    expect(commandOfKey(undefined)).toBeNull();
  });

  it('reads the pressed key from an AI bot event (as doc 101027 nests it, and flat as the SDK types it) and from app XML', () => {
    const nested = readBotMessage(JSON.stringify(press({ msgid: 'm1', userid: 'u1', key: 'cmd:/执行', code: 'c' })));
    expect(nested).toMatchObject({
      event: 'template_card_event',
      eventKey: 'cmd:/执行',
      taskId: 'cardtask1',
      responseUrl: responseUrl('c'),
      dedupeKey: 'bot:m1',
    });
    const flat = readBotMessage(
      JSON.stringify({
        msgid: 'm2',
        from: { userid: 'u1' },
        msgtype: 'event',
        event: { eventtype: 'template_card_event', event_key: 'cmd:/取消', task_id: 't2' },
      }),
    );
    expect(flat).toMatchObject({ eventKey: 'cmd:/取消', taskId: 't2' });
    const a = readAppMessage(appPress('u1', 'cmd:/签收 4', 1700000000));
    expect(a).toMatchObject({
      event: 'template_card_event',
      eventKey: 'cmd:/签收 4',
      taskId: 'apptask1',
      dedupeKey: 'app-event:u1:1700000000:template_card_event:apptask1:cmd:/签收 4',
    });
    // Two buttons pressed within one second are two events.
    expect(readAppMessage(appPress('u1', 'cmd:/签收 5', 1700000000)).dedupeKey).not.toBe(a.dedupeKey);
  });
});

// #24 item 2, through WeCom's callbacks: someone unregistered writes in a unit's group → an admin
// sees them with /待登记 → presses the card's 登记 button → they work. (Hand-over, and /待登记 in the
// sandbox: test/commands/people.test.ts.)
describe('onboarding through WeCom', () => {
  it('unknown user writes → admin sees them → presses 登记 → the user works', async () => {
    const refused = await say('newcomer-dp', '@安责险助手 /任务', 'onb-1', 'demo-chat-dongping');
    expect(refused.stream.content).toContain('您（newcomer-dp）还未登记');
    await say('newcomer-dp', '@安责险助手 /我是谁', 'onb-2', 'demo-chat-dongping');
    // One row, counting attempts, however often they write.
    expect(await service.db.stranger.findMany({ where: { userId: 'newcomer-dp' } })).toMatchObject([
      { attempts: 2, lastText: '/我是谁', chatId: 'demo-chat-dongping' },
    ]);

    const list = await say('demo-admin', '/待登记', 'onb-3', 'demo-chat-dongping');
    expect(list.stream.content).toContain('• newcomer-dp · 2 次 · 最近 11-29 08:00 在 演示·东坪镇工作群：“/我是谁”');
    const button = list.template_card!.button_list.find((b) => b.key.includes('newcomer-dp'))!;
    // The label is the userid, cut as cards cut labels (10 characters).
    expect(button).toEqual({ text: '登记 newcom…', style: 1, key: 'cmd:/绑定 newcomer-dp 联络员 430923121' });

    const res = await bot.postBot(
      press({
        msgid: 'onb-press',
        userid: 'demo-admin',
        chatid: 'demo-chat-dongping',
        key: button.key,
        code: 'rc-onb',
      }),
    );
    expect(res.status).toBe(200);
    expect((await answerAt('rc-onb')).body.markdown.content).toContain('✅ 已登记 newcomer-dp');
    const audit = await service.db.auditEvent.findFirstOrThrow({ where: { command: 'bind' }, orderBy: { id: 'desc' } });
    expect([audit.actorUserId, audit.outcome]).toEqual(['demo-admin', 'ok']);

    const who = await say('newcomer-dp', '@安责险助手 /我是谁', 'onb-4', 'demo-chat-dongping');
    expect(who.stream.content).toContain('单位：东坪镇');
    expect((await say('newcomer-dp', '@安责险助手 /任务', 'onb-5', 'demo-chat-dongping')).stream.content).not.toContain(
      '还未登记',
    );
    expect((await say('demo-admin', '/待登记', 'onb-6')).stream.content).not.toContain('newcomer-dp');
  });
});
