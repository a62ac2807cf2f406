import type { Db } from '../../src/db/client.ts';

// Coverage counted independently of src/domain/coverage.ts, in plain code over every enterprise,
// policy and report, for tests to check the bot's figures against.

export interface ExpectedCell {
  sectorId: number;
  townshipId: number | null;
  insured: number;
  total: number;
  source: 'ledger' | 'report';
  /** A township's report under its sector's county-wide report: counted for the township, never across townships. */
  part?: boolean;
}

/** Cells as summed across townships (per sector, per department): without the parts. */
export const wholes = (cells: ExpectedCell[]): ExpectedCell[] => cells.filter((c) => !c.part);

/** Every sector × township cell on `day`, with only the reports made by `now`, by the source rule. */
export async function expectedCells(db: Db, campaignId: number, day: string, now: Date): Promise<ExpectedCell[]> {
  const sectors = await db.sector.findMany({ where: { campaignId } });
  const enterprises = await db.enterprise.findMany({ include: { policies: true } });
  const reports = (
    await db.progressReport.findMany({
      where: { campaignId, withdrawnAt: null },
      orderBy: [{ reportedAt: 'desc' }, { id: 'desc' }],
    })
  ).filter((r) => r.reportedAt.getTime() <= now.getTime());
  const cells: ExpectedCell[] = [];
  for (const s of sectors) {
    const known = enterprises.filter((e) => e.sectorId === s.id);
    const ledgerTownships = [...new Set(known.map((e) => e.townshipId))];
    for (const townshipId of ledgerTownships) {
      const scope = known.filter(
        (e) => e.townshipId === townshipId && e.status === 'operating' && (s.highRisk || e.aboveScale),
      );
      const insured = scope.filter((e) =>
        e.policies.some((p) => p.status === 'valid' && p.startOn <= day && p.endOn >= day),
      ).length;
      cells.push({ sectorId: s.id, townshipId, insured, total: scope.length, source: 'ledger' });
    }
    // Without ledger data, the county-wide report is the sector's whole; township reports are its parts.
    const countyWide = known.length ? undefined : reports.find((r) => r.sectorId === s.id && r.townshipId === null);
    const seen = new Set<number>();
    for (const r of reports.filter((r) => r.sectorId === s.id && r.townshipId !== null)) {
      if (ledgerTownships.includes(r.townshipId!) || seen.has(r.townshipId!)) continue;
      seen.add(r.townshipId!);
      cells.push({
        sectorId: s.id,
        townshipId: r.townshipId,
        insured: r.insured,
        total: r.total,
        source: 'report',
        ...(countyWide ? { part: true } : {}),
      });
    }
    if (countyWide)
      cells.push({
        sectorId: s.id,
        townshipId: null,
        insured: countyWide.insured,
        total: countyWide.total,
        source: 'report',
      });
  }
  return cells;
}

/** Cells summed by a key; cells whose key is undefined are left out. */
export function sumBy<K>(cells: ExpectedCell[], key: (c: ExpectedCell) => K | undefined): Map<K, [number, number]> {
  const out = new Map<K, [number, number]>();
  for (const c of cells) {
    const k = key(c);
    if (k === undefined) continue;
    const [insured, total] = out.get(k) ?? [0, 0];
    out.set(k, [insured + c.insured, total + c.total]);
  }
  return out;
}

/** The same keys renamed, for comparing with what a reply shows by name. */
export function byName<K>(sums: Map<K, [number, number]>, name: (k: K) => string): Map<string, [number, number]> {
  return new Map([...sums].map(([k, v]) => [name(k), v]));
}
