import { z } from 'zod';
import { addDays, dayIn } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { daysBetween } from './obligations.ts';
import { inspectionProgress, type InspectionProgress } from './inspections.ts';
import { percent } from '../core/format.ts';
import type { Translate } from '../i18n.ts';
import { rankCoverage, rankSorted, type CoverageRanking, type Ranked } from './ranking.ts';

// The annual assessment (年度考核, plan §三(三)): the county puts the campaign into each unit's
// annual work-safety assessment. A score per department and township and year, from the criteria
// and points of the campaign file. The plan gives no points: the Anhua file's are placeholders for
// 县安委办 to set, and every reply says so. Each criterion yields a share (0–1) of its points; one
// that does not apply to a unit (a township leads no sector to inspect) is left out of its maximum,
// so units are compared on the share of the points that apply to them.

const CRITERIA = ['coverage', 'reports', 'obligations', 'inspection', 'rectification'] as const;
export type Criterion = (typeof CRITERIA)[number];

export const assessmentSchema = z.object({
  /** Where the points come from, shown with every score. */
  note: z.string().min(1),
  /** True while the points are not the county's own. */
  placeholder: z.boolean().default(false),
  criteria: z.array(z.object({ key: z.enum(CRITERIA), points: z.number().int().min(0).max(1000) })).min(1),
});
export type AssessmentRules = z.output<typeof assessmentSchema>;

/** The campaign's stored rules; null when its file has none. */
function assessmentRules(stored: string): AssessmentRules | null {
  const parsed = assessmentSchema.safeParse(JSON.parse(stored || '{}'));
  return parsed.success ? parsed.data : null;
}

export interface CriterionScore {
  key: Criterion;
  points: number;
  /** The share of the points earned; null when the criterion does not apply to the unit. */
  share: number | null;
  /** Points earned, to one decimal. */
  score: number;
  /** What the share was computed from: done of due (or inspected of in scope, insured rate against the target). */
  done: number;
  of: number;
  /** For coverage: the rate and the target's rate (fractions). */
  rate?: number | null;
  target?: number | null;
}

export interface UnitAssessment {
  unit: { id: number; code: string; name: string; kind: string };
  criteria: CriterionScore[];
  score: number;
  max: number;
  share: number | null;
}

export interface Assessment {
  year: string;
  /** The last day counted: the year's end, or today during the year. */
  asOf: string;
  rules: AssessmentRules;
  ranked: Ranked<UnitAssessment>[];
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Every department and township of the campaign's county scored for a year, best first. Reads the
 * coverage views /排名 reads, the inspection counts, and the year's obligations and reports.
 */
export async function assess(
  db: Tx,
  campaignId: number,
  year: string,
  today: string,
  now: Date,
  timeZone: string,
  /** /排名's coverage ranking of the same day and this year's inspection progress, when the caller has them (counted once, not twice). */
  counted?: { coverage: CoverageRanking; inspections: InspectionProgress[] },
): Promise<Assessment | null> {
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  const rules = assessmentRules(campaign.assessment);
  if (!rules) return null;
  const first = `${year}-01-01`;
  const asOf = today < `${year}-12-31` ? today : `${year}-12-31`;
  const from = first > campaign.effectiveOn ? first : campaign.effectiveOn;
  const [units, coverage, inspections, obligations, reports] = await Promise.all([
    db.unit.findMany({
      where: { countyCode: campaign.countyCode, kind: { in: ['department', 'township'] } },
      orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }],
    }),
    counted && asOf === today
      ? counted.coverage
      : rankCoverage(db, campaignId, asOf, asOf === today ? now : new Date(`${addDays(asOf, 1)}T00:00:00Z`)),
    counted && asOf === today ? counted.inspections : inspectionProgress(db, campaignId, year),
    db.obligation.findMany({
      where: { campaignId, withdrawnAt: null, dueOn: { gte: first, lte: asOf } },
      select: { unitId: true, dueOn: true, status: true, doneAt: true, inspectionId: true },
    }),
    // A day's margin either side of the year in UTC; each report is then placed on its local day.
    db.progressReport.findMany({
      where: {
        campaignId,
        withdrawnAt: null,
        reportedAt: { gte: new Date(`${addDays(from, -1)}T00:00:00Z`), lt: new Date(`${addDays(asOf, 2)}T00:00:00Z`) },
      },
      select: { unitId: true, reportedAt: true },
    }),
  ]);
  const coverageOf = new Map(
    [...coverage.townships, ...coverage.departments].map(({ item }) => [item.key, item] as const),
  );
  const weeks = asOf < from ? 0 : Math.floor(daysBetween(from, asOf) / 7) + 1;
  const reportWeeks = new Map<number, Set<number>>();
  for (const r of reports) {
    const day = dayIn(r.reportedAt, timeZone);
    if (day < from || day > asOf) continue;
    const set = reportWeeks.get(r.unitId) ?? new Set<number>();
    set.add(Math.floor(daysBetween(from, day) / 7));
    reportWeeks.set(r.unitId, set);
  }
  const onTime = (o: (typeof obligations)[number]) =>
    o.status === 'done' && o.doneAt !== null && dayIn(o.doneAt, timeZone) <= o.dueOn;

  const scored = units.map((u): UnitAssessment => {
    // Due by the day counted: an open item due on that very day is not late yet.
    const mine = obligations.filter((o) => o.unitId === u.id && (o.dueOn < asOf || o.status === 'done'));
    const ratio = (done: number, of: number) => ({ done, of, share: of ? Math.min(1, done / of) : null });
    const measure = (key: Criterion): Omit<CriterionScore, 'key' | 'points' | 'score'> => {
      switch (key) {
        case 'coverage': {
          const row = coverageOf.get(u.id);
          if (!row || row.rate === null) return { done: 0, of: 0, share: null, rate: null, target: null };
          const target = row.target ? row.target.rateBp / 10000 : null;
          return {
            done: row.insured,
            of: row.enterprises,
            share: Math.min(1, target ? row.rate / target : row.rate),
            rate: row.rate,
            target,
          };
        }
        case 'reports':
          return ratio(reportWeeks.get(u.id)?.size ?? 0, weeks);
        case 'obligations': {
          const due = mine.filter((o) => o.inspectionId === null);
          return ratio(due.filter(onTime).length, due.length);
        }
        case 'inspection': {
          const p = inspections.find((x) => x.unit.id === u.id);
          return p ? ratio(p.inspected, p.inScope) : { done: 0, of: 0, share: null };
        }
        case 'rectification': {
          const due = mine.filter((o) => o.inspectionId !== null);
          return ratio(due.filter(onTime).length, due.length);
        }
      }
    };
    const criteria = rules.criteria.map(({ key, points }): CriterionScore => {
      const m = measure(key);
      return { key, points, ...m, score: m.share === null ? 0 : round1(m.share * points) };
    });
    const applying = criteria.filter((c) => c.share !== null);
    const score = round1(applying.reduce((n, c) => n + c.score, 0));
    const max = applying.reduce((n, c) => n + c.points, 0);
    return {
      unit: { id: u.id, code: u.code, name: u.name, kind: u.kind },
      criteria,
      score,
      max,
      share: max ? score / max : null,
    };
  });
  const sorted = scored.filter((s) => s.share !== null).sort((a, b) => b.share! - a.share! || b.score - a.score);
  return { year, asOf, rules, ranked: rankSorted(sorted, (a, b) => a.share === b.share) };
}

/** "1. 东坪镇  36.4/55 分（66.2%）": a unit's line in /考核's and /排名's ranking. */
export const rankingLine = (t: Translate, { rank, item }: Ranked<UnitAssessment>): string =>
  t('assess.ranking_line', {
    rank,
    unit: item.unit.name,
    score: item.score,
    max: item.max,
    share: percent(item.share),
  });
