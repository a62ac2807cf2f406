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
  Claim: 8000,
  BlacklistProposal: 9000,
  Inspection: 10_000,
  AgencyFinding: 11_000,
};
const shift: Shift = (table, id) => id + (OFFSETS[table] ?? 900_000);

/** The table whose number a template's {id} (or {visit}, a visit's label "#7 …") shows, by the template's key. */
function tableOfKey(key: string): string {
  if (/^(visit|visits|confirm)\.|^remind\.visit$|^card\.confirm$|^undo\.what_(visit|confirmation)$/.test(key))
    return 'PreventionVisit';
  if (key.startsWith('delivery.')) return 'OutboxMessage';
  if (/^(claim|claims|pay|dispute|settle)\.|^finding\.other_insurer$/.test(key)) return 'Claim';
  if (/^(propose|blacklist)\.(?!not_rectification$)|^card\.blacklist_|^undo\.what_proposal/.test(key))
    return 'BlacklistProposal';
  if (/^inspect\.recorded$|^undo\.what_inspection$/.test(key)) return 'Inspection';
  if (/^finding\.recorded$|^undo\.what_finding$/.test(key)) return 'AgencyFinding';
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
            .replaceAll('#{item}', `#${id + 1}`)
            .replace(/\{(?!id\})[a-zA-Z]+\}/g, 'X')
            .replaceAll('{id}', String(id));
        // Only numbers shown as "#N" or after a command are renumbered; a bare {id} (in an answer
        // to a mistyped number) is what the member typed, and stays.
        const expected = template
          .replaceAll('{visit}', `#${shift(table, 7)} 2026-11-29 化工 · 隐患排查`)
          // A proposal's rectification item is an obligation's number.
          .replaceAll('#{item}', `#${shift('Obligation', 8)}`)
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
    expect(renumberText('/赔付 4 5000 2026-11-30', shift)).toBe('/赔付 8004 5000 2026-11-30');
    expect(renumberText('/协调 4 达成一致', shift)).toBe('/协调 8004 达成一致');
    expect(renumberText('/提请黑名单 12 拒不整改', shift)).toBe('/提请黑名单 1012 拒不整改');
    expect(renumberText('/黑名单 批准 3', shift)).toBe('/黑名单 批准 9003');
    expect(renumberText('/黑名单 3', shift)).toBe('/黑名单 3');
    expect(renumberText('/发现 人保 理赔 #4 拖延', shift)).toBe('/发现 人保 理赔 #8004 拖延');
    expect(renumberText('/发现 人保 走访逾期 #4', shift)).toBe('/发现 人保 走访逾期 #8004');
  });

  it('renumbers list lines by what follows their number, under the words that head them', () => {
    const list =
      '⏳ 待决定 1 件：\n⏳ #3 某企业 · 某乡镇（X）X 提请 · 整改事项 #12：拒不整改\n✅ #2 某企业 · 某乡镇 · X X 批准 同意';
    expect(renumberText(list, shift)).toBe(
      '⏳ 待决定 1 件：\n⏳ #9003 某企业 · 某乡镇（X）X 提请 · 整改事项 #1012：拒不整改\n✅ #9002 某企业 · 某乡镇 · X X 批准 同意',
    );
    expect(renumberText('#4 某企业 · 2026-11-20 事故｜人保', shift)).toBe('#8004 某企业 · 2026-11-20 事故｜人保');
    expect(renumberText('📌 #12 安全培训（2026-12-31 截止）', shift)).toBe('📌 #1012 安全培训（2026-12-31 截止）');
    // /查询: an enterprise's visits, then its claims.
    const profile = [
      '事故预防走访（共 2 次，最近的）：',
      '#5 2026-11-29 隐患排查 · 人保 ✅已归档',
      '#6 — 安全培训 · 人保 🟡待确认',
      '',
      '理赔（共 1 件，最近的）：',
      '#4 某企业 · 2026-11-20 事故 · 人保 · 索赔 8000 元 · 未赔付',
    ].join('\n');
    expect(renumberText(profile, shift)).toBe(
      profile.replace('#5', '#2005').replace('#6', '#2006').replace('#4', '#8004'),
    );
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
    expect(
      JSON.parse(
        renumberUndo(
          JSON.stringify({
            ops: [
              { model: 'claimDispute', action: 'withdraw', where: { id: 2 } },
              { model: 'blacklistProposal', action: 'update', where: { id: 3 }, data: { state: 'proposed' } },
            ],
            told: [{ to: 'office', outbox: [9] }],
          }),
          shift,
        ),
      ),
    ).toEqual({
      ops: [
        { model: 'claimDispute', action: 'withdraw', where: { id: 900_002 } },
        { model: 'blacklistProposal', action: 'update', where: { id: 9003 }, data: { state: 'proposed' } },
      ],
      told: [{ to: 'office', outbox: [3009] }],
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
    // An import's run is renumbered; its counts stay as they are.
    expect(JSON.parse(renumberAuditDetail('{"source":"a.csv","run":3,"added":12}', 'import', shift))).toEqual({
      source: 'a.csv',
      run: 900_003,
      added: 12,
    });
    expect(renumberAuditDetail('not json: /办结 5', null, shift)).toBe('not json: /办结 1005');
    expect(JSON.parse(renumberAuditDetail('{"args":{"claim":4,"amount":500}}', 'pay', shift))).toEqual({
      args: { claim: 8004, amount: 500 },
    });
    expect(JSON.parse(renumberAuditDetail('{"args":{"action":"批准","id":3}}', 'blacklist', shift))).toEqual({
      args: { action: '批准', id: 9003 },
    });
    expect(
      JSON.parse(renumberAuditDetail('{"args":{"insurer":"人保","kind":"走访逾期","subject":"#4"}}', 'finding', shift)),
    ).toEqual({ args: { insurer: '人保', kind: '走访逾期', subject: '#8004' } });
  });

  it('renumbers reminder ledger targets that name a record, and keeps audiences', () => {
    expect(renumberLedgerTarget('obligation:12', shift)).toBe('obligation:1012');
    expect(renumberLedgerTarget('visit:3', shift)).toBe('visit:2003');
    expect(renumberLedgerTarget('campaign:1', shift)).toBe('campaign:5001');
    expect(renumberLedgerTarget('unit:2', shift)).toBe('unit:4002');
    expect(renumberLedgerTarget('policy:8', shift)).toBe('policy:6008');
    expect(renumberLedgerTarget('target:4', shift)).toBe('target:7004');
    expect(renumberLedgerTarget('claim:5', shift)).toBe('claim:8005');
    expect(renumberLedgerTarget('leaders', shift)).toBe('leaders');
  });

  it('knows every command that takes a record number, with all its aliases', async () => {
    const registry = await Registry.load();
    const listed = RECORD_COMMANDS.flatMap(({ commands }) => Object.entries(commands));
    for (const [name, aliases] of listed)
      expect(registry.specs.find((s) => s.name === name)?.aliases.sort(), name).toEqual([...aliases].sort());
    // A command with a record's number among its parameters (`id`, `visit` for /确认, `claim`) is listed.
    const numbered = registry.specs
      .filter((s) => s.params.some((p) => ['id', 'visit', 'claim'].includes(p)))
      .map((s) => s.name);
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
