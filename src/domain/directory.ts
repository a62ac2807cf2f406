import type { Tx } from '../db/client.ts';
import { textContains } from '../db/dialect.ts';
import { distance, matchName, nameWords, nearestNames } from '../core/names.ts';
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

const sectorWords = (s: { name: string; aliases: string; code: string }) => nameWords(s.name, s.aliases, s.code);

export async function findSector(db: Tx, campaignId: number, word: string): Promise<SectorRef | null> {
  const w = word.toLowerCase();
  const sectors = await db.sector.findMany({ where: { campaignId }, orderBy: { sortOrder: 'asc' } });
  const s = matchName(sectors, w, sectorWords);
  return s ? { id: s.id, code: s.code, name: s.name, highRisk: s.highRisk } : null;
}

interface UnitRow {
  name: string;
  aliases: string;
  code: string;
  kind: string;
  statCode: string | null;
}

/** A township's name without 镇/乡 (东坪), the way it is usually written. */
const shortTownship = (name: string) => name.replace(/[镇乡]$/, '');

/** Townships answer to their full name, their name without 镇/乡 (东坪), and their statistical code. */
const unitWords = (u: UnitRow) =>
  [
    ...nameWords(u.name, u.aliases, u.code),
    u.name.replace(/^县/, ''),
    ...(u.kind === 'township' ? [shortTownship(u.name), u.statCode ?? ''] : []),
  ].filter(Boolean);

const unitsOf = (db: Tx, countyCode: string, kinds?: string[]) =>
  db.unit.findMany({
    where: { countyCode, ...(kinds ? { kind: { in: kinds } } : {}) },
    orderBy: { sortOrder: 'asc' },
  });

export async function findUnit(db: Tx, countyCode: string, word: string, kinds?: string[]): Promise<UnitRef | null> {
  const u = matchName(await unitsOf(db, countyCode, kinds), word.toLowerCase().replace(/^县/, ''), unitWords);
  return u ? { id: u.id, code: u.code, name: u.name, kind: u.kind } : null;
}

/**
 * The known names nearest a word that named nothing, for "did you mean": sectors (by their
 * common short name) and units of the kinds asked for. A word written without 镇/乡 gets
 * townships without it too (东平 → 东坪).
 */
export async function nearestKnown(
  db: Tx,
  campaign: { id: number; countyCode: string },
  word: string,
  want: { sectors?: boolean; units?: 'any' | string[] },
): Promise<string[]> {
  const w = word.replace(/^县/, '');
  const bare = !/(镇|乡|街道)$/.test(w);
  const sectors = want.sectors
    ? (await db.sector.findMany({ where: { campaignId: campaign.id }, orderBy: { sortOrder: 'asc' } })).map((s) => ({
        name: s.aliases.split('|')[0] || s.name,
        words: sectorWords(s),
      }))
    : [];
  const kinds = want.units === 'any' ? undefined : want.units;
  const units = (want.units ? await unitsOf(db, campaign.countyCode, kinds) : []).map((u) => ({
    name: u.kind === 'township' && bare ? shortTownship(u.name) : u.name,
    words: unitWords(u),
  }));
  return nearestNames([...sectors, ...units], w, (x) => x.words);
}

/**
 * What a word after a report's numbers is: a township it names; or, when it looks like a place —
 * it ends in 镇/乡/街道, or is as long as a township's name and one character off it — a place
 * that is not known, with the nearest names; else null (it starts a note).
 */
export async function placeWord(
  db: Tx,
  campaign: { id: number; countyCode: string },
  word: string,
): Promise<UnitRef | { unknown: string; nearest: string[] } | null> {
  const townships = await unitsOf(db, campaign.countyCode, ['township']);
  const w = word.toLowerCase();
  const u = matchName(townships, w, unitWords);
  if (u) return { id: u.id, code: u.code, name: u.name, kind: u.kind };
  const placeLike =
    /(镇|乡|街道)$/.test(word) ||
    townships.some((t) =>
      [t.name, shortTownship(t.name)].some((name) => name.length === w.length && distance(name, w) === 1),
    );
  if (!placeLike) return null;
  return { unknown: word, nearest: await nearestKnown(db, campaign, word, { units: ['township'] }) };
}

export function findTownship(db: Tx, countyCode: string, word: string): Promise<UnitRef | null> {
  return findUnit(db, countyCode, word, ['township']);
}

export function findInsurer(db: Tx, countyCode: string, word: string): Promise<UnitRef | null> {
  return findUnit(db, countyCode, word, ['insurer']);
}

/**
 * The units leading a sector (its 行业主管部门): they are told of its claims paid late and answer for
 * its rectifications, report on it, and confirm visits for its enterprises. In the campaign's order
 * of units; a campaign file gives one lead a sector, or none (规上 others).
 */
export async function leadUnits(db: Tx, sectorId: number): Promise<UnitRef[]> {
  const leads = await db.sectorResponsibility.findMany({
    where: { sectorId, role: 'lead' },
    select: { unit: { select: { id: true, code: true, name: true, kind: true } } },
    orderBy: [{ unit: { sortOrder: 'asc' } }, { unitId: 'asc' }],
  });
  return leads.map((l) => l.unit);
}

export interface EnterpriseRef {
  id: number;
  name: string;
  creditCode: string;
  sectorId: number;
  townshipId: number;
  employees: number;
  status: string;
  /** Demo data: what is recorded about it (a claim, a policy, an inspection) is demo data too. */
  isDemo: boolean;
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
    isDemo: true,
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
