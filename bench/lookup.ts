// Benchmark 10: /查询 on the county ten times Anhua, through the command bus as each kind of member
// would ask, against the obvious look-up — every enterprise whose name contains the word, with its
// policies, read whole. /查询 reads a credit code or a name by index and any part of a name at most
// a pick list's worth (LOOKUP_LIMIT + 1 rows), so it stays flat however many enterprises match.
import Database from 'better-sqlite3';
import { Bus } from '../src/bot/bus.ts';
import { Registry } from '../src/bot/registry.ts';
import { fixedClock } from '../src/clock.ts';
import { openDatabase } from '../src/db/client.ts';
import { NOW, TZ, type County } from './county.ts';
import { fmt, median, type Row, timed } from './lib.ts';

export async function lookupBench(county: County, runs = 7): Promise<Row[]> {
  const raw = new Database(county.file, { readonly: true });
  const one = raw
    .prepare(
      `SELECT e."creditCode" AS code, e.name AS name, t.name AS township FROM "Enterprise" e
       JOIN "Unit" t ON t.id = e."townshipId" WHERE e.name LIKE '%合成企业%' ORDER BY e.id LIMIT 1 OFFSET 54321`,
    )
    .get() as { code: string; name: string; township: string };
  const other = raw
    .prepare(`SELECT name FROM "Unit" WHERE kind = 'township' AND code <> '430923121' ORDER BY "sortOrder" LIMIT 1`)
    .get() as { name: string };
  raw.close();
  const db = openDatabase(county.url);
  const bus = new Bus({ db, clock: fixedClock(NOW), timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
  const ask = async (userId: string, text: string) =>
    (await bus.handle({ channel: 'sandbox', userId, chatId: null, text })).text;
  const cases: { measure: string; userId: string; text: string; says: string }[] = [
    { measure: 'a credit code (leader)', userId: 'demo-leader', text: `/查询 ${one.code}`, says: '🏭' },
    { measure: 'a full name (leader)', userId: 'demo-leader', text: `/查询 ${one.name}`, says: '🏭' },
    { measure: 'a part naming one (agency)', userId: 'demo-agency', text: `/查询 ${one.name.slice(2)}`, says: '🏭' },
    {
      measure: 'a part matching 100,000: the pick list (leader)',
      userId: 'demo-leader',
      text: '/查询 合成企业',
      says: '请选择',
    },
    {
      measure: 'a part matching 100,000 (insurer: its own)',
      userId: 'demo-insurer-pingan',
      text: '/查询 合成企业',
      says: '',
    },
    {
      measure: "another township's enterprises (township: refused)",
      userId: 'demo-liaison-dongping',
      text: `/查询 ${other.name}合成企业`,
      says: '不在您的查询范围',
    },
  ];
  const rows: Row[] = [];
  try {
    const obvious: number[] = [];
    for (let i = 0; i < 2; i++)
      obvious.push(
        (
          await timed(() =>
            db.enterprise.findMany({
              where: { countyCode: '430923', name: { contains: '合成企业' } },
              include: { policies: true },
            }),
          )
        ).wallMs,
      );
    const base = median(obvious);
    for (const c of cases) {
      const walls: number[] = [];
      let reply = '';
      for (let i = 0; i < runs; i++) {
        const r = await timed(() => ask(c.userId, c.text));
        walls.push(r.wallMs);
        reply = r.result;
      }
      const ms = median(walls);
      rows.push({
        bench: '10 /查询',
        measure: c.measure,
        value: `${fmt(ms, 1)} ms`,
        baseline: `${fmt(base, 0)} ms (every match read whole)`,
        ratio: ms / base,
        ok: reply.includes(c.says) && ms < base,
      });
    }
  } finally {
    await db.$disconnect();
  }
  return rows;
}
