import type { Bus } from '../../src/bot/bus.ts';
import { pinganDongping, type TestDb } from './db.ts';

// Shared by the dashboard's HTTP and browser tests: visits to show, and the figures of a /覆盖率 reply.

export const say = async (bus: Bus, userId: string, text: string) =>
  (await bus.handle({ channel: 'sandbox', userId, chatId: null, text })).text;

/**
 * Prevention visits by 平安 at a 东坪镇 enterprise it insures: on 11-20 and 11-27 awaiting the
 * enterprise side, and one on 11-25 that 东坪's liaison confirmed (so it is not awaiting anything).
 */
export async function seedVisits(t: TestDb, bus: Bus): Promise<{ unconfirmed: number[]; confirmed: number }> {
  const e = await pinganDongping(t.db, '2026-11-20');
  const ids: number[] = [];
  for (const day of ['2026-11-20', '2026-11-25', '2026-11-27']) {
    const reply = await say(bus, 'demo-insurer-pingan', `/走访 ${e.creditCode} 排查 ${day} 张工 发现2处隐患`);
    const visit = await t.db.preventionVisit.findFirst({ where: { enterpriseId: e.id, visitedOn: day } });
    if (!visit) throw new Error(`no visit recorded: ${reply}`);
    ids.push(visit.id);
  }
  const reply = await say(bus, 'demo-liaison-dongping', `/确认 ${ids[1]} 5 讲解清楚`);
  if (!(await t.db.preventionVisit.findUniqueOrThrow({ where: { id: ids[1]! } })).enterpriseConfirmedAt)
    throw new Error(`not confirmed: ${reply}`);
  return { unconfirmed: [ids[0]!, ids[2]!], confirmed: ids[1]! };
}

export interface ReplyFigures {
  mark: string;
  insured: number;
  enterprises: number;
  rate: string;
  gap: number;
  change: string;
}

/** The figure lines of a /覆盖率 reply by row name: `🔴 非煤矿山  23/27 家 85.1%，差 4 家  ↑1`. */
export function coverageReply(text: string): Map<string, ReplyFigures> {
  const out = new Map<string, ReplyFigures>();
  for (const line of text.split('\n')) {
    const m = /^(🟢|🟡|🔴|⚪) (\S+)  (\d+)\/(\d+) 家 (\S+?%)(?:，差 (\d+) 家)?  (↑\d+|↓\d+|—|新)$/u.exec(line);
    if (m)
      out.set(m[2]!, {
        mark: m[1]!,
        insured: Number(m[3]),
        enterprises: Number(m[4]),
        rate: m[5]!,
        gap: Number(m[6] ?? 0),
        change: m[7]!,
      });
  }
  return out;
}

/** The change since last week as /覆盖率 writes it. */
export const changeWord = (change: number | null) =>
  change === null ? '新' : change > 0 ? `↑${change}` : change < 0 ? `↓${-change}` : '—';

/** The total line: `八大高危行业合计 198/243 家 81.4%，差 45 家  ↑6`. */
export function totalLine(
  text: string,
  name: string,
): { insured: number; enterprises: number; rate: string; gap: number; change: string } | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}合计 `));
  const m = line && /合计 (\d+)\/(\d+) 家 (\S+?%)，差 (\d+) 家  (\S+)$/.exec(line);
  return m ? { insured: Number(m[1]), enterprises: Number(m[2]), rate: m[3]!, gap: Number(m[4]), change: m[5]! } : null;
}
