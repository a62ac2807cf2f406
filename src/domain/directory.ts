import type { Tx } from '../db/client.ts';
import { textContains } from '../db/dialect.ts';
import { matchName, nameWords, nearestNames } from '../core/names.ts';
import { isCreditCode, normaliseCreditCode } from './credit-code.ts';

// Finding sectors, units and enterprises by the words people type: names, short names (危化,
// 东坪, 应急局, 平安), codes and credit codes.

export interface SectorRef {
  id: number;
  code: string;
  name: string;
  highRisk: boolean;
}
export interface UnitRef {
  id: number;
  code: string;
  name: string;
  kind: string;
}

const sectorWords = (x: { name: string; aliases: string; code: string }) => nameWords(x.name, x.aliases, x.code);

export async function findSector(db: Tx, campaignId: number, word: string): Promise<SectorRef | null> {
  const w = word.toLowerCase();
  const sectors = await db.sector.findMany({ where: { campaignId }, orderBy: { sortOrder: 'asc' } });
  const s = matchName(sectors, w, sectorWords);
  return s ? { id: s.id, code: s.code, name: s.name, highRisk: s.highRisk } : null;
}

/** The sectors nearest to a word that named none, for "did you mean". */
export async function nearestSectors(db: Tx, campaignId: number, word: string): Promise<string[]> {
  const sectors = await db.sector.findMany({ where: { campaignId }, orderBy: { sortOrder: 'asc' } });
  return nearestNames(sectors, word, sectorWords);
}

/** Townships answer to their full name, their name without 镇/乡 (东坪), and their statistical code. */
export async function findUnit(db: Tx, countyCode: string, word: string, kinds?: string[]): Promise<UnitRef | null> {
  const w = word.toLowerCase().replace(/^县/, '');
  const units = await db.unit.findMany({
    where: { countyCode, ...(kinds ? { kind: { in: kinds } } : {}) },
    orderBy: { sortOrder: 'asc' },
  });
  const u = matchName(units, w, unitWords);
  return u ? { id: u.id, code: u.code, name: u.name, kind: u.kind } : null;
}

type UnitRow = { name: string; aliases: string; code: string; kind: string; statCode: string | null };
const unitWords = (u: UnitRow) =>
  [
    ...nameWords(u.name, u.aliases, u.code),
    u.name.replace(/^县/, ''),
    ...(u.kind === 'township' ? [u.name.replace(/[镇乡]$/, ''), u.statCode ?? ''] : []),
  ].filter(Boolean);

/** The townships nearest to a word that named none, for "did you mean". */
export async function nearestTownships(db: Tx, countyCode: string, word: string): Promise<string[]> {
  const units = await db.unit.findMany({ where: { countyCode, kind: 'township' }, orderBy: { sortOrder: 'asc' } });
  return nearestNames(units, word.replace(/^县/, ''), unitWords);
}

export function findTownship(db: Tx, countyCode: string, word: string): Promise<UnitRef | null> {
  return findUnit(db, countyCode, word, ['township']);
}

export function findInsurer(db: Tx, countyCode: string, word: string): Promise<UnitRef | null> {
  return findUnit(db, countyCode, word, ['insurer']);
}

export interface EnterpriseRef {
  id: number;
  name: string;
  creditCode: string;
  sectorId: number;
  townshipId: number;
  employees: number;
  status: string;
}

/**
 * An enterprise by credit code or by (part of) its name: exactly one match, or the candidates for
 * a short pick list (at most `limit`), or none.
 */
export async function findEnterprise(
  db: Tx,
  countyCode: string,
  word: string,
  limit = 5,
): Promise<{ match?: EnterpriseRef; candidates: EnterpriseRef[] }> {
  const code = normaliseCreditCode(word);
  const select = {
    id: true,
    name: true,
    creditCode: true,
    sectorId: true,
    townshipId: true,
    employees: true,
    status: true,
  } as const;
  if (isCreditCode(code)) {
    const e = await db.enterprise.findFirst({ where: { countyCode, creditCode: code }, select });
    return e ? { match: e, candidates: [] } : { candidates: [] };
  }
  const exact = await db.enterprise.findFirst({ where: { countyCode, name: word }, select });
  if (exact) return { match: exact, candidates: [] };
  const candidates = await db.enterprise.findMany({
    where: { countyCode, name: textContains(db, word) },
    select,
    take: limit + 1,
    orderBy: { name: 'asc' },
  });
  return candidates.length === 1 ? { match: candidates[0]!, candidates: [] } : { candidates };
}
