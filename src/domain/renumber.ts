// Renumbering a county's rows as they move into a database that holds other counties
// (src/domain/move.ts): every row of a table gets its id shifted by that table's offset in the
// target, and every reference follows — foreign keys, the integer references Prisma has no relation
// for, and the ids written inside text: audit details and undo entries, outbox payloads (a button's
// command, "#12" in a notice), reminder ledger targets (`obligation:12`), a stored job's arguments,
// a pending action's command line and an inbound message's text. One home for where ids hide in
// text: a new writer that stores an id in text adds its rule here (test/db/renumber.test.ts checks
// every locale template that shows a record's number).

/** A table's new id for one of its old ids. */
export type Shift = (table: string, id: number) => number;

/** Integer columns that hold another table's id without a foreign key. */
export const SOFT_REFERENCES: Record<string, Record<string, string>> = {
  EnterpriseState: { sectorId: 'Sector', townshipId: 'Unit' },
  Job: { campaignId: 'Campaign' },
  ServicePlan: { insurerId: 'Unit' },
  ReminderLedger: { outboxId: 'OutboxMessage' },
};

/**
 * Commands whose first argument is a record's number, by the table it numbers: their names and
 * aliases, as typed after "/" (test/db/renumber.test.ts holds this to the command registry).
 */
export const RECORD_COMMANDS: { table: string; commands: Record<string, string[]> }[] = [
  {
    table: 'Obligation',
    commands: {
      ack: ['签收'],
      feedback: ['反馈'],
      done: ['办结', '销号'],
      extend: ['延期'],
      approve: ['批准'],
      reject: ['驳回'],
      snooze: ['暂缓'],
    },
  },
  { table: 'PreventionVisit', commands: { confirm: ['确认'] } },
];

/** The table a command's `id` argument numbers, by the command's name (as audited). */
const COMMAND_TABLE = new Map(
  RECORD_COMMANDS.flatMap(({ table, commands }) => Object.keys(commands).map((name) => [name, table] as const)),
);
const WORD_TABLE = new Map(
  RECORD_COMMANDS.flatMap(({ table, commands }) =>
    Object.entries(commands).flatMap(([name, aliases]) => [name, ...aliases].map((w) => [w, table] as const)),
  ),
);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const COMMAND_NUMBER = new RegExp(
  `([/／])(${[...WORD_TABLE.keys()]
    .sort((a, b) => b.length - a.length)
    .map(escape)
    .join('|')})(\\s+)(\\d+)(?!\\d)`,
  'gi',
);
/** "#12": the words just before it say whose number it is (a visit's, a message's), else an obligation's. */
const HASH_NUMBER = /#(\d+)(?!\d)/g;
const VISIT_BEFORE = /(走访|visit|确认|confirm)[^#]{0,24}$/i;
const MESSAGE_BEFORE = /(消息|message)\s*$/i;

/** Keys of JSON objects that hold a table's id, wherever they appear (a notice's chart, a command's arguments). */
const ID_KEYS: Record<string, string> = {
  campaignId: 'Campaign',
  unitId: 'Unit',
  insurerId: 'Unit',
  townshipId: 'Unit',
  sectorId: 'Sector',
  enterpriseId: 'Enterprise',
  policyId: 'Policy',
  renewsPolicyId: 'Policy',
  obligationId: 'Obligation',
  dutyId: 'Duty',
  visitId: 'PreventionVisit',
  outboxId: 'OutboxMessage',
  targetId: 'Target',
};

/** Free text (a command line, a notice's markdown, a button's key) with its record numbers renumbered. */
export function renumberText(text: string, shift: Shift): string {
  const named = new Map<string, string>();
  const commands = text.replace(COMMAND_NUMBER, (_, slash: string, word: string, space: string, n: string) => {
    const table = WORD_TABLE.get(word) ?? WORD_TABLE.get(word.toLowerCase())!;
    const id = String(shift(table, Number(n)));
    named.set(n, table);
    return `${slash}${word}${space}${id}`;
  });
  return commands.replace(HASH_NUMBER, (_, n: string, at: number, whole: string) => {
    const before = whole.slice(Math.max(0, at - 40), at);
    const table = VISIT_BEFORE.test(before)
      ? 'PreventionVisit'
      : MESSAGE_BEFORE.test(before)
        ? 'OutboxMessage'
        : (named.get(n) ?? 'Obligation');
    return `#${shift(table, Number(n))}`;
  });
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

/** An audit event's detail: its command's record argument (by the command audited), id keys, the line as typed. */
export function renumberAuditDetail(text: string, command: string | null, shift: Shift): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return renumberText(text, shift);
  }
  const detail = renumberJson(parsed, shift) as { args?: Record<string, unknown> };
  const table = command ? COMMAND_TABLE.get(command) : undefined;
  const original = (parsed as { args?: Record<string, unknown> }).args;
  // The record's argument is `id` (an obligation's commands) or `visit` (/确认), as src/domain/audit-log.ts reads it.
  if (table && detail.args && original)
    for (const key of ['id', 'visit'])
      if (typeof original[key] === 'number') detail.args = { ...detail.args, [key]: shift(table, original[key]) };
  return JSON.stringify(detail);
}

/** A reminder ledger target: `obligation:12`, `unit:3`, `campaign:1`…; audiences ('leaders') stay. */
const LEDGER_KINDS: Record<string, string> = {
  campaign: 'Campaign',
  unit: 'Unit',
  target: 'Target',
  policy: 'Policy',
  visit: 'PreventionVisit',
  obligation: 'Obligation',
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
  InboundMessage: {
    payload: (v, _, shift) => renumberJsonText(v, shift),
    reply: (v, _, shift) => renumberJsonText(v, shift),
  },
};
