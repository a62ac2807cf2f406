import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { parseWebhookKey } from '../../src/domain/members.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';
import { wecomWire } from '../../src/wecom/messages.ts';

let t: TestDb;
let bus: Bus;
let registry: Registry;
const say = (userId: string, text: string, chatId: string | null = null) =>
  bus.handle({ channel: 'sandbox', userId, chatId, text });
/** What admins' commands change: members and chats (audit events are written for every message, so they are left out). */
const state = async () => ({
  members: await t.db.member.findMany({ orderBy: { id: 'asc' } }),
  chats: await t.db.groupChat.findMany({ orderBy: { id: 'asc' } }),
  pending: await t.db.pendingAction.count({ where: { state: 'pending' } }),
});
const unitId = async (code: string) => (await t.db.unit.findFirstOrThrow({ where: { code } })).id;

beforeAll(async () => {
  t = await testDb({ demo: true });
  registry = await Registry.load();
  bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry });
});
afterAll(() => t.close());

describe('/绑定', () => {
  it('registers a new liaison, who then sees their unit with /我是谁; /撤销 undoes an update, then the creation', async () => {
    const out = await say('demo-admin', '/绑定 zhangsan 联络员 东坪');
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('已登记 zhangsan');
    expect(await t.db.member.findUniqueOrThrow({ where: { userId: 'zhangsan' } })).toMatchObject({
      name: 'zhangsan',
      roles: 'liaison',
      unitId: await unitId('430923121'),
      active: true,
    });
    const who = (await say('zhangsan', '/我是谁')).text;
    expect(who).toContain('角色：联络员');
    expect(who).toContain('单位：东坪镇');

    // A second role and another unit update the same row (moving the unit waits for /执行); /撤销 restores it as it was.
    expect((await say('demo-admin', '/bind zhangsan +viewer 应急局')).outcome).toBe('pending');
    expect((await say('demo-admin', '/执行')).outcome).toBe('ok');
    expect(await t.db.member.findUniqueOrThrow({ where: { userId: 'zhangsan' } })).toMatchObject({
      roles: 'liaison|viewer',
      unitId: await unitId('yjj'),
    });
    expect((await say('demo-admin', '/撤销')).outcome).toBe('ok');
    expect(await t.db.member.findUniqueOrThrow({ where: { userId: 'zhangsan' } })).toMatchObject({
      roles: 'liaison',
      unitId: await unitId('430923121'),
    });
    expect((await say('demo-admin', '/撤销')).outcome).toBe('ok');
    expect(await t.db.member.findUnique({ where: { userId: 'zhangsan' } })).toBeNull();
  });

  it('binds an enterprise contact to an enterprise of the ledger', async () => {
    const e = await t.db.enterprise.findFirstOrThrow({ orderBy: { id: 'asc' } });
    const out = await say('demo-admin', `/绑定 qiye-li 企业 ${e.creditCode}`);
    expect(out.text).toContain(e.name);
    expect(await t.db.member.findUniqueOrThrow({ where: { userId: 'qiye-li' } })).toMatchObject({
      roles: 'enterprise',
      enterpriseId: e.id,
      unitId: null,
    });
  });

  it('refuses a role the unit does not fit, an unknown role or unit, with nothing changed', async () => {
    const before = await state();
    const insurer = await say('demo-admin', '/绑定 wangwu 保险 应急局');
    expect(insurer.text).toContain('县应急管理局不是保险公司');
    const liaison = await say('demo-admin', '/绑定 demo-insurer-pingan 联络员 平安');
    expect(liaison.text).toMatch(/联络员.*中国平安财险安化支公司不是/);
    const role = await say('demo-admin', '/绑定 wangwu 局长 应急局');
    expect(role.text).toContain('没有“局长”这个角色');
    expect(role.text).toContain('用法：/绑定');
    expect((await say('demo-admin', '/绑定 wangwu 联络员 火星局')).text).toContain('找不到单位“火星局”');
    expect([insurer.outcome, liaison.outcome, role.outcome]).toEqual(['invalid', 'invalid', 'invalid']);
    expect(await state()).toEqual(before);
  });

  it('sets what it says: a role replaces the others after a before → after preview; +role adds one', async () => {
    const roles = async () => (await t.db.member.findUniqueOrThrow({ where: { userId: 'qianqi' } })).roles;
    expect((await say('demo-admin', '/绑定 qianqi 管理员 东坪')).outcome).toBe('ok');
    // Setting another role takes 管理员 away: shown, and done only after /执行.
    const preview = await say('demo-admin', '/绑定 qianqi 联络员 东坪');
    expect(preview.outcome).toBe('pending');
    expect(preview.text).toContain('将更改 qianqi：\n角色：管理员 → 联络员\n单位：东坪镇\n');
    expect(await roles()).toBe('admin');
    expect((await say('demo-admin', '/执行')).outcome).toBe('ok');
    expect(await roles()).toBe('liaison');
    // Adding needs no confirmation; the same again changes nothing.
    expect((await say('demo-admin', '/绑定 qianqi +管理员')).outcome).toBe('ok');
    expect(await roles()).toBe('admin|liaison');
    expect((await say('demo-admin', '/绑定 qianqi +联络员')).outcome).toBe('ok');
    expect(await roles()).toBe('admin|liaison');
    // An admin does not take their own admin role away (nobody might be left to manage).
    const self = await say('demo-admin', '/绑定 demo-admin 领导');
    expect(self.outcome).toBe('invalid');
    expect(self.text).toContain('不能去掉自己的管理员角色');
  });

  it('makes any change this way: an insurer becomes a leader of the commission office', async () => {
    const preview = await say('demo-admin', '/绑定 demo-insurer-pingan 领导 安委办');
    expect(preview.outcome).toBe('pending');
    expect(preview.text).toContain('角色：保险机构 → 领导\n单位：中国平安财险安化支公司 → ');
    expect((await say('demo-admin', '/执行')).outcome).toBe('ok');
    expect(
      await t.db.member.findUniqueOrThrow({ where: { userId: 'demo-insurer-pingan' }, include: { unit: true } }),
    ).toMatchObject({ roles: 'leader', unit: { kind: 'commission_office' } });
    expect((await say('demo-admin', '/撤销')).outcome).toBe('ok');
    expect((await t.db.member.findUniqueOrThrow({ where: { userId: 'demo-insurer-pingan' } })).roles).toBe('insurer');
  });
});

describe('/解绑', () => {
  it('shows who it removes, runs only after /执行, and the member is then refused every member command', async () => {
    await say('demo-admin', '/绑定 lisi 联络员 交通局');
    const preview = await say('demo-admin', '/解绑 lisi');
    expect(preview.outcome).toBe('pending');
    expect(preview.text).toMatch(/lisi[\s\S]*角色：联络员[\s\S]*单位：县交通运输局[\s\S]*\/执行/);
    expect((await t.db.member.findUniqueOrThrow({ where: { userId: 'lisi' } })).active).toBe(true);
    expect((await say('lisi', '/我是谁')).text).toContain('单位：县交通运输局');

    expect((await say('demo-admin', '/执行')).text).toContain('已解除 lisi（lisi）的使用权限');
    // The row stays for the audit trail, inactive.
    expect(await t.db.member.findUniqueOrThrow({ where: { userId: 'lisi' } })).toMatchObject({
      active: false,
      roles: 'liaison',
    });
    for (const spec of registry.specs.filter((s) => s.roles !== 'public')) {
      const out = await say('lisi', `/${spec.name}`);
      expect(out.outcome, spec.name).toBe('denied');
      expect(out.text).toContain('还未登记');
    }
    expect((await say('lisi', '/我是谁')).text).toContain('还未登记');

    expect((await say('demo-admin', '/撤销')).outcome).toBe('ok');
    expect((await t.db.member.findUniqueOrThrow({ where: { userId: 'lisi' } })).active).toBe(true);
  });

  it('refuses an admin unbinding themself, and an unknown member, saying why', async () => {
    const before = await state();
    const self = await say('demo-admin', '/解绑 demo-admin');
    expect(self.outcome).toBe('invalid');
    expect(self.text).toContain('不能解除自己的权限');
    expect((await say('demo-admin', '/解绑 nobody-here')).text).toContain('nobody-here 不是在册成员');
    expect(await state()).toEqual(before);
  });
});

describe('admins only', () => {
  it('refuses every admin command to the other roles, with nothing changed', async () => {
    const before = await state();
    for (const who of ['demo-leader', 'demo-liaison-yjj', 'demo-insurer-pingan', 'someone-new']) {
      for (const text of ['/绑定 x1 联络员 东坪', '/解绑 demo-liaison-jtj', '/群 应急局 0a1b2c3d-aaaa-bbbb', '/日志']) {
        const out = await say(who, text, 'demo-chat-yjj');
        expect(out.outcome, `${who} ${text}`).toBe('denied');
        expect(out.text).toMatch(/不能使用|还未登记/);
      }
    }
    expect(await state()).toEqual(before);
    // A refused /群 still keeps its key out of the audit trail.
    expect(JSON.stringify(await t.db.auditEvent.findMany())).not.toContain('0a1b2c3d-aaaa-bbbb');
  });
});

describe('/群', () => {
  const key1 = '0a1b2c3d-1111-2222-3333-444455556666';
  const key2 = 'ffeeddcc-9999-8888-7777-66665555abcd';
  const url = (k: string) => `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${k}`;
  const audit = async () => JSON.stringify(await t.db.auditEvent.findMany());
  const details = async () => JSON.stringify((await t.db.auditEvent.findMany()).map((e) => e.detail));

  it('reads the key from a full webhook URL or as it is', () => {
    expect(parseWebhookKey(url(key1))).toBe(key1);
    expect(parseWebhookKey(`${url(key1)}&debug=1`)).toBe(key1);
    expect(parseWebhookKey(key1)).toBe(key1);
    expect(parseWebhookKey('https://example.com/?key=abc')).toBeNull();
    expect(parseWebhookKey('短')).toBeNull();
  });

  it('binds a group chat to a unit with its webhook key, which appears in no reply and no audit event', async () => {
    const out = await say('demo-admin', `/群 东坪 ${url(key1)}`, 'chat-new-1');
    expect(out.outcome).toBe('ok');
    expect(out.text).toContain('本群已绑定为：东坪镇工作群');
    expect(out.text).toContain('尾号 6666');
    expect(out.text).not.toContain(key1);
    expect(await t.db.groupChat.findUniqueOrThrow({ where: { chatId: 'chat-new-1' } })).toMatchObject({
      unitId: await unitId('430923121'),
      purpose: 'unit',
      webhookKey: key1,
      name: '东坪镇工作群',
    });
    expect(await audit()).not.toContain(key1);

    // Changing the key: the new one is nowhere in the audit trail either; /撤销 restores the old one.
    const changed = await say('demo-admin', `/群 东坪 ${key2}`, 'chat-new-1');
    expect(changed.text).toContain('已更换 webhook key（尾号 abcd）');
    expect(changed.text).not.toContain(key2);
    expect(await audit()).not.toContain(key2);
    expect(await details()).not.toContain(key1);
    expect((await say('demo-admin', '/撤销')).outcome).toBe('ok');
    expect((await t.db.groupChat.findUniqueOrThrow({ where: { chatId: 'chat-new-1' } })).webhookKey).toBe(key1);
  });

  it('makes a chat the leaders’ group, keeping its key, renamed for what it now is, and says what it was', async () => {
    const out = await say('demo-admin', '/群 领导', 'chat-new-1');
    expect(out.text).toMatch(/本群已绑定为：县领导群\n（原为：东坪镇工作群）\n🔑 webhook key 未变/);
    expect(await t.db.groupChat.findUniqueOrThrow({ where: { chatId: 'chat-new-1' } })).toMatchObject({
      purpose: 'leaders',
      unitId: await unitId('aqw'),
      webhookKey: key1,
      name: '县领导群',
    });
  });

  it('refuses outside a group chat, a bad key, and a key another chat uses, with nothing changed and no key logged', async () => {
    const before = await state();
    const single = await say('demo-admin', `/群 东坪 ${key2}`, null);
    expect(single.text).toContain('这里不是群聊');
    const bad = await say('demo-admin', '/群 东坪 https://example.com/hook?key=secret-abc-123', 'chat-new-2');
    expect(bad.text).toContain('webhook 不对');
    expect(bad.text).not.toContain('secret-abc-123');
    const taken = await say('demo-admin', '/群 应急局 demo-webhook-yjj', 'chat-new-2');
    expect(taken.text).toContain('已用于“演示·应急局工作群”');
    expect([single.outcome, bad.outcome, taken.outcome]).toEqual(['invalid', 'invalid', 'invalid']);
    expect(await state()).toEqual(before);
    const trail = await audit();
    for (const secret of [key2, 'secret-abc-123', 'demo-webhook-yjj']) expect(trail).not.toContain(secret);
  });

  it('says when the chat has no webhook key yet', async () => {
    const out = await say('demo-admin', '/群 应急局', 'chat-new-3');
    expect(out.text).toContain('本群还没有 webhook key');
    expect((await t.db.groupChat.findUniqueOrThrow({ where: { chatId: 'chat-new-3' } })).webhookKey).toBeNull();
    // A deployment holding the AI bot's long connection speaks in the group without one.
    const connected = new Bus({
      db: t.db,
      clock: t.clock,
      timeZone: TZ,
      locale: 'zh-CN',
      registry: await Registry.load(),
      reach: { wire: wecomWire, longconn: true },
    });
    const via = await connected.handle({
      channel: 'bot',
      userId: 'demo-admin',
      chatId: 'chat-new-3',
      text: '/群 应急局',
    });
    expect(via.text).toContain('提醒将由本机器人通过长连接直接发进本群');
    expect(via.text).not.toContain('本群还没有 webhook key');
    // The sandbox prints instead of sending, and says so rather than claim a long connection.
    const sandbox = new Bus({
      db: t.db,
      clock: t.clock,
      timeZone: TZ,
      locale: 'zh-CN',
      registry: await Registry.load(),
      reach: { wire: wecomWire, longconn: true, sandbox: true },
    });
    const printed = await sandbox.handle({
      channel: 'sandbox',
      userId: 'demo-admin',
      chatId: 'chat-new-3',
      text: '/群 应急局',
    });
    expect(printed.text).toContain('沙箱模式：没有连接企业微信');
    expect(printed.text).not.toContain('长连接');
  });

  it('previews a rebinding that would leave the leaders, the admins or a unit without any group, and binds only after /执行', async () => {
    const leadersChat = () => t.db.groupChat.findUniqueOrThrow({ where: { chatId: 'demo-chat-leaders' } });
    // The leaders' group bound above in chat-new-1 goes: the demo's is their only one.
    await t.db.groupChat.deleteMany({ where: { purpose: 'leaders', chatId: { not: 'demo-chat-leaders' } } });
    expect(await t.db.groupChat.count({ where: { purpose: 'leaders' } })).toBe(1);
    const before = await leadersChat();
    const out = await say('demo-admin', '/群 东坪', 'demo-chat-leaders');
    expect(out.outcome).toBe('pending');
    expect(out.text).toContain('本群现在是县领导群。改绑为东坪镇工作群后，县领导群将没有任何工作群');
    expect(await leadersChat()).toEqual(before);
    expect((await say('demo-admin', '/取消', 'demo-chat-leaders')).outcome).toBe('ok');
    expect(await leadersChat()).toEqual(before);
    // The same binding again needs no preview.
    expect((await say('demo-admin', '/群 领导', 'demo-chat-leaders')).outcome).toBe('ok');
    // A unit's only group likewise.
    const preview = await say('demo-admin', '/群 管理员', 'demo-chat-jtj');
    expect(preview.outcome).toBe('pending');
    expect(preview.text).toContain('县交通运输局工作群将没有任何工作群');
    expect((await say('demo-admin', '/执行', 'demo-chat-jtj')).text).toContain('本群已绑定为：管理员群');
    expect((await t.db.groupChat.findUniqueOrThrow({ where: { chatId: 'demo-chat-jtj' } })).purpose).toBe('admins');
    expect((await say('demo-admin', '/撤销', 'demo-chat-jtj')).outcome).toBe('ok');
    expect((await t.db.groupChat.findUniqueOrThrow({ where: { chatId: 'demo-chat-jtj' } })).purpose).toBe('unit');
  });
});

describe('/日志', () => {
  it('lists changes first, with their arguments; reads, refusals of reads and non-commands when asked for', async () => {
    await say('demo-leader', '/覆盖率');
    await say('demo-insurer-pingan', '/覆盖率');
    await say('demo-admin', '/解绑 demo-admin');
    const latest = await t.db.auditEvent.findMany({ orderBy: { id: 'desc' }, take: 3 });
    expect(latest.map((e) => e.command)).toEqual(['unbind', 'coverage', 'coverage']);
    const writes = (await say('demo-admin', '/日志 1')).text.split('\n');
    expect(writes[0]).toBe('🧾 操作记录 1 条（修改在前，新的在前）：');
    expect(writes[1]).toBe('11-29 08:00 演示·管理员 /解绑 demo-admin ⚠️');
    expect(writes[2]).toMatch(/^另有 \d+ 条查询或非命令记录，加“全部”一并列出。$/);
    const reads = (await say('demo-admin', '/日志 覆盖率 2')).text.split('\n');
    expect(reads.slice(1, 3)).toEqual(['11-29 08:00 演示·平安财险 /覆盖率 🚫', '11-29 08:00 演示·县领导 /覆盖率 ✅']);
  });

  it('shows 10 by default and at most 50', async () => {
    const total = await t.db.auditEvent.count();
    expect(total).toBeGreaterThan(50);
    expect((await say('demo-admin', '/日志 全部')).text.split('\n')).toHaveLength(12);
    expect((await say('demo-admin', '/日志 一百 全部')).text.split('\n')).toHaveLength(52);
    expect((await say('demo-admin', '/日志 零')).text).toContain('请写 1 到 50 的数字');
  });

  it('marks undone writes and confirmed runs', async () => {
    await say('demo-admin', '/绑定 zhaoliu 查看 应急局');
    await say('demo-admin', '/解绑 zhaoliu');
    await say('demo-admin', '/执行');
    await say('demo-admin', '/撤销');
    const lines = (await say('demo-admin', '/日志 4')).text.split('\n');
    expect(lines.slice(1, 5)).toEqual([
      '11-29 08:00 演示·管理员 /撤销 ✅',
      '11-29 08:00 演示·管理员 /解绑 zhaoliu ✅（经 /执行） ↩️',
      '11-29 08:00 演示·管理员 /解绑 zhaoliu ⏳',
      '11-29 08:00 演示·管理员 /绑定 zhaoliu 查看者 应急局 ✅',
    ]);
  });

  it('answers who made someone an admin: by command and member, by days, by record, secrets still hidden', async () => {
    const key = '0a1b2c3d-5555-6666-7777-888899990000';
    // Taking qianqi's other role away and moving the unit is previewed first (#15).
    expect((await say('demo-admin', '/绑定 qianqi 管理员 应急局')).outcome).toBe('pending');
    await say('demo-admin', '/执行');
    await say('demo-admin', `/群 应急局 ${key}`, 'chat-audit');
    await say('demo-liaison-jtj', '/签收 14');

    const who = (await say('demo-admin', '/日志 绑定 演示·管理员 今天')).text;
    expect(who).toContain('演示·管理员 /绑定 qianqi 管理员 应急局 ✅');
    expect(who).not.toContain('/群');
    expect((await say('demo-admin', '/日志 绑定 11月1日~11月28日')).text).toBe('没有符合条件的操作记录。');
    const chat = (await say('demo-admin', '/日志 群 1')).text;
    expect(chat).toContain('/群 应急局 *** ✅');
    expect(chat).not.toContain(key);
    const record = (await say('demo-admin', '/日志 #14')).text.split('\n');
    expect(record.slice(1, -1)).toEqual(['11-29 08:00 演示·交通局联络员 /签收 14 ✅']);
    const bad = await say('demo-admin', '/日志 某某');
    expect(bad.outcome).toBe('invalid');
    expect(bad.text).toContain('看不懂“某某”');
  });

  it('gives the whole log as a file of its own', async () => {
    const out = await say('demo-admin', '/日志 文件');
    expect(out.outcome).toBe('ok');
    expect(out.text).toMatch(/操作日志 \d+ 条，已生成文件/);
    const path = /文件：(\S+)/.exec(out.text)![1]!;
    const { default: Excel } = await import('exceljs');
    const wb = new Excel.Workbook();
    await wb.xlsx.readFile(path);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['操作日志']);
    const rows = wb.worksheets[0]!.getSheetValues().slice(1) as unknown[][];
    expect(rows[0]!.slice(1)).toEqual('序号|时间|成员|账号|群聊|命令与参数|结果|经/执行|已撤销'.split('|'));
    const texts = rows.map((r) => r.slice(1).join(' '));
    expect(texts.some((r) => r.includes('/绑定 qianqi 管理员 应急局 完成'))).toBe(true);
    expect(texts.join('\n')).not.toContain('0a1b2c3d-5555');
    // Every event of the county's members, as many rows as the trail holds for them.
    expect(rows.length - 1).toBe(Number(/操作日志 (\d+) 条/.exec(out.text)![1]));
  });
});
