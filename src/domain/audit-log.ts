import { addDays, dayIn, minuteIn } from '../clock.ts';
import { inBatches } from '../db/batches.ts';
import type { Tx } from '../db/client.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import type { Translate } from '../i18n.ts';
import { addSheet } from './workbook.ts';

// The audit trail as admins question it: who did what, to which record, when. Writes come first;
// reads and messages that were no command follow only when asked for.

export interface AuditFilter {
  /** Userids of the actors. */
  actors?: string[];
  /** Command names (the spec's name). */
  commands?: string[];
  /** Days in the campaign's timezone, inclusive. */
  from?: string;
  to?: string;
  /** A record's number (#57): an obligation or a visit named by the command's arguments. */
  record?: number;
}

export interface AuditEntry {
  id: number;
  at: Date;
  actorUserId: string | null;
  actorName: string | null;
  chatId: string | null;
  channel: string;
  command: string | null;
  outcome: string;
  confirmed: boolean;
  undone: boolean;
  /** The arguments as the bus recorded them (secrets already '***'), or the line as typed when it was refused before. */
  args: Record<string, unknown> | null;
  text: string | null;
  write: boolean;
}

/** Arguments that name a record by its number. */
const RECORD_ARGS = ['id', 'visit'];

/**
 * The events of a county's members (all, without a county) matching the filter, writes first, each
 * part newest first. `writes` are the names of the commands that write.
 */
export async function auditEntries(
  db: Tx,
  o: { county?: string; filter: AuditFilter; writes: ReadonlySet<string>; timeZone: string },
): Promise<AuditEntry[]> {
  const { filter, timeZone } = o;
  const members = await db.member.findMany({
    where: o.county ? { unit: { countyCode: o.county } } : {},
    select: { userId: true, name: true },
  });
  const names = new Map(members.map((m) => [m.userId, m.name]));
  const actors = filter.actors ?? (o.county ? [...names.keys()] : undefined);
  const where: Prisma.AuditEventWhereInput = {
    ...(filter.commands ? { command: { in: filter.commands } } : {}),
    // A day's bounds depend on the timezone: the query takes a day more each side, the days are checked below.
    ...(filter.from || filter.to
      ? {
          at: {
            ...(filter.from ? { gte: new Date(`${addDays(filter.from, -1)}T00:00:00Z`) } : {}),
            ...(filter.to ? { lt: new Date(`${addDays(filter.to, 2)}T00:00:00Z`) } : {}),
          },
        }
      : {}),
  };
  // A county's members include its enterprises' contacts, tens of thousands: asked a batch at a time.
  const rows = actors
    ? (
        await inBatches(actors, (batch) =>
          db.auditEvent.findMany({ where: { ...where, actorUserId: { in: batch } }, orderBy: { id: 'desc' } }),
        )
      ).sort((a, b) => b.id - a.id)
    : await db.auditEvent.findMany({ where, orderBy: { id: 'desc' } });
  const entries = rows.map((e): AuditEntry => {
    const detail = parseDetail(e.detail);
    return {
      id: e.id,
      at: e.at,
      actorUserId: e.actorUserId,
      actorName: e.actorUserId ? (names.get(e.actorUserId) ?? e.actorUserId) : null,
      chatId: e.chatId,
      channel: e.channel,
      command: e.command,
      outcome: e.outcome,
      confirmed: e.action === 'confirmed',
      undone: e.undoneAt !== null,
      args: detail.args ?? null,
      text: detail.text ?? null,
      write: e.command !== null && o.writes.has(e.command),
    };
  });
  const day = (e: AuditEntry) => dayIn(e.at, timeZone);
  const kept = entries.filter(
    (e) =>
      (!filter.from || day(e) >= filter.from) &&
      (!filter.to || day(e) <= filter.to) &&
      (filter.record === undefined || RECORD_ARGS.some((k) => e.args?.[k] === filter.record)),
  );
  return [...kept.filter((e) => e.write), ...kept.filter((e) => !e.write)];
}

function parseDetail(detail: string | null): { args?: Record<string, unknown>; text?: string } {
  try {
    const d = JSON.parse(detail ?? '{}') as { args?: unknown; text?: unknown };
    return {
      ...(d.args && typeof d.args === 'object' ? { args: d.args as Record<string, unknown> } : {}),
      ...(typeof d.text === 'string' ? { text: d.text } : {}),
    };
  } catch {
    return {};
  }
}

/** An argument's value as a line shows it: lists joined, absent ones left out. */
export function argWords(args: Record<string, unknown> | null, params: readonly string[]): string {
  if (!args) return '';
  return params
    .map((p) => args[p.replace(/^\.\.\./, '')])
    .filter((v) => v !== undefined && v !== null && v !== '')
    .map((v) => (Array.isArray(v) ? v.join('|') : typeof v === 'object' ? JSON.stringify(v) : String(v)))
    .join(' ');
}

/** The log as a workbook of its own: one row per event, in the order given. */
export async function writeAuditLog(
  entries: AuditEntry[],
  o: { t: Translate; timeZone: string; what(e: AuditEntry): string; mark(e: AuditEntry): string },
  file: string,
): Promise<void> {
  const { t, timeZone } = o;
  const { default: Excel } = await import('exceljs');
  const wb = new Excel.Workbook();
  wb.creator = t('export.creator');
  addSheet(
    wb,
    t('audit.sheet'),
    t('audit.cols').split('|'),
    entries.map((e) => [
      e.id,
      minuteIn(e.at, timeZone),
      e.actorName ?? '',
      e.actorUserId ?? '',
      e.chatId ?? '',
      o.what(e),
      o.mark(e),
      e.confirmed ? t('audit.yes') : '',
      e.undone ? t('audit.yes') : '',
    ]),
  );
  await wb.xlsx.writeFile(file);
}
