import { addDays } from '../../src/clock.ts';
import type { Db } from '../../src/db/client.ts';
import { coverAround } from '../../src/domain/cover.ts';
import { creditCodeCheck } from '../../src/domain/credit-code.ts';
import { prng } from '../../bench/county.ts';

// A small generated county for comparing ways of counting coverage: enterprises in every sector
// and township, policies lapsed, renewed (early, late, with a gap), cancelled and overlapping, the
// kept cover around different days (or none kept), and a roster history with additions, closings,
// re-openings, moves between sectors and townships and headcount changes, some before the
// history starts (a lone first row that adds nothing). Deterministic for a seed.

export interface GeneratedCounty {
  /** Every day on which a history row, a policy or a kept stretch starts or ends, and the day before: the edges to check. */
  edges: string[];
}

export async function generateCounty(
  db: Db,
  campaignId: number,
  o: { n: number; today: string; seed?: number },
): Promise<GeneratedCounty> {
  const random = prng(o.seed ?? 7);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  const sectors = await db.sector.findMany({ where: { campaignId } });
  const townships = await db.unit.findMany({ where: { countyCode: campaign.countyCode, kind: 'township' } });
  const insurer = await db.unit.findFirstOrThrow({ where: { countyCode: campaign.countyCode, kind: 'insurer' } });
  const statuses = ['operating', 'operating', 'operating', 'stopped', 'closed'];
  const edges = new Set<string>();
  const edge = (day: string) => edges.add(day).add(addDays(day, -1));
  const day = (back: number) => addDays(o.today, -back);

  for (let i = 0; i < o.n; i++) {
    const serial = `92${campaign.countyCode}GEN${String(i).padStart(6, '0')}`;
    const state = () => ({
      status: pick(statuses),
      sectorId: pick(sectors).id,
      townshipId: pick(townships).id,
      aboveScale: random() < 0.5,
      employees: int(1, 300),
    });
    // The roster's history, oldest first: the last state is the enterprise's row.
    const history: (ReturnType<typeof state> & { validFrom: string; added: boolean })[] = [];
    const kind = random();
    if (kind < 0.35) {
      let from = day(int(20, 700));
      const added = random() < 0.6;
      history.push({ ...state(), validFrom: from, added });
      for (let k = int(0, 3); k > 0; k--) {
        from = addDays(from, int(1, 200));
        if (from > o.today) break;
        const last = history.at(-1)!;
        // Most changes change one thing: closing, re-opening, a move, a headcount.
        const change = random();
        const next =
          change < 0.3
            ? { ...last, status: last.status === 'operating' ? pick(['stopped', 'closed']) : 'operating' }
            : change < 0.5
              ? { ...last, sectorId: pick(sectors).id }
              : change < 0.7
                ? { ...last, townshipId: pick(townships).id }
                : change < 0.9
                  ? { ...last, employees: int(1, 300) }
                  : state();
        history.push({ ...next, validFrom: from, added: false });
      }
    }
    const { validFrom: _from, added: _added, ...now } = history.at(-1) ?? { ...state(), validFrom: '', added: false };
    for (const h of history) edge(h.validFrom);

    // Policies: a chain of years from some day, each renewed on time, early, late or not at all; some cancelled.
    const policies: { startOn: string; endOn: string; insuredHeadcount: number; status: string }[] = [];
    if (random() < 0.9) {
      let start = day(int(-60, 900));
      for (let k = int(1, 4); k > 0; k--) {
        const end = addDays(start, int(30, 400));
        policies.push({
          startOn: start,
          endOn: end,
          insuredHeadcount: Math.max(1, now.employees + int(-20, 20)),
          status: random() < 0.08 ? 'cancelled' : random() < 0.03 ? 'withdrawn' : 'valid',
        });
        start = addDays(end, int(-30, 60));
      }
      // Now and then a second policy over the same days (another insurer's, a larger headcount).
      if (random() < 0.1) {
        const p = pick(policies);
        policies.push({ ...p, startOn: addDays(p.startOn, 10), insuredHeadcount: p.insuredHeadcount + 5 });
      }
    }
    for (const p of policies) (edge(p.startOn), edge(addDays(p.endOn, 1)));
    // The kept cover: around today, around another day (correct, but asked outside more often), or none kept.
    const valid = policies.filter((p) => p.status === 'valid');
    const keep = random();
    const cover =
      keep < 0.6
        ? coverAround(valid, o.today)
        : keep < 0.85
          ? coverAround(valid, day(int(-100, 400)))
          : { from: null, until: null, headcount: null };
    if (cover.from) edge(cover.from);
    if (cover.until) edge(addDays(cover.until, 1));

    const e = await db.enterprise.create({
      data: {
        countyCode: campaign.countyCode,
        creditCode: serial + creditCodeCheck(serial),
        name: `生成企业${i + 1}（测试）`,
        ...now,
        isDemo: random() < 0.2,
        coverFrom: cover.from,
        coverUntil: cover.until,
        coverHeadcount: cover.headcount,
      },
    });
    if (policies.length)
      await db.policy.createMany({
        data: policies.map((p, k) => ({ ...p, policyNo: `GEN-${i}-${k}`, insurerId: insurer.id, enterpriseId: e.id })),
      });
    if (history.length)
      await db.enterpriseState.createMany({
        data: history.map((h) => ({ ...h, enterpriseId: e.id, countyCode: campaign.countyCode })),
      });
  }
  return { edges: [...edges].sort() };
}
