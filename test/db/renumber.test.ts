import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/bot/registry.ts';
import { catalog } from '../../src/i18n.ts';
import {
  RECORD_COMMANDS,
  renumberAuditDetail,
  renumberLedgerTarget,
  renumberText,
  renumberUndo,
  SOFT_REFERENCES,
  type Shift,
} from '../../src/domain/renumber.ts';

// Where ids hide in text, for the move into a shared database (src/domain/renumber.ts): every
// template that shows a record's number renumbers to that record's new number, and the lists the
// rules rely on are held to the command registry and the schema.

/** Each table shifted by its own amount, so a number renumbered as the wrong table shows. */
const OFFSETS: Record<string, number> = {
  Obligation: 1000,
  PreventionVisit: 2000,
  OutboxMessage: 3000,
  Unit: 4000,
  Campaign: 5000,
  Policy: 6000,
  Target: 7000,
};
const shift: Shift = (table, id) => id + (OFFSETS[table] ?? 900_000);

/** The table whose number a template's {id} (or {visit}, a visit's label "#7 …") shows, by the template's key. */
function tableOfKey(key: string): string {
  if (/^(visit|visits|confirm)\.|^remind\.visit$|^card\.confirm$|^undo\.what_(visit|confirmation)$/.test(key))
    return 'PreventionVisit';
  if (key.startsWith('delivery.')) return 'OutboxMessage';
  return 'Obligation';
}

describe('renumbering the ids in text', () => {
  for (const locale of ['zh-CN', 'en'] as const) {
    it(`renumbers every ${locale} template that shows a record's number as "#N" or after its command`, () => {
      const entries = Object.entries(catalog(locale)).filter(([, v]) => /#\{id\}|\{visit\}|\/\S+ \{id\}/.test(v));
      expect(entries.length).toBeGreaterThan(30);
      for (const [key, template] of entries) {
        const table = tableOfKey(key);
        const fill = (id: number) =>
          template
            .replaceAll('{visit}', `#${id} 2026-11-29 化工 · 隐患排查`)
            .replace(/\{(?!id\})[a-zA-Z]+\}/g, 'X')
            .replaceAll('{id}', String(id));
        // Only numbers shown as "#N" or after a command are renumbered; a bare {id} (in an answer
        // to a mistyped number) is what the member typed, and stays.
        const expected = template
          .replaceAll('{visit}', `#${shift(table, 7)} 2026-11-29 化工 · 隐患排查`)
          .replace(/\{(?!id\})[a-zA-Z]+\}/g, 'X')
          .replaceAll('#{id}', `#${shift(table, 7)}`)
          .replace(/(\/\S+ )\{id\}/g, `$1${shift(table, 7)}`)
          .replaceAll('{id}', '7');
        expect(renumberText(fill(7), shift), key).toBe(expected);
      }
    });
  }

  it('renumbers a command line by its command, and leaves other numbers', () => {
    expect(renumberText('/签收 12', shift)).toBe('/签收 1012');
    expect(renumberText('／确认 3 5 很好', shift)).toBe('／确认 2003 5 很好');
    expect(renumberText('/approve 12 and /reject 13 reason', shift)).toBe('/approve 1012 and /reject 1013 reason');
    expect(renumberText('/上报 危化 12/30 2026年', shift)).toBe('/上报 危化 12/30 2026年');
    expect(renumberText('/签收12', shift)).toBe('/签收12');
  });

  it('renumbers an undo entry: its operations by model, the audiences and outbox rows it queued', () => {
    const undo = JSON.stringify({
      ops: [
        { model: 'obligation', action: 'withdraw', where: { id: 12 } },
        { model: 'policy', action: 'update', where: { id: 3 }, data: { renewsPolicyId: 2, status: 'valid' } },
      ],
      told: [
        { to: { unit: 5 }, outbox: [40, 41] },
        { to: 'leaders', outbox: [42] },
      ],
    });
    expect(JSON.parse(renumberUndo(undo, shift))).toEqual({
      ops: [
        { model: 'obligation', action: 'withdraw', where: { id: 1012 } },
        { model: 'policy', action: 'update', where: { id: 6003 }, data: { renewsPolicyId: 6002, status: 'valid' } },
      ],
      told: [
        { to: { unit: 4005 }, outbox: [3040, 3041] },
        { to: 'leaders', outbox: [3042] },
      ],
    });
    // Older entries were a bare list of operations.
    expect(
      JSON.parse(
        renumberUndo(JSON.stringify([{ model: 'preventionVisit', action: 'withdraw', where: { id: 1 } }]), shift),
      ),
    ).toEqual([{ model: 'preventionVisit', action: 'withdraw', where: { id: 2001 } }]);
  });

  it("renumbers an audit detail: the command's record argument, id keys and the line as typed", () => {
    expect(JSON.parse(renumberAuditDetail('{"args":{"id":12,"text":"已完成 #3"}}', 'feedback', shift))).toEqual({
      args: { id: 1012, text: '已完成 #1003' },
    });
    expect(JSON.parse(renumberAuditDetail('{"args":{"visit":4,"feedback":{}}}', 'confirm', shift))).toEqual({
      args: { visit: 2004, feedback: {} },
    });
    expect(JSON.parse(renumberAuditDetail('{"text":"/签收 9"}', null, shift))).toEqual({ text: '/签收 1009' });
    // A command whose `id` is no record number (none is) and counts of an import stay as they are.
    expect(JSON.parse(renumberAuditDetail('{"source":"a.csv","added":12}', 'import', shift))).toEqual({
      source: 'a.csv',
      added: 12,
    });
    expect(renumberAuditDetail('not json: /办结 5', null, shift)).toBe('not json: /办结 1005');
  });

  it('renumbers reminder ledger targets that name a record, and keeps audiences', () => {
    expect(renumberLedgerTarget('obligation:12', shift)).toBe('obligation:1012');
    expect(renumberLedgerTarget('visit:3', shift)).toBe('visit:2003');
    expect(renumberLedgerTarget('campaign:1', shift)).toBe('campaign:5001');
    expect(renumberLedgerTarget('unit:2', shift)).toBe('unit:4002');
    expect(renumberLedgerTarget('policy:8', shift)).toBe('policy:6008');
    expect(renumberLedgerTarget('target:4', shift)).toBe('target:7004');
    expect(renumberLedgerTarget('leaders', shift)).toBe('leaders');
  });

  it('knows every command that takes a record number, with all its aliases', async () => {
    const registry = await Registry.load();
    const listed = RECORD_COMMANDS.flatMap(({ commands }) => Object.entries(commands));
    for (const [name, aliases] of listed)
      expect(registry.specs.find((s) => s.name === name)?.aliases.sort(), name).toEqual([...aliases].sort());
    // A command whose first parameter is a record's number (`id`, or `visit` for /确认) is listed.
    const numbered = registry.specs.filter((s) => ['id', 'visit'].includes(s.params[0] ?? '')).map((s) => s.name);
    expect(numbered.sort()).toEqual(listed.map(([name]) => name).sort());
  });

  it('knows every integer column that holds an id without a foreign key', () => {
    const schema = readFileSync(fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url)), 'utf8');
    const soft: string[] = [];
    for (const [, model, body] of schema.matchAll(/^model (\w+) \{\n([\s\S]*?)\n\}/gm)) {
      const related = new Set([...body!.matchAll(/@relation\([^)]*fields: \[(\w+)\]/g)].map((m) => m[1]));
      for (const [, column] of body!.matchAll(/^\s+(\w+Id)\s+Int\??/gm))
        if (!related.has(column)) soft.push(`${model}.${column}`);
    }
    expect(soft.sort()).toEqual(
      Object.entries(SOFT_REFERENCES)
        .flatMap(([table, columns]) => Object.keys(columns).map((c) => `${table}.${c}`))
        .sort(),
    );
  });
});
