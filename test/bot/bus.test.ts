import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Bus, type Incoming } from '../../src/bot/bus.ts';
import { parse, unglue } from '../../src/bot/parse.ts';
import { Registry } from '../../src/bot/registry.ts';
import { defineCommand } from '../../src/bot/spec.ts';
import { UserError } from '../../src/core/errors.ts';
import { testBot, TZ, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
const say = (userId: string, text: string) =>
  bus.handle({ channel: 'sandbox', userId, chatId: null, text } satisfies Incoming);

beforeAll(async () => ({ t, bus } = await testBot({ demo: true })));
afterAll(() => t.close());

describe('parsing what people type on a phone', () => {
  it('takes full-width slashes, letters and spaces, Chinese separators and quotes', () => {
    expect(parse('／ＨＥＬＰ　覆盖率')).toMatchObject({ word: 'help', slash: true, tokens: [{ text: '覆盖率' }] });
    expect(parse('/上报 危化，12/13、东坪 “已 完成”')!.tokens.map((x) => x.text)).toEqual([
      '危化',
      '12/13',
      '东坪',
      '已 完成',
    ]);
    expect(parse('/x 东坪（演示）')!.tokens[0]!.text).toBe('东坪（演示）');
    expect(parse('   ')).toBeNull();
  });
});

describe('the bus', () => {
  it('runs a command by its Chinese name, its English name, full-width, and without the slash', async () => {
    for (const text of ['/覆盖率', '/coverage', '／覆盖率', '覆盖率', '/COVERAGE']) {
      const out = await say('demo-leader', text);
      expect(out.outcome, text).toBe('ok');
      expect(out.text).toContain('非煤矿山');
    }
  });

  it('suggests the nearest command for a typo', async () => {
    const out = await say('demo-leader', '/覆盖');
    expect(out.outcome).toBe('unknown');
    expect(out.text).toContain('/覆盖率');
    expect((await say('demo-leader', '/coverag')).text).toContain('/覆盖率');
  });

  it('answers an unknown word and plain chat with a pointer to /帮助', async () => {
    expect((await say('demo-leader', '/zzzz')).text).toContain('没有“zzzz”这个命令');
    expect((await say('demo-leader', '大家好')).text).toContain('/帮助');
  });

  it('denies a role that may not run a command, and an unregistered user', async () => {
    const insurer = await say('demo-insurer-pingan', '/覆盖率');
    expect(insurer.outcome).toBe('denied');
    expect(insurer.text).toContain('不能使用 /覆盖率');
    const stranger = await say('someone-new', '/覆盖率');
    expect(stranger.outcome).toBe('denied');
    expect(stranger.text).toContain('someone-new');
  });

  it('generates /help from the specs, with only what the caller may run', async () => {
    const leader = (await say('demo-leader', '/帮助')).text;
    expect(leader).toContain('/覆盖率 (/coverage)');
    expect(leader).toContain('/我是谁 (/whoami)');
    const insurer = (await say('demo-insurer-pingan', '/help')).text;
    expect(insurer).not.toContain('/覆盖率');
    expect((await say('demo-leader', '/帮助 覆盖率')).text).toContain('示例');
  });

  it('refuses extra arguments with the usage line', async () => {
    const out = await say('demo-leader', '/我是谁 多余');
    expect(out.outcome).toBe('invalid');
    expect(out.text).toContain('多了参数：多余');
    expect(out.text).toContain('用法：/我是谁');
  });

  it('answers in the member’s own locale', async () => {
    await t.db.member.update({ where: { userId: 'demo-liaison-jtj' }, data: { locale: 'en' } });
    const out = await say('demo-liaison-jtj', '/whoami');
    expect(out.text).toContain('Roles: liaison');
    expect(out.text).toContain('Leads: 交通运输');
  });

  it('records an audit event for every command, with its outcome', async () => {
    const before = await t.db.auditEvent.count();
    await say('demo-leader', '/覆盖率');
    await say('demo-insurer-pingan', '/覆盖率');
    const events = await t.db.auditEvent.findMany({ orderBy: { id: 'desc' }, take: 2 });
    expect(await t.db.auditEvent.count()).toBe(before + 2);
    expect(events.map((e) => [e.actorUserId, e.command, e.outcome])).toEqual([
      ['demo-insurer-pingan', 'coverage', 'denied'],
      ['demo-leader', 'coverage', 'ok'],
    ]);
  });
});

describe('a failing command writes nothing', () => {
  const writeThenFail = (error: Error) =>
    defineCommand({
      name: 'breaks',
      aliases: ['坏了'],
      summary: 'help.summary',
      examples: [],
      params: ['kind'],
      args: z.object({ kind: z.enum(['user', 'bug'], { message: 'error.kind' }).optional() }),
      roles: 'member',
      writes: true,
      async run({ db, campaign }) {
        await db.progressReport.create({
          data: {
            campaignId: campaign.id,
            unitId: 1,
            sectorId: 1,
            insured: 1,
            total: 1,
            reportedBy: 'x',
            reportedAt: new Date(),
          },
        });
        throw error;
      },
    });

  for (const [name, error, outcome] of [
    ['a user error', new UserError('bus.no_campaign'), 'invalid'],
    ['a bug', new Error('boom'), 'error'],
  ] as const) {
    it(`rolls back after ${name}, and says so`, async () => {
      const registry = new Registry([writeThenFail(error)]);
      const b = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry });
      const before = await t.db.progressReport.count();
      const out = await b.handle({ channel: 'sandbox', userId: 'demo-leader', chatId: null, text: '/坏了' });
      expect(out.outcome).toBe(outcome);
      expect(out.text).toMatch(outcome === 'error' ? /没有做任何修改.*编号 \d+/ : /还没有载入工作方案/);
      expect(await t.db.progressReport.count()).toBe(before);
      expect((await t.db.auditEvent.findFirst({ orderBy: { id: 'desc' } }))!.outcome).toBe(outcome);
    });
  }

  it('refuses two commands answering to one word', () => {
    expect(() => new Registry([writeThenFail(new Error()), writeThenFail(new Error())])).toThrow(/both answer to/);
  });
});

describe('confirmation of bulk writes', async () => {
  const yes = (await import('../../commands/yes.ts')).default;
  const cancel = (await import('../../commands/cancel.ts')).default;
  const bulk = defineCommand({
    name: 'bulk',
    aliases: ['批量'],
    summary: 'help.summary',
    examples: [],
    params: ['key'],
    args: z.object({ key: z.string().optional() }),
    roles: 'member',
    writes: true,
    secret: ['key'],
    async confirm() {
      return '将写入 1 条上报';
    },
    async run({ db, campaign }) {
      await db.progressReport.create({
        data: {
          campaignId: campaign.id,
          unitId: 1,
          sectorId: 1,
          insured: 1,
          total: 2,
          reportedBy: 'bulk',
          reportedAt: new Date(0),
        },
      });
      return { text: '写好了' };
    },
  });
  const b = () =>
    new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry: new Registry([bulk, yes, cancel]) });
  const run = (userId: string, text: string) => b().handle({ channel: 'sandbox', userId, chatId: null, text });
  const written = () => t.db.progressReport.count({ where: { reportedBy: 'bulk' } });

  it('runs only after the same member’s /执行, once', async () => {
    const preview = await run('demo-admin', '/批量 secret-webhook-key');
    expect(preview.outcome).toBe('pending');
    expect(preview.text).toContain('将写入 1 条上报');
    expect(preview.text).toContain('/执行');
    expect(await written()).toBe(0);
    expect((await run('demo-leader', '/执行')).text).toContain('没有等待确认的操作');
    expect(await written()).toBe(0);
    expect((await run('demo-admin', '/执行')).text).toBe('写好了');
    expect(await written()).toBe(1);
    expect((await run('demo-admin', '/执行')).outcome).toBe('invalid');
    expect(await written()).toBe(1);
  });

  it('expires after five minutes, and /取消 drops it', async () => {
    await run('demo-admin', '/批量');
    t.clock.advance(6 * 60_000);
    expect((await run('demo-admin', '/执行')).text).toContain('已作废');
    await run('demo-admin', '/批量');
    expect((await run('demo-admin', '/取消')).text).toContain('已取消：将写入 1 条上报');
    expect((await run('demo-admin', '/执行')).text).toContain('没有等待确认的操作');
    expect(await written()).toBe(1);
    t.clock.set('2026-11-29T08:00:00+08:00');
  });

  it('keeps secret arguments out of the audit trail', async () => {
    const events = await t.db.auditEvent.findMany({ where: { command: 'bulk' } });
    expect(events.length).toBeGreaterThan(2);
    for (const e of events) expect(e.detail).not.toContain('secret-webhook-key');
  });
});

describe('commands as people type them: glued, spaced, mentioned', () => {
  it('reads every command word glued to its first argument as if spaced', async () => {
    const registry = await Registry.load();
    let glued = 0;
    for (const spec of registry.specs)
      for (const example of spec.examples) {
        const spaced = parse(example)!;
        if (!spaced.tokens.length) continue;
        const first = spaced.tokens[0]!.text;
        for (const word of [spec.name, ...spec.aliases]) {
          // An English word runs on into an English argument (/bindzhangsan): not a glued command.
          if (/[a-z]$/i.test(word) && /^[a-z]/i.test(first)) continue;
          const text = `/${word}${first}${spaced.line.slice(spaced.tokens[0]!.start + first.length)}`;
          const p = parse(text)!;
          const command = registry.find(p.word) ? p.word : registry.prefixOf(p.word);
          expect(command, text).toBe(word.toLowerCase());
          const read = unglue(p, command!);
          expect(
            read.tokens.map((x) => x.text),
            text,
          ).toEqual(spaced.tokens.map((x) => x.text));
          expect(read.line.slice(read.tokens[0]!.start), text).toBe(spaced.line.slice(spaced.tokens[0]!.start));
          glued++;
        }
      }
    expect(glued).toBeGreaterThan(50);
    // An English command word does not run on into a longer English word.
    expect(registry.prefixOf('coveragex')).toBeUndefined();
    expect(registry.prefixOf('ack17')).toBe('ack');
  });

  it('answers glued, spaced-out and mentioned commands as the plain ones', async () => {
    const same: [string, string, string][] = [
      ['demo-leader', '/覆盖率危化', '/覆盖率 危化'],
      ['demo-leader', '/ 覆盖率', '/覆盖率'],
      ['demo-leader', '／　覆盖率', '/覆盖率'],
      ['demo-leader', '@安责险助手/覆盖率', '/覆盖率'],
      ['demo-leader', '@安责险助手 @张三 /覆盖率 乡镇', '/覆盖率 乡镇'],
      ['demo-leader', '/', '/帮助'],
      ['demo-leader', '/批准9999', '/批准 9999'],
      ['demo-liaison-yjj', '/签收9999', '/签收 9999'],
      ['demo-liaison-yjj', '/签收#9999', '/签收 #9999'],
    ];
    for (const [user, text, plain] of same) {
      const [a, b] = [await say(user, text), await say(user, plain)];
      expect(a.text, text).toBe(b.text);
      expect(a.outcome, text).toBe(b.outcome);
      expect(a.command, text).toBe(b.command);
    }
  });

  it('takes "27 / 29" and a glued /上报 as a ratio, and refuses 0/0 naming the rule', async () => {
    const glued = await say('demo-liaison-yjj', '/上报危化 26 / 29');
    expect(glued.outcome, glued.text).toBe('ok');
    expect(glued.text).toContain('26/29');
    expect(await t.db.progressReport.findFirstOrThrow({ orderBy: { id: 'desc' } })).toMatchObject({
      insured: 26,
      total: 29,
    });
    const before = await t.db.progressReport.count();
    const zero = await say('demo-liaison-yjj', '/上报 危化 0/0');
    expect(zero.outcome).toBe('invalid');
    expect(zero.text).toContain('总数不能为 0');
    expect(await t.db.progressReport.count()).toBe(before);
  });

  it('refuses over-long text naming its limit, without echoing it back', async () => {
    const long = '很长'.repeat(300);
    const reason = await say('demo-liaison-yjj', `/延期 9999 2027-01-20 ${long}`);
    expect(reason.outcome).toBe('invalid');
    expect(reason.text).toContain('理由太长了：最多 300 字');
    expect(reason.text).not.toContain('很长很长很长');
    const message = await say('demo-leader', `/覆盖率 ${'危'.repeat(3000)}`);
    expect(message.outcome).toBe('invalid');
    expect(message.text).toBe('消息太长了：最多 2000 字，请分几次发送。');
    const word = await say('demo-leader', `/${'覆'.repeat(1000)}`);
    expect(word.text).not.toContain('覆'.repeat(41));
  });
});
