import type { Tx } from '../db/client.ts';
import { coverageCells, gapTo, scopesOf, targetInForce, type TargetInForce } from './coverage.ts';
import { leadUnits, type SectorRef, type UnitRef } from './directory.ts';

/** Why a member may not report a scope, and who may. */
export type ReportRefusal =
  { reason: 'not_lead'; lead: string | null } | { reason: 'other_township'; own: string } | { reason: 'no_unit' };

/**
 * A township liaison reports for their own township; a department liaison for the sectors their
 * department leads (any township, or county-wide). Returns the township the report is for.
 */
export async function reportScope(
  db: Tx,
  unit: UnitRef | null,
  sector: SectorRef,
  township: UnitRef | null,
): Promise<{ township: UnitRef | null } | ReportRefusal> {
  if (!unit) return { reason: 'no_unit' };
  if (unit.kind === 'township') {
    if (township && township.id !== unit.id) return { reason: 'other_township', own: unit.name };
    return { township: unit };
  }
  const [lead] = await leadUnits(db, sector.id);
  if (lead?.id !== unit.id) return { reason: 'not_lead', lead: lead?.name ?? null };
  return { township };
}

export interface ReportOutcome {
  id: number;
  previous: { insured: number; total: number; reportedAt: Date } | null;
  target: TargetInForce | null;
  gap: number;
  /** What the ledger holds for the same scope, which wins over the report where it exists. */
  ledger: { insured: number; enterprises: number } | null;
}

export async function recordReport(
  db: Tx,
  r: {
    campaignId: number;
    unitId: number;
    sector: SectorRef;
    townshipId: number | null;
    insured: number;
    total: number;
    note: string | null;
    reportedBy: string;
    chatId: string | null;
    at: Date;
    day: string;
  },
): Promise<ReportOutcome> {
  const scope = { campaignId: r.campaignId, sectorId: r.sector.id, townshipId: r.townshipId };
  const previous = await db.progressReport.findFirst({
    where: { ...scope, withdrawnAt: null },
    orderBy: [{ reportedAt: 'desc' }, { id: 'desc' }],
  });
  const row = await db.progressReport.create({
    data: {
      ...scope,
      unitId: r.unitId,
      insured: r.insured,
      total: r.total,
      note: r.note,
      reportedBy: r.reportedBy,
      chatId: r.chatId,
      reportedAt: r.at,
    },
  });
  const targets = await db.target.findMany({ where: { campaignId: r.campaignId } });
  const target = targetInForce(targets, scopesOf(r.sector), r.day);
  const cells = (await coverageCells(db, r.campaignId, r.day, r.at)).filter(
    (c) =>
      c.source === 'ledger' && c.sectorId === r.sector.id && (r.townshipId === null || c.townshipId === r.townshipId),
  );
  return {
    id: row.id,
    previous: previous && { insured: previous.insured, total: previous.total, reportedAt: previous.reportedAt },
    target,
    gap: gapTo(target, r.total, r.insured),
    ledger: cells.length
      ? { insured: cells.reduce((n, c) => n + c.insured, 0), enterprises: cells.reduce((n, c) => n + c.enterprises, 0) }
      : null,
  };
}
