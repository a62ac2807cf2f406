import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { HELP_SECTIONS } from '../../commands/help.ts';
import { testBot, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
let registry: Registry;
const say = (userId: string, text: string, chatId: string | null = null) =>
  bus.handle({ channel: 'sandbox', userId, chatId, text });

beforeAll(async () => {
  ({ t, bus } = await testBot({ demo: true }));
  registry = await Registry.load();
});
afterAll(() => t.close());

/** The commands of README's tables, in their order: the first `/word` of each row. */
const readmeOrder = () => {
  const section = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').split('## Commands')[1]!;
  const table = section.split('\n## ')[0]!;
  return [...table.matchAll(/^\| `\/([^` ]+)`/gm)].map((m) => registry.find(m[1]!)!.name);
};

describe('/帮助', () => {
  it('lists the commands in README’s order, grouped by role, each once', async () => {
    const listed = HELP_SECTIONS.flatMap((s) => s.commands);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(registry.specs.map((s) => s.name).sort());
    // README's rows name some commands in pairs (/批准 … /驳回): each row's first is in order.
    const firsts = readmeOrder();
    expect(listed.filter((name) => firsts.includes(name))).toEqual(firsts);

    const all = (await say('demo-admin', '/帮助')).text;
    const order = [...all.matchAll(/^\/(\S+) \(/gm)].map((m) => registry.find(m[1]!)!.name);
    expect(order).toEqual(listed);
    expect(all).toMatch(/【所有人】\n\/帮助 \(\/help\)/);
    expect(all).toContain('【管理员】\n/绑定 (/bind)');
    expect(all).toContain('用户手册');
  });

  it('shows a member only the sections of their role', async () => {
    const insurer = (await say('demo-insurer-pingan', '/帮助')).text;
    expect(insurer).toContain('【保险机构】\n/走访 (/visit)');
    expect(insurer).not.toContain('【管理员】');
    expect(insurer).not.toContain('/绑定');
  });
});

/**
 * Who types each example: the demo member whose work it is (else the first of its roles, or an
 * admin). Obligation ids are the demo's: #14 is 交通局's overdue inspection, #4 its next year's,
 * #11 住建局's with a request for more time; visits #1 and #2 are the ones the /走访 examples record.
 */
const TYPIST: Record<string, string> = {
  report: 'demo-liaison-dongping',
  insure: 'demo-insurer-pingan',
  confirm: 'demo-liaison-dongping',
  ack: 'demo-liaison-jtj',
  feedback: 'demo-liaison-jtj',
  done: 'demo-liaison-jtj',
  extend: 'demo-liaison-jtj',
  snooze: 'demo-liaison-jtj',
  tasks: 'demo-liaison-jtj',
  visit: 'demo-insurer-pingan',
  inspect: 'demo-liaison-yjj',
  propose: 'demo-liaison-yjj',
  claim: 'demo-insurer-pingan',
  pay: 'demo-insurer-pingan',
  claims: 'demo-agency',
  dispute: 'demo-insurer-pingan',
  settle: 'demo-liaison-yjj',
  visits: 'demo-insurer-pingan',
  plan: 'demo-insurer-pingan',
  handover: 'demo-liaison-dongping',
  // /执行 and /撤销 follow the leader's /交办 preview; /取消 the admin's /解绑 preview.
  yes: 'demo-leader',
  undo: 'demo-leader',
};
/** The steps in the order work happens: a request for more time before its decision, a visit before its confirmation. */
const WORKFLOW = [
  'help',
  'lookup',
  'whoami',
  // An inspection opens the demo's rectification items #17 and #18 before anything else is assigned.
  'inspect',
  'propose',
  'blacklist',
  'coverage',
  'rank',
  'assess',
  'export',
  'overdue',
  'report',
  'insure',
  'tasks',
  'ack',
  'feedback',
  'extend',
  'approve',
  'reject',
  'snooze',
  'done',
  'assign',
  'yes',
  'undo',
  'visit',
  'visits',
  'confirm',
  'handover',
  'plan',
  'claim',
  'pay',
  'claims',
  'dispute',
  'settle',
  'finding',
  'bind',
  'strangers',
  'group',
  'unbind',
  'cancel',
  'audit',
];

describe('the manuals in docs/', () => {
  const MANUALS = ['县领导', '联络员', '保险机构', '第三方机构', '管理员'].map((role) => `用户手册-${role}.md`);
  const manual = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

  it('are one per role, linked from README and /帮助, and teach only examples of /帮助 (all run below)', async () => {
    const manuals = readdirSync(new URL('../../docs/', import.meta.url)).filter((f) => f.startsWith('用户手册'));
    expect(manuals.sort()).toEqual([...MANUALS].sort());
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of MANUALS) expect(readme).toContain(`(docs/${name})`);
    expect((await say('demo-leader', '/帮助')).text).toContain('docs/');
    const examples = new Set(registry.specs.flatMap((s) => s.examples));
    for (const name of MANUALS) {
      const taught = [...manual(name).matchAll(/```\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.trim().split('\n'));
      expect(taught.length, name).toBeGreaterThan(3);
      expect(
        taught.filter((line) => !examples.has(line)),
        name,
      ).toEqual([]);
    }
  });
});

describe('every /帮助 example', () => {
  it('runs on the demo county as its member would type it', { timeout: 120_000 }, async () => {
    expect([...WORKFLOW].sort()).toEqual(registry.specs.map((s) => s.name).sort());
    const failed: string[] = [];
    for (const name of WORKFLOW) {
      const spec = registry.specs.find((s) => s.name === name)!;
      const userId =
        TYPIST[name] ??
        (Array.isArray(spec.roles) && spec.roles[0] !== 'admin' ? `demo-${spec.roles[0]}` : 'demo-admin');
      for (const example of spec.examples) {
        const out = await say(userId, example, 'demo-chat-new');
        if (!['ok', 'pending'].includes(out.outcome))
          failed.push(`${userId}: ${example} → ${out.outcome}: ${out.text}`);
        // Every reply showing the demo county's figures says they are demo data, once.
        if (out.outcome === 'ok' && spec.figures && out.text.split('含演示数据').length !== 2)
          failed.push(`${userId}: ${example} → no single demo footer: ${out.text}`);
      }
    }
    expect(failed).toEqual([]);
  });
});
