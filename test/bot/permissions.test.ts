import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { testDb, TZ, type TestDb } from '../support/db.ts';

// Every command × every role: allowed or refused as the table below says (admins may run
// everything), and a refusal changes nothing in the database.
const MAY: Record<string, string[]> = {
  leader: [
    'snooze',
    'ack',
    'approve',
    'assess',
    'assign',
    'blacklist',
    'claims',
    'coverage',
    'dispute',
    'done',
    'export',
    'extend',
    'feedback',
    'lookup',
    'overdue',
    'rank',
    'reject',
    'settle',
    'tasks',
    'visits',
  ],
  liaison: [
    'snooze',
    'ack',
    'assess',
    'claims',
    'confirm',
    'coverage',
    'dispute',
    'done',
    'extend',
    'feedback',
    'inspect',
    'insure',
    'lookup',
    'overdue',
    'propose',
    'report',
    'settle',
    'tasks',
    'visits',
    'handover',
  ],
  insurer: [
    'snooze',
    'ack',
    'claim',
    'claims',
    'confirm',
    'dispute',
    'done',
    'extend',
    'feedback',
    'insure',
    'lookup',
    'pay',
    'plan',
    'tasks',
    'visit',
    'visits',
  ],
  agency: ['claims', 'coverage', 'finding', 'lookup', 'rank', 'visits'],
  viewer: ['assess', 'claims', 'coverage', 'lookup', 'overdue', 'rank', 'visits'],
  // A unit's 责任人 and 分管领导 may run what its liaison may (see mayRun).
  responsible: [],
  in_charge: [],
  enterprise: ['confirm', 'dispute', 'lookup', 'visits'],
};
MAY.responsible = MAY.in_charge = MAY.liaison!;
const EVERY_MEMBER = ['cancel', 'undo', 'yes'];
const PUBLIC = ['help', 'whoami'];
const PERSONAS: Record<string, string> = {
  admin: 'demo-admin',
  leader: 'demo-leader',
  liaison: 'demo-liaison-yjj',
  responsible: 'demo-responsible-jtj',
  in_charge: 'demo-incharge-dongping',
  insurer: 'demo-insurer-pingan',
  agency: 'demo-agency',
  viewer: 'matrix-viewer',
  enterprise: 'matrix-enterprise',
  stranger: 'matrix-stranger',
};

let t: TestDb;
let registry: Registry;
let bus: Bus;

/**
 * What a refused command still writes: its audit event, its inbox row, and for someone not registered
 * the count of their attempts (/待登记). Every other table is compared.
 */
const ASIDE = ['AuditEvent', 'InboundMessage', 'Stranger'];
/** The tables of prisma/schema.prisma, so a new one is in the fingerprint unless set aside above. */
const TABLES = [
  ...readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8').matchAll(/^model (\w+) \{/gm),
]
  .map((m) => m[1]!)
  .filter((model) => !ASIDE.includes(model));

type Table = { findMany(): Promise<unknown[]> };
const table = (model: string): Table =>
  (t.db as unknown as Record<string, Table>)[model[0]!.toLowerCase() + model.slice(1)]!;

/** A fingerprint of everything a command could change. */
async function fingerprint(): Promise<string> {
  const tables = await Promise.all(TABLES.map((model) => table(model).findMany()));
  return createHash('sha1')
    .update(JSON.stringify(tables, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)))
    .digest('hex');
}

beforeAll(async () => {
  t = await testDb({ demo: true });
  const enterprise = await t.db.enterprise.findFirstOrThrow();
  await t.db.member.create({
    data: {
      userId: 'matrix-viewer',
      name: '查看者',
      roles: 'viewer',
      unitId: (await t.db.unit.findFirstOrThrow({ where: { code: 'aqw' } })).id,
    },
  });
  await t.db.member.create({
    data: { userId: 'matrix-enterprise', name: '企业联系人', roles: 'enterprise', enterpriseId: enterprise.id },
  });
  registry = await Registry.load();
  bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry });
});
afterAll(() => t.close());

it('compares every table of the schema but those set aside', () => {
  expect(TABLES).toEqual(expect.arrayContaining(['Enterprise', 'Obligation', 'OutboxMessage', 'Member']));
  expect(ASIDE.every((model) => table(model))).toBe(true);
  for (const model of TABLES) expect(typeof table(model)?.findMany, model).toBe('function');
});

describe('the permission matrix', () => {
  it('covers every command', () => {
    const named = new Set([...Object.values(MAY).flat(), ...EVERY_MEMBER, ...PUBLIC]);
    // Admin-only commands appear in no row above.
    const adminOnly = registry.specs
      .filter((s) => !named.has(s.name))
      .map((s) => s.name)
      .sort();
    expect(adminOnly).toEqual(['audit', 'bind', 'group', 'strangers', 'unbind']);
  });

  for (const [persona, userId] of Object.entries(PERSONAS)) {
    it(`${persona}: allowed exactly what the table says; refused commands change nothing`, async () => {
      const wrong: string[] = [];
      for (const spec of registry.specs) {
        const allowed =
          PUBLIC.includes(spec.name) ||
          (persona !== 'stranger' &&
            (persona === 'admin' || EVERY_MEMBER.includes(spec.name) || (MAY[persona] ?? []).includes(spec.name)));
        const line = spec.examples[0] ?? `/${spec.aliases[0] ?? spec.name}`;
        const before = allowed ? '' : await fingerprint();
        const out = await bus.handle({ channel: 'sandbox', userId, chatId: 'demo-chat-leaders', text: line });
        if ((out.outcome === 'denied') === allowed) wrong.push(`${spec.name} (${line}): ${out.outcome}`);
        if (!allowed) {
          expect(await fingerprint(), `${persona} ${line}`).toBe(before);
          expect(out.text.length).toBeGreaterThan(0);
        }
        // Leave nothing pending between commands.
        await t.db.pendingAction.updateMany({ where: { state: 'pending' }, data: { state: 'cancelled' } });
      }
      expect(wrong).toEqual([]);
    });
  }

  it('shows each role a different /help, with only what it may run', async () => {
    const helps = new Map<string, string>();
    for (const [persona, userId] of Object.entries(PERSONAS))
      helps.set(persona, (await bus.handle({ channel: 'sandbox', userId, chatId: null, text: '/帮助' })).text);
    // Roles allowed different commands see different helps (a unit's people share the liaison's).
    const allowedSets = new Set(Object.keys(PERSONAS).map((p) => (p === 'admin' ? 'all' : String(MAY[p] ?? []))));
    expect(new Set(helps.values()).size).toBe(allowedSets.size);
    for (const [persona, text] of helps) {
      for (const spec of registry.specs) {
        const shown = text.includes(`/${spec.aliases[0] ?? spec.name} (/${spec.name})`);
        const allowed =
          PUBLIC.includes(spec.name) ||
          (persona !== 'stranger' &&
            (persona === 'admin' || EVERY_MEMBER.includes(spec.name) || (MAY[persona] ?? []).includes(spec.name)));
        expect(shown, `${persona} /help ${spec.name}`).toBe(allowed);
      }
    }
  });
});
