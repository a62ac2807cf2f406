import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { drawCharts } from '../../src/delivery/charts.ts';
import { TZ } from '../support/db.ts';
import {
  at,
  busiestMinute,
  campaignId,
  drainFor,
  KEYS,
  reminderWorlds,
  runDay,
  seeded,
  unitId,
  world,
  type World,
} from '../support/reminders.ts';
import { wecomWire } from '../../src/wecom/messages.ts';

// A burst of reminders at 09:00 drains within WeCom's limits, and survives a restart mid-way.
reminderWorlds();

describe('a burst of reminders to one group', () => {
  /** 150 items of 交通局 with long titles, overdue since Friday (too recently to escalate): its reminder takes ~50 messages. */
  async function burst(w: World) {
    const title = '开展投保落实安责险情况专项执法检查并报送检查记录、整改台账和典型案例材料'.repeat(10);
    const unit = await unitId(w.db, 'jtj');
    await w.db.obligation.createMany({
      data: Array.from({ length: 150 }, (_, i) => ({
        campaignId: campaignId(),
        unitId: unit,
        title: `${title}（${i + 1}）`,
        period: '2026',
        dueOn: '2026-11-27',
      })),
    });
    const r = await runDay(w, '2026-11-30');
    expect(r.state).toBe('ran');
    const rows = await w.db.outboxMessage.findMany({ orderBy: { id: 'asc' } });
    expect(rows.filter((m) => m.target === KEYS.jtj).length).toBeGreaterThan(40);
    return rows;
  }

  /** Every queued message arrived, in order for each destination; returns what arrived twice. */
  async function reconcile(w: World, db: Db, rows: { id: number; target: string; payload: string }[]) {
    expect(await db.outboxMessage.groupBy({ by: ['state'], _count: true })).toEqual([
      { state: 'sent', _count: rows.length },
    ]);
    // What the app API adds to each message is not the message; the digest's chart is queued by name and arrives drawn.
    const seen = (target: string, body: string) =>
      `${target} ${body.startsWith('{"msgtype":"image"') ? '(image)' : body}`;
    const arrived = w.api.delivered.map(
      ({ target, body: { agentid: _, enable_duplicate_check: __, duplicate_check_interval: ___, ...body } }) =>
        seen(target, JSON.stringify(body)),
    );
    const expected = rows.map((r) => seen(r.target, r.payload));
    for (const m of expected) expect(arrived).toContain(m);
    const extra = [...arrived];
    for (const m of expected) extra.splice(extra.indexOf(m), 1);
    for (const target of new Set(rows.map((r) => r.target))) {
      const firsts = arrived.filter((a, i) => a.startsWith(`${target} `) && arrived.indexOf(a) === i);
      expect(firsts).toEqual(expected.filter((e) => e.startsWith(`${target} `)));
    }
    return extra;
  }

  it('drains over several minutes, never over 20 a minute at the fake WeCom (no 45009), none lost or repeated', async () => {
    const w = await world();
    const rows = await burst(w);
    await drainFor(w, 15);
    expect(await reconcile(w, w.db, rows)).toEqual([]);
    expect(w.api.calls.filter((c) => c.errcode !== 0)).toEqual([]);
    expect(busiestMinute(w.api, KEYS.jtj)).toBe(20);
    const jtj = w.api.calls.filter((c) => c.target === KEYS.jtj).map((c) => c.at);
    expect(jtj.at(-1)! - jtj[0]!).toBeGreaterThanOrEqual(120_000);
    // Nothing left the outbox in the first 20 s of the run, on the hour.
    expect(Math.min(...w.api.calls.map((c) => c.at))).toBeGreaterThanOrEqual(at('2026-11-30').getTime() + 20_000);
  });

  it('a restart mid-burst loses nothing and repeats only the one message WeCom took as the process died', async () => {
    const w = await world();
    const rows = await burst(w);
    // The first process dies right after WeCom accepted the 20th message to 交通局's group (its
    // whole minute's allowance), before it could record it.
    let sends = 0;
    let died!: () => void;
    const death = new Promise<void>((r) => (died = r));
    const dying = new Dispatcher({
      wire: wecomWire,
      db: w.db,
      clock: w.clock,
      random: seeded(11),
      prepare: drawCharts({ db: w.db, clock: w.clock, locale: 'zh-CN', timeZone: TZ, wire: wecomWire }),
      senders: w.senders(async (row) => {
        if (row.target !== KEYS.jtj || ++sends < 20) return;
        died();
        await new Promise(() => {});
      }),
    });
    for (let tick = 0; sends < 20 && tick < 100; tick++) {
      await Promise.race([dying.drain(), death]);
      w.clock.advance(15_000);
    }
    const inFlight = await w.db.outboxMessage.findMany({ where: { state: 'sending' } });
    expect(inFlight).toHaveLength(1);
    expect(inFlight[0]!.target).toBe(KEYS.jtj);
    expect(await w.db.outboxMessage.count({ where: { state: 'sent', target: KEYS.jtj } })).toBe(19);

    const next = w.restart();
    expect((await next.scheduler.catchUp()).map((r) => r.state)).toEqual(['already']);
    expect(await next.dispatcher.recover()).toBe(1);
    await drainFor({ clock: w.clock, dispatcher: next.dispatcher }, 15);
    const repeated = await reconcile(w, next.db, rows);
    expect(repeated).toEqual([`${inFlight[0]!.target} ${inFlight[0]!.payload}`]);
    expect(w.api.calls.filter((c) => c.errcode !== 0)).toEqual([]);
    expect(busiestMinute(w.api, KEYS.jtj)).toBe(20);
  });
});
