// Renumbering a county's rows as they move into a database that holds other counties
// (src/domain/move.ts): every row of a table gets its id shifted by that table's offset in the
// target, and every reference follows — foreign keys, the integer references Prisma has no relation
// for, and the ids written inside text: audit details and undo entries, outbox payloads (a button's
// command, "#12" in a notice), reminder ledger targets (`obligation:12`), a stored job's arguments,
// a pending action's command line and an inbound message's text. One home for where ids hide in
// text: a new writer that stores an id in text adds its rule here (test/db/renumber.test.ts checks
// every locale template that shows a record's number).

import { APPROVE, REJECT } from './blacklist.ts';

/** A table's new id for one of its old ids. */
export type Shift = (table: string, id: number) => number;

/** Integer columns that hold another table's id without a foreign key. */
export const SOFT_REFERENCES: Record<string, Record<string, string>> = {
  EnterpriseState: { sectorId: 'Sector', townshipId: 'Unit' },
  Job: { campaignId: 'Campaign' },
  ServicePlan: { insurerId: 'Unit' },
  ReminderLedger: { outboxId: 'OutboxMessage' },
  ImportRun: { campaignId: 'Campaign' },
  ImportRosterRow: { sectorId: 'Sector', townshipId: 'Unit' },
  Inspection: { campaignId: 'Campaign', unitId: 'Unit', sectorId: 'Sector', townshipId: 'Unit' },
  BlacklistProposal: { campaignId: 'Campaign', enterpriseId: 'Enterprise', obligationId: 'Obligation', unitId: 'Unit' },
};

/**
 * Commands that take a record's number, by the table it numbers: the argument that holds it (as
 * audited), the words a member may type between the command and the number (/黑名单 批准 3), and
 * the commands' names and aliases, as typed after "/" (test/db/renumber.test.ts holds this to the
 * command registry).
 */
export const RECORD_COMMANDS: { table: string; arg: string; before?: string[]; commands: Record<string, string[]> }[] =
  [
    {
      table: 'Obligation',
      arg: 'id',
      commands: {
        ack: ['签收'],
        feedback: ['反馈'],
        done: ['办结', '销号'],
        extend: ['延期'],
        approve: ['批准'],
        reject: ['驳回'],
        snooze: ['暂缓'],
        propose: ['提请黑名单', '黑名单提请'],
      },
    },
    { table: 'PreventionVisit', arg: 'visit', commands: { confirm: ['确认'] } },
    { table: 'Claim', arg: 'claim', commands: { pay: ['赔付'], dispute: ['争议'], settle: ['协调'] } },
    { table: 'BlacklistProposal', arg: 'id', before: [...APPROVE, ...REJECT], commands: { blacklist: ['黑名单'] } },
  ];

/** Commands that take a record's number written as "#12" in one argument: /发现 names a claim so. */
export const HASH_COMMANDS: { table: string; arg: string; commands: Record<string, string[]> }[] = [
  { table: 'Claim', arg: 'subject', commands: { finding: ['发现'] } },
];

const words = (list: { commands: Record<string, string[]> }[]) =>
  list.flatMap(({ commands }) => Object.entries(commands).flatMap(([name, aliases]) => [name, ...aliases]));
/** A command's record, by the command's name (as audited): its table and the argument that holds it. */
const COMMAND_RECORD = new Map(
  RECORD_COMMANDS.flatMap((c) => Object.keys(c.commands).map((name) => [name, c] as const)),
);
const COMMAND_HASH = new Map(HASH_COMMANDS.flatMap((c) => Object.keys(c.commands).map((name) => [name, c] as const)));
const WORD_RECORD = new Map(
  RECORD_COMMANDS.flatMap((c) =>
    Object.entries(c.commands).flatMap(([name, aliases]) =>
      [name, ...aliases].map((w) => [w.toLowerCase(), c] as const),
    ),
  ),
);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const alternation = (list: string[]) =>
  [...new Set(list)]
    .sort((a, b) => b.length - a.length)
    .map(escape)
    .join('|');
const COMMAND_NUMBER = new RegExp(
  `([/／])(${alternation(words(RECORD_COMMANDS))})(\\s+)((?:${alternation(RECORD_COMMANDS.flatMap((c) => c.before ?? []))})\\s+)?(\\d+)(?!\\d)`,
  'gi',
);
/** A line of a command whose "#12" is its record's number. */
const HASH_COMMAND = new RegExp(`[/／](${alternation(words(HASH_COMMANDS))})\\s[^\\n]*$`, 'i');
const HASH_COMMAND_TABLE = new Map(
  HASH_COMMANDS.flatMap((c) => words([c]).map((w) => [w.toLowerCase(), c.table] as const)),
);

/** "#12": whose number it is, by the nearest of these words just before it; an obligation's by default. */
const HASH_NUMBER = /#(\d+)(?!\d)/g;
const NAMED_BEFORE: [RegExp, string][] = [
  [/走访|visit|确认|confirm/gi, 'PreventionVisit'],
  [/理赔|claim/gi, 'Claim'],
  [/提请|proposal/gi, 'BlacklistProposal'],
  [/执法检查|inspection/gi, 'Inspection'],
  [/发现|finding/gi, 'AgencyFinding'],
  [/整改事项|督办事项|交办事项|rectification|assignment|item/gi, 'Obligation'],
];
const MESSAGE_BEFORE = /(消息|message)\s*$/i;
/** A list line's "#12" with no word before it: a visit's line, a claim's label, a blacklist proposal's line (locales claim.label, blacklist.*_line). */
const LINE_AFTER: [RegExp, string][] = [
  // A visit's line in /查询: its day (or "—" when none) right after its number.
  [/^\d+ (?:\d{4}-\d\d-\d\d|—) /, 'PreventionVisit'],
  [/^\d+ [^\n]*· (?:[^\n·]*事故|accident of )/, 'Claim'],
  [
    /^\d+ [^\n]*(?:(?:提请|proposed[^\n·]*) · (?:整改事项|rectification item) #|· [^\n·]+ · (?:[^\n·]+ (?:批准|驳回)(?: |$)|(?:approved|rejected) by ))/m,
    'BlacklistProposal',
  ],
];

/** The table a "#N" at `at` in `text` numbers, by what is around it; undefined when nothing says. */
function hashTable(text: string, at: number): string | undefined {
  const line = text.slice(text.lastIndexOf('\n', at - 1) + 1, at);
  const command = HASH_COMMAND.exec(line);
  if (command) return HASH_COMMAND_TABLE.get(command[1]!.toLowerCase());
  if (MESSAGE_BEFORE.test(line)) return 'OutboxMessage';
  // The words may end the line before ("…走访，请核实：\n#7 …").
  const before = text.slice(Math.max(0, at - 40), at);
  const near = before.slice(before.lastIndexOf('#') + 1).slice(-24);
  let best: { end: number; table: string } | undefined;
  for (const [re, table] of NAMED_BEFORE)
    for (const m of near.matchAll(re))
      if (!best || m.index + m[0].length >= best.end) best = { end: m.index + m[0].length, table };
  if (best) return best.table;
  if (/[\p{L}\p{N}]/u.test(line)) return undefined;
  const after = text.slice(at + 1);
  return LINE_AFTER.find(([re]) => re.test(after))?.[1];
}

/** Keys of JSON objects that hold a table's id, wherever they appear (a notice's chart, a command's arguments). */
const ID_KEYS: Record<string, string> = {
  campaignId: 'Campaign',
  unitId: 'Unit',
  insurerId: 'Unit',
  townshipId: 'Unit',
  coordinatorId: 'Unit',
  agencyId: 'Unit',
  sectorId: 'Sector',
  enterpriseId: 'Enterprise',
  policyId: 'Policy',
  renewsPolicyId: 'Policy',
  obligationId: 'Obligation',
  dutyId: 'Duty',
  visitId: 'PreventionVisit',
  outboxId: 'OutboxMessage',
  targetId: 'Target',
  claimId: 'Claim',
  inspectionId: 'Inspection',
  runId: 'ImportRun',
};

/** Free text (a command line, a notice's markdown, a button's key) with its record numbers renumbered. */
export function renumberText(text: string, shift: Shift): string {
  const named = new Map<string, string>();
  const commands = text.replace(
    COMMAND_NUMBER,
    (whole, slash: string, word: string, space: string, before: string | undefined, n: string) => {
      const record = WORD_RECORD.get(word.toLowerCase())!;
      // A number after a word the command does not take there (/签收 批准 3) is no record's.
      if (!before !== !record.before) return whole;
      named.set(n, record.table);
      return `${slash}${word}${space}${before ?? ''}${shift(record.table, Number(n))}`;
    },
  );
  return commands.replace(
    HASH_NUMBER,
    (_, n: string, at: number, whole: string) =>
      `#${shift(hashTable(whole, at) ?? named.get(n) ?? 'Obligation', Number(n))}`,
  );
}

/** A JSON value with its id keys and its strings renumbered. */
export function renumberJson(value: unknown, shift: Shift): unknown {
  if (typeof value === 'string') return renumberText(value, shift);
  if (Array.isArray(value)) return value.map((v) => renumberJson(v, shift));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        ID_KEYS[k] && typeof v === 'number' ? shift(ID_KEYS[k], v) : renumberJson(v, shift),
      ]),
    );
  return value;
}

/** JSON text renumbered; text that is not JSON is renumbered as free text. */
function renumberJsonText(text: string, shift: Shift): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return renumberText(text, shift);
  }
  return JSON.stringify(renumberJson(parsed, shift));
}

/** A Prisma model name (as undo entries name them) as its table. */
const tableOf = (model: string) => model[0]!.toUpperCase() + model.slice(1);

/** An audit event's undo entry (src/core/undo.ts): the records its operations name, the messages it queued. */
export function renumberUndo(text: string, shift: Shift): string {
  const parsed = JSON.parse(text) as unknown;
  const entry = (Array.isArray(parsed) ? { ops: parsed, told: [] } : parsed) as {
    ops: { model: string; where?: { id: number }; data?: unknown }[];
    told: { to: unknown; outbox: number[] }[];
  };
  const ops = entry.ops.map((op) => ({
    ...op,
    ...(op.where ? { where: { ...op.where, id: shift(tableOf(op.model), op.where.id) } } : {}),
    ...(op.data !== undefined ? { data: renumberJson(op.data, shift) } : {}),
  }));
  const told = entry.told.map(({ to, outbox }) => ({
    to:
      to && typeof to === 'object' && 'unit' in to && typeof to.unit === 'number'
        ? { ...to, unit: shift('Unit', to.unit) }
        : to,
    outbox: outbox.map((id) => shift('OutboxMessage', id)),
  }));
  return JSON.stringify(Array.isArray(parsed) ? ops : { ...entry, ops, told });
}

/** Keys of an audit detail that hold a record's id, by the command audited: an import names its run. */
const AUDIT_KEYS: Record<string, Record<string, string>> = { import: { run: 'ImportRun' } };

/** An audit event's detail: its command's record argument (by the command audited), id keys, the line as typed. */
export function renumberAuditDetail(text: string, command: string | null, shift: Shift): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return renumberText(text, shift);
  }
  const detail = renumberJson(parsed, shift) as Record<string, unknown> & { args?: Record<string, unknown> };
  for (const [key, table] of Object.entries((command && AUDIT_KEYS[command]) ?? {}))
    if (typeof (parsed as Record<string, unknown>)[key] === 'number')
      detail[key] = shift(table, (parsed as Record<string, number>)[key]!);
  const original = (parsed as { args?: Record<string, unknown> }).args;
  // The record's argument (`id`, `visit`, `claim`), as src/domain/audit-log.ts reads it; /发现's "#12".
  const record = command ? COMMAND_RECORD.get(command) : undefined;
  const hash = command ? COMMAND_HASH.get(command) : undefined;
  if (record && detail.args && original && typeof original[record.arg] === 'number')
    detail.args = { ...detail.args, [record.arg]: shift(record.table, original[record.arg] as number) };
  const written = hash && original?.[hash.arg];
  if (hash && detail.args && typeof written === 'string' && /^#\d+$/.test(written))
    detail.args = { ...detail.args, [hash.arg]: `#${shift(hash.table, Number(written.slice(1)))}` };
  return JSON.stringify(detail);
}

/** A reminder ledger target: `obligation:12`, `unit:3`, `campaign:1`, `claim:4`…; audiences ('leaders') stay. */
const LEDGER_KINDS: Record<string, string> = {
  campaign: 'Campaign',
  unit: 'Unit',
  target: 'Target',
  policy: 'Policy',
  visit: 'PreventionVisit',
  obligation: 'Obligation',
  claim: 'Claim',
};
export function renumberLedgerTarget(target: string, shift: Shift): string {
  const m = /^([a-z]+):(\d+)$/.exec(target);
  const table = m && LEDGER_KINDS[m[1]!];
  return table ? `${m[1]}:${shift(table, Number(m[2]))}` : target;
}

/** Text columns that hold ids, by table and column: each value and its row as read from the source. */
export const TEXT_REFERENCES: Record<
  string,
  Record<string, (value: string, row: Record<string, unknown>, shift: Shift) => string>
> = {
  AuditEvent: {
    detail: (v, row, shift) => renumberAuditDetail(v, row.command as string | null, shift),
    undo: (v, _, shift) => renumberUndo(v, shift),
  },
  OutboxMessage: { payload: (v, _, shift) => renumberJsonText(v, shift) },
  ReminderLedger: { target: (v, _, shift) => renumberLedgerTarget(v, shift) },
  Job: {
    args: (v, _, shift) => renumberJsonText(v, shift),
    result: (v, _, shift) => renumberJsonText(v, shift),
  },
  PendingAction: {
    text: (v, _, shift) => renumberText(v, shift),
    preview: (v, _, shift) => renumberText(v, shift),
  },
  Stranger: { lastText: (v, _, shift) => renumberText(v, shift) },
  InboundMessage: {
    payload: (v, _, shift) => renumberJsonText(v, shift),
    reply: (v, _, shift) => renumberJsonText(v, shift),
  },
};
