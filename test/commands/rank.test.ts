import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bot/bus.ts';
import { expectedCells, sumBy } from '../support/coverage.ts';
import { testBot, type TestDb } from '../support/db.ts';

let t: TestDb;
let bus: Bus;
const say = (text: string, userId = 'demo-leader') => bus.handle({ channel: 'sandbox', userId, chatId: null, text });

/** The lines of one numbered section of the reply: "🔴 22. 平口镇  8/12 家 66.7% …" → rank, name, rest. */
function section(reply: string, heading: string): { rank: number; name: string; rest: string }[] {
  const lines = reply.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start + 1, end).flatMap((l) => {
    const m = /^(?:🟢|🟡|🔴|⚪) (\d+)\. (\S+)  (.*)$/u.exec(l);
    return m ? [{ rank: Number(m[1]), name: m[2]!, rest: m[3]! }] : [];
  });
}

/** Competition ranks (1, 2, 2, 4) of values, higher first: the number of values strictly better, plus one. */
function ranks<K>(values: Map<K, number>): Map<K, number> {
  return new Map([...values].map(([k, v]) => [k, [...values.values()].filter((x) => x > v).length + 1]));
}

/** Checks shown lines against independently computed rates: figures, rank, and that the top and bottom three (with ties) are there. */
function checkRanking(shown: { rank: number; name: string; rest: string }[], sums: Map<string, [number, number]>) {
  const rates = new Map(
    [...sums].filter(([, [, total]]) => total > 0).map(([n, [insured, total]]) => [n, insured / total]),
  );
  const expectedRank = ranks(rates);
  for (const s of shown) {
    expect(s.rank, s.name).toBe(expectedRank.get(s.name));
    expect(s.rest, s.name).toMatch(new RegExp(`^${sums.get(s.name)![0]}/${sums.get(s.name)![1]} 家 `));
  }
  const order = [...expectedRank.values()].sort((a, b) => a - b);
  const third = order[2]!;
  const thirdLast = order.at(-3)!;
  const names = shown.map((s) => s.name);
  for (const [n, r] of expectedRank) if (r <= third || r >= thirdLast || rates.size <= 7) expect(names, n).toContain(n);
  expect(shown.map((s) => s.rank)).toEqual([...shown.map((s) => s.rank)].sort((a, b) => a - b));
}

/** Per unit name: obligations done on time, done late, open past due; counted with the +08:00 day by hand. */
async function expectedTimeliness(): Promise<Map<string, [number, number, number]>> {
  const obligations = await t.db.obligation.findMany({ include: { unit: true } });
  const out = new Map<string, [number, number, number]>();
  for (const o of obligations) {
    const c = out.get(o.unit.name) ?? [0, 0, 0];
    if (o.status === 'done')
      c[new Date(o.doneAt!.getTime() + 8 * 3_600_000).toISOString().slice(0, 10) <= o.dueOn ? 0 : 1]++;
    else if (o.dueOn < '2026-11-29') c[2]++;
    else continue;
    out.set(o.unit.name, c);
  }
  return out;
}

beforeAll(async () => ({ t, bus } = await testBot({ demo: true })));
afterAll(() => t.close());

describe('/排名', () => {
  it('ranks townships by the insured rate of their in-scope enterprises, as counted independently', async () => {
    const reply = (await say('/排名')).text;
    const townships = new Map((await t.db.unit.findMany({ where: { kind: 'township' } })).map((u) => [u.id, u.name]));
    const cells = await expectedCells(t.db, t.campaignId, '2026-11-29', t.clock.now());
    const sums = new Map([...sumBy(cells, (c) => c.townshipId ?? undefined)].map(([k, v]) => [townships.get(k)!, v]));
    const shown = section(reply, '一、乡镇参保率排名');
    expect(shown.length).toBeGreaterThanOrEqual(6);
    expect(shown.length).toBeLessThan(23);
    checkRanking(shown, sums);
    // The summary names the best and the weakest, and the pooled rate of all townships.
    const pooled = [...sums.values()].reduce(([a, b], [x, y]) => [a + x, b + y], [0, 0]);
    const worst = shown.at(-1)!;
    expect(reply).toMatch(
      new RegExp(
        `^小结：乡镇合计参保率 ${(Math.floor((pooled[0] / pooled[1]) * 1000) / 10).toFixed(1)}%，最高 ${shown[0]!.name}.*最低 ${shown.find((s) => s.rank === worst.rank)!.name}`,
        'm',
      ),
    );
    expect(reply).toContain('截至 2026-11-29 08:00');
    expect(Buffer.byteLength(reply)).toBeLessThanOrEqual(20480);
  });

  it('ranks lead departments by the rate of the sectors they lead', async () => {
    const reply = (await say('/排名')).text;
    const leads = await t.db.sectorResponsibility.findMany({ where: { role: 'lead' }, include: { unit: true } });
    const leadOf = new Map(leads.map((l) => [l.sectorId, l.unit.name]));
    const sums = sumBy(await expectedCells(t.db, t.campaignId, '2026-11-29', t.clock.now()), (c) =>
      leadOf.get(c.sectorId),
    );
    const shown = section(reply, '二、牵头部门参保率排名');
    expect(shown.map((s) => s.name).sort()).toEqual([...new Set(leadOf.values())].sort());
    checkRanking(shown, sums);
    // 县公安局's figure is its county-wide report, and says so.
    expect(shown.find((s) => s.name === '县公安局')!.rest).toMatch(/^3\/4 家 75\.0%  新（含上报）$/);
  });

  it('ranks units on timely reporting: the overdue demo obligations of jtj, zjj and pingan-pc come last', async () => {
    const reply = (await say('/排名')).text;
    const shown = section(reply, '三、按时报送排名');
    const expected = await expectedTimeliness();
    for (const s of shown) {
      const [onTime, late, overdue] = expected.get(s.name) ?? [0, 0, 0];
      expect(s.rest, s.name).toMatch(new RegExp(`^按时 ${onTime} · 逾期办结 ${late} · 逾期未办 ${overdue}`));
    }
    const overdue = ['县交通运输局', '县住建局', '中国平安财险安化支公司'];
    expect(
      shown
        .slice(-3)
        .map((s) => s.name)
        .sort(),
    ).toEqual([...overdue].sort());
    for (const s of shown.slice(-3)) expect(s.rest).toContain('逾期未办 1');
    expect(shown.slice(0, -3).every((s) => s.rest.includes('逾期未办 0'))).toBe(true);
    expect(reply).toMatch(
      /逾期未办 3 项：(县交通运输局|县住建局|中国平安财险安化支公司)(、(县交通运输局|县住建局|中国平安财险安化支公司)){2}。$/m,
    );
    // Units that progress-reported show the day of their latest report.
    expect(shown.find((s) => s.name === '县公安局')!.rest).toMatch(/最近上报 11-24$/);
    expect(shown.find((s) => s.name === '古楼乡')!.rest).toMatch(/最近上报 11-27$/);
  });

  it('counts an obligation done after its due day as late, not overdue, by the day in Anhua', async () => {
    const zjj = await t.db.obligation.findFirstOrThrow({
      where: { unit: { code: 'zjj' }, status: { not: 'done' }, dueOn: { lt: '2026-11-29' } },
    });
    // 2026-10-31 23:30 in Anhua is 15:30 UTC: on time. A day later it is late.
    await t.db.obligation.update({
      where: { id: zjj.id },
      data: { status: 'done', doneAt: new Date('2026-10-31T15:30:00Z') },
    });
    let line = section((await say('/排名')).text, '三、按时报送排名').find((s) => s.name === '县住建局')!;
    expect(line.rest).toMatch(/^按时 1 · 逾期办结 0 · 逾期未办 0/);
    await t.db.obligation.update({ where: { id: zjj.id }, data: { doneAt: new Date('2026-10-31T16:30:00Z') } });
    const reply = (await say('/排名')).text;
    const shown = section(reply, '三、按时报送排名');
    line = shown.find((s) => s.name === '县住建局')!;
    expect(line.rest).toMatch(/^按时 0 · 逾期办结 1 · 逾期未办 0/);
    // Late ranks above overdue open, below all on time.
    const rankOf = (n: string) => shown.find((s) => s.name === n)!.rank;
    expect(rankOf('县住建局')).toBeLessThan(rankOf('县交通运输局'));
    expect(rankOf('县住建局')).toBeGreaterThan(rankOf('县应急管理局'));
    expect(reply).toContain('逾期未办 2 项');
    await t.db.obligation.update({ where: { id: zjj.id }, data: { status: zjj.status, doneAt: null } });
  });

  it('is for leaders, viewers and admins; a liaison is refused and nothing changes', async () => {
    expect((await say('/排名', 'demo-admin')).outcome).toBe('ok');
    const before = await Promise.all([
      t.db.obligation.count({ where: { status: 'done' } }),
      t.db.progressReport.count(),
      t.db.outboxMessage.count(),
    ]);
    const out = await say('/排名', 'demo-liaison-jtj');
    expect(out.outcome).toBe('denied');
    expect(out.text).toContain('不能使用 /排名');
    expect(
      await Promise.all([
        t.db.obligation.count({ where: { status: 'done' } }),
        t.db.progressReport.count(),
        t.db.outboxMessage.count(),
      ]),
    ).toEqual(before);
    expect((await say('/rank')).outcome).toBe('ok');
  });
});
