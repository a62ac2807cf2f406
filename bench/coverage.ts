// Benchmark 2: /覆盖率 on a county ten times Anhua's size, against the obvious aggregate — every
// enterprise joined to its policies valid on the day — written as one SQL query and run on
// better-sqlite3 directly. The figures must be identical on every day tested.
import Database from 'better-sqlite3';
import { Bus } from '../src/bot/bus.ts';
import { Registry } from '../src/bot/registry.ts';
import { addDays, fixedClock } from '../src/clock.ts';
import { openDatabase } from '../src/db/client.ts';
import { coverageCells, coverageCellsOver, coverageTrend } from '../src/domain/coverage.ts';
import { NOW, TODAY, TZ, type County } from './county.ts';
import { fmt, median, type Row, timed } from './lib.ts';

const OBVIOUS = `
  SELECT e."sectorId" AS "sectorId", e."townshipId" AS "townshipId",
    SUM(CASE WHEN e.status = 'operating' AND (s."highRisk" = 1 OR e."aboveScale" = 1) THEN 1 ELSE 0 END) AS enterprises,
    SUM(CASE WHEN e.status = 'operating' AND (s."highRisk" = 1 OR e."aboveScale" = 1) AND p.h IS NOT NULL THEN 1 ELSE 0 END) AS insured,
    SUM(CASE WHEN e.status = 'operating' AND (s."highRisk" = 1 OR e."aboveScale" = 1) THEN e.employees ELSE 0 END) AS employees,
    SUM(CASE WHEN e.status = 'operating' AND (s."highRisk" = 1 OR e."aboveScale" = 1) AND p.h IS NOT NULL THEN MIN(p.h, e.employees) ELSE 0 END) AS persons
  FROM "Enterprise" e
  JOIN "Sector" s ON s.id = e."sectorId"
  LEFT JOIN (SELECT "enterpriseId", MAX("insuredHeadcount") AS h FROM "Policy"
             WHERE status = 'valid' AND "startOn" <= @day AND "endOn" >= @day GROUP BY "enterpriseId") p ON p."enterpriseId" = e.id
  WHERE s."campaignId" = @campaign
  GROUP BY e."sectorId", e."townshipId"`;

type Cell = {
  sectorId: number;
  townshipId: number;
  enterprises: number;
  insured: number;
  employees: number;
  persons: number;
};
const key = (c: Cell) => `${c.sectorId}:${c.townshipId}`;
const same = (a: Cell[], b: Cell[]) => {
  const m = new Map(b.map((c) => [key(c), c]));
  return (
    a.length === b.length &&
    a.every((c) => {
      const o = m.get(key(c));
      return (
        o &&
        o.enterprises === c.enterprises &&
        o.insured === c.insured &&
        o.employees === c.employees &&
        o.persons === c.persons
      );
    })
  );
};

export async function coverageBench(county: County, runs = 7): Promise<Row[]> {
  const raw = new Database(county.file, { readonly: true });
  const obvious = raw.prepare(OBVIOUS);
  const db = openDatabase(county.url);
  const clock = fixedClock(NOW);
  const bus = new Bus({ db, clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
  try {
    // Identical figures on several days: today, a week back (the reply's "change"), later, earlier.
    const days = [
      TODAY,
      addDays(TODAY, -7),
      addDays(TODAY, 1),
      addDays(TODAY, 20),
      addDays(TODAY, 90),
      addDays(TODAY, -100),
      addDays(TODAY, 300),
    ];
    let identical = 0;
    for (const day of days) {
      const expected = obvious.all({ day, campaign: county.campaignId }) as Cell[];
      const ours = (await coverageCells(db, county.campaignId, day, new Date(NOW)))
        .filter((c) => c.source === 'ledger')
        .map((c) => ({
          sectorId: c.sectorId,
          townshipId: c.townshipId!,
          enterprises: c.enterprises,
          insured: c.insured,
          employees: c.employees,
          persons: c.insuredPersons,
        }));
      if (same(ours, expected)) identical++;
      else console.error(`coverage differs from the obvious query on ${day}`);
    }

    const say = () => bus.handle({ channel: 'sandbox', userId: 'demo-leader', chatId: null, text: '/覆盖率' });
    const first = await say();
    if (first.outcome !== 'ok') throw new Error(`/覆盖率 failed: ${first.text}`);
    const query: number[] = [];
    const command: number[] = [];
    for (let i = 0; i < runs; i++) {
      query.push((await timed(() => obvious.all({ day: TODAY, campaign: county.campaignId }))).wallMs);
      command.push((await timed(say)).wallMs);
    }
    const [q, c] = [median(query), median(command)];

    // /覆盖率 趋势: every week since the campaign took effect, each counted as /覆盖率 counts a day
    // (today and a week back are already kept from the replies above; the other weeks are not),
    // the ledger swept once for all weeks. Baseline: counting each day on its own (coverageCells,
    // what the trend did before, a pass per batch of days), on every 8th week (all of them would
    // take minutes), each at the same time of its day; its cells must be the sweep's.
    const campaign = await db.campaign.findUniqueOrThrow({
      where: { id: county.campaignId },
      select: { id: true, countyCode: true, effectiveOn: true },
    });
    const trend = await timed(() =>
      coverageTrend(db, campaign, { by: 'high_risk' }, campaign.effectiveOn, TODAY, new Date(NOW)),
    );
    const weeks = trend.result.points.length;
    const sample = trend.result.points
      .map((p) => p.day)
      .filter((d, i) => i % 8 === 0 && d < addDays(TODAY, -7))
      .map((day) => ({ day, now: new Date(Date.parse(NOW) - (Date.parse(TODAY) - Date.parse(day))) }));
    const swept = await coverageCellsOver(db, campaign, sample);
    const perDay = await timed(async () => {
      const out = [];
      for (const a of sample) out.push(await coverageCells(db, county.campaignId, a.day, a.now));
      return out;
    });
    const cellKey = (c: { sectorId: number; townshipId: number | null; source: string }) =>
      `${c.sectorId}:${c.townshipId}:${c.source}`;
    const asText = (cells: Awaited<ReturnType<typeof coverageCells>>) =>
      JSON.stringify([...cells].sort((a, b) => cellKey(a).localeCompare(cellKey(b))));
    const sameWeeks = sample.filter((_, i) => asText(swept[i]!) === asText(perDay.result[i]!)).length;
    const perWeek = trend.wallMs / weeks;
    const perDayWeek = perDay.wallMs / sample.length;
    return [
      {
        bench: '2 coverage',
        measure: `/覆盖率 (today and a week back) vs one obvious SQL query, ${county.enterprises.toLocaleString('en')} enterprises, ${county.policies.toLocaleString('en')} policies (median of ${runs})`,
        value: `${fmt(c, 0)} ms`,
        baseline: `${fmt(q, 0)} ms`,
        ratio: c / q,
        target: '≤ 0.25×',
        ok: c / q <= 0.25,
      },
      {
        bench: '2 coverage',
        measure: `/覆盖率 趋势's figures: ${weeks} weeks since ${campaign.effectiveOn}, first asked (one sweep over the ledger) vs one day's coverage query`,
        value: `${fmt(trend.wallMs, 0)} ms (${fmt(perWeek, 1)} ms a week)`,
        baseline: `${fmt(q, 0)} ms (the obvious query, one day)`,
        ratio: perWeek / q,
        target: '≤ 0.25× a week',
        ok: perWeek / q <= 0.25,
      },
      {
        bench: '2 coverage',
        measure: `/覆盖率 趋势: the sweep vs counting each week on its own (as before; timed on ${sample.length} of the weeks), a week`,
        value: `${fmt(perWeek, 1)} ms a week (${fmt(trend.wallMs / 1000, 1)} s in all)`,
        baseline: `${fmt(perDayWeek, 0)} ms a week (${fmt((perDayWeek * weeks) / 1000, 0)} s for all ${weeks})`,
        ratio: perWeek / perDayWeek,
        target: '≤ 0.05×',
        ok: perWeek / perDayWeek <= 0.05,
      },
      {
        bench: '2 coverage',
        measure: "the sweep's cells identical to counting each day on its own (every field of every cell)",
        value: `${sameWeeks} of ${sample.length} weeks`,
        target: 'all',
        ok: sameWeeks === sample.length && sample.length > 0,
      },
      {
        bench: '2 coverage',
        measure: 'figures identical to the obvious query (enterprises, insured, employees, persons per cell)',
        value: `${identical} of ${days.length} days`,
        target: 'all',
        ok: identical === days.length,
      },
    ];
  } finally {
    raw.close();
    await db.$disconnect();
  }
}
