import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { WorkCalendar } from '../../src/domain/calendar.ts';
import { Scheduler } from '../../src/schedule/scheduler.ts';
import { testBot, TZ, type TestDb } from '../support/db.ts';

// Nobody writes in the bot's voice: hostile text from members (titles, reasons, feedback, evidence,
// visit staff and findings) and from files (enterprise, unit and group names) goes through every
// notifier, and no reply and no outbox payload carries a link, bold, a forged line or a mention.

const LINK = '[点此查看](http://evil.example.com/a) **加粗**';
const FORGED = '理由\n> 截止 2026-12-09 → 已获批准延至 **2099-01-01**';
const SCRIPT = '<script>alert(1)</script>**粗体**[链接](http://evil.example.com/b)';
const MENTION = '<@someone>';

/** Every way hostile text could act in WeCom markdown or text, as found in a message. */
function assertNeutral(text: string, where: string): void {
  for (const bad of ['](http', '**加粗', '**粗体', '**2099', '<script', '<@someone', '[点此查看', '[链接'])
    expect(text, `${where}: ${bad}`).not.toContain(bad);
  expect(text, `${where}: a forged line`).not.toMatch(/^\s*>\s*截止[^\n]*已获批准/m);
}

/** Every string inside an outbox payload (markdown, text, card fields). */
const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];

let t: TestDb;
let bus: Bus;
const replies: { said: string; reply: string }[] = [];
const say = async (userId: string, text: string, chatId: string | null = null) => {
  const out = await bus.handle({ channel: 'sandbox', userId, chatId, text });
  replies.push({ said: text, reply: out.text });
  return out;
};
const at = (day: string, hhmm: string) => new Date(`${day}T${hhmm}:00+08:00`);

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
});
afterAll(() => t.close());

describe('hostile text through every notifier', () => {
  it('reaches no reply and no outbox payload as markup, a new line or a mention', async () => {
    // File-supplied: a group's name (shown in "who was told").
    await t.db.groupChat.update({ where: { chatId: 'demo-chat-dongping' }, data: { name: `东坪${SCRIPT}` } });

    // /交办 → /延期 → /批准; /延期 → /驳回; /签收 /反馈 /办结, each with hostile text.
    t.clock.set(at('2026-11-30', '10:00'));
    expect((await say('demo-leader', `/交办 东坪 ${LINK}${MENTION} 12月9日`)).outcome).toBe('ok');
    const o = await t.db.obligation.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect((await say('demo-liaison-dongping', `/延期 ${o.id} 12月20日 ${FORGED}${MENTION}`)).outcome).toBe('ok');
    expect((await say('demo-leader', `/批准 ${o.id}`)).outcome).toBe('ok');
    expect((await say('demo-liaison-dongping', `/延期 ${o.id} 12月30日 ${LINK}`)).outcome).toBe('ok');
    expect((await say('demo-leader', `/驳回 ${o.id} ${FORGED}${SCRIPT}`)).outcome).toBe('ok');
    await say('demo-liaison-dongping', `/签收 ${o.id}`);
    expect((await say('demo-liaison-dongping', `/反馈 ${o.id} ${FORGED}`)).outcome).toBe('ok');
    await say('demo-liaison-dongping', '/任务');
    expect((await say('demo-liaison-dongping', `/办结 ${o.id} ${SCRIPT}`)).outcome).toBe('ok');
    // Another one, left open and overdue, for the reminders and escalations.
    expect((await say('demo-leader', `/交办 东坪 ${SCRIPT} 12月1日`)).outcome).toBe('ok');

    // A visit with hostile staff and findings, to be confirmed by the township.
    const policy = await t.db.policy.findFirstOrThrow({
      where: { status: 'valid', insurer: { code: 'pingan-pc' }, enterprise: { township: { code: '430923121' } } },
      include: { enterprise: true },
    });
    const visit = await say(
      'demo-insurer-pingan',
      `/走访 ${policy.enterprise.creditCode} 隐患排查 11月30日 ${MENTION}**张三** ${LINK}`,
    );
    expect(visit.outcome).toBe('ok');

    // File-supplied names: every enterprise and unit, as an import could have written them.
    for (const e of await t.db.enterprise.findMany({ select: { id: true } }))
      await t.db.enterprise.update({ where: { id: e.id }, data: { name: `${SCRIPT}${e.id}` } });
    for (const u of await t.db.unit.findMany({ select: { id: true, name: true } }))
      await t.db.unit.update({ where: { id: u.id }, data: { name: `${u.name}${LINK}` } });
    await t.db.sector.updateMany({ data: { name: SCRIPT } });

    for (const text of ['/逾期', '/任务', '/覆盖率', '/排名', '/走访记录'])
      await say(text === '/任务' ? 'demo-liaison-dongping' : 'demo-leader', text);
    await say('demo-liaison-dongping', '/任务');
    await say('demo-insurer-pingan', '/走访记录');

    // The reminders of the next working days: tasks, escalations, expiring policies, the digest.
    const scheduler = new Scheduler({
      db: t.db,
      clock: t.clock,
      timeZone: TZ,
      locale: 'zh-CN',
      calendar: new WorkCalendar(),
      random: () => 0.5,
    });
    for (const day of ['2026-12-07', '2026-12-08', '2026-12-11']) {
      t.clock.set(at(day, '09:00'));
      expect((await scheduler.runAt(t.clock.now()))[0]!.state).toBe('ran');
    }

    for (const r of replies) assertNeutral(r.reply, r.said);
    const rows = await t.db.outboxMessage.findMany();
    const texts = rows.flatMap((r) => strings(JSON.parse(r.payload)).map((s) => ({ id: r.id, s })));
    for (const { id, s } of texts) assertNeutral(s, `outbox #${id}`);
    // And the hostile text did get there, neutralised: the notices are not simply missing.
    const all = texts.map((x) => x.s).join('\n');
    expect(all).toContain('［点此查看］（http://evil.example.com/a） ＊＊加粗＊＊');
    expect(all).toContain('理由 ＞ 截止 2026-12-09 → 已获批准延至 ＊＊2099-01-01＊＊');
    expect(all).toContain('＜script＞alert（1）＜/script＞＊＊粗体＊＊');
    expect(all).toContain('＜@someone＞');
    expect(all).toMatch(/逾期升级/);
    expect(all).toMatch(/保单即将到期/);
    expect(replies.map((r) => r.reply).join('\n')).toContain(`东坪＜script＞`);
  });
});
