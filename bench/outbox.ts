// Benchmark 4: the outbox draining a burst of 3,000 reminders to 30 group robots (100 each) under
// WeCom's 20 a minute per robot, against the fake WeCom server, on an injected clock moved one
// second per dispatcher tick (the service ticks every second), each claim fenced by the leader lease. At 20 a minute, a robot's 100th
// message can go 4 minutes after its first at the earliest: that is the time the limit allows.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixedClock } from '../src/clock.ts';
import { openDatabase } from '../src/db/client.ts';
import { Lease } from '../src/db/lease.ts';
import { Dispatcher } from '../src/delivery/dispatcher.ts';
import { enqueue } from '../src/delivery/outbox.ts';
import { RATE_LIMITS, webhookMarkdown, wecomWire } from '../src/wecom/messages.ts';
import { sendWebhook } from '../src/wecom/api.ts';
import { FakeWeComApi } from '../test/support/fake-wecom.ts';
import { NOW } from './county.ts';
import { fmt, type Row, timed } from './lib.ts';

export async function outboxBench(demoDbFile: string, dir: string, robots = 30, each = 100): Promise<Row[]> {
  const file = join(dir, 'outbox.db');
  copyFileSync(demoDbFile, file);
  const db = openDatabase(`file:${file}`);
  const clock = fixedClock(NOW);
  const api = new FakeWeComApi('wwbench', 'secret', () => clock.now().getTime());
  const keys = Array.from({ length: robots }, (_, i) => `bench-robot-${i}`);
  for (const k of keys) api.webhooks.add(k);
  const base = await api.start();
  try {
    await db.$transaction(
      async (tx) => {
        for (let n = 0; n < each; n++)
          for (const k of keys) await enqueue(tx, webhookMarkdown(k, `提醒 ${k} #${n}`), clock);
      },
      { timeout: 120_000 },
    );
    // As in the service: every claim fenced by the leader lease, renewed as the clock moves.
    const lease = new Lease({ db, clock });
    const dispatcher = new Dispatcher({
      wire: wecomWire,
      db,
      clock,
      lease,
      senders: { webhook: async (row) => (await sendWebhook(base, row.target, JSON.parse(row.payload)), 'sent') },
    });
    const start = clock.now().getTime();
    let ticks = 0;
    const { wallMs } = await timed(async () => {
      for (; ticks < 3600 && (await db.outboxMessage.count({ where: { state: { not: 'sent' } } })) > 0; ticks++) {
        if (ticks % 5 === 0) await lease.acquire();
        await dispatcher.drain();
        clock.advance(1_000);
      }
    });
    const sends = api.calls.filter((c) => c.path === '/cgi-bin/webhook/send');
    const done = (Math.max(...sends.filter((c) => c.errcode === 0).map((c) => c.at)) - start) / 1000;
    const limit = RATE_LIMITS.webhook;
    const allowed = (Math.ceil(each / limit) - 1) * 60;
    const rejected = sends.filter((c) => c.errcode === 45009).length;
    const delivered = new Set(api.delivered.map((d) => JSON.stringify(d.body))).size;
    return [
      {
        bench: '4 outbox',
        measure: `${robots * each} reminders to ${robots} robots (${each} each): last one sent after (injected clock)`,
        value: `${fmt(done, 0)} s`,
        baseline: `${allowed} s allowed by ${limit}/min`,
        ratio: done / allowed,
        target: '≤ 1.05×',
        ok: done / allowed <= 1.05,
      },
      {
        bench: '4 outbox',
        measure: 'answers 45009 (over the limit) / messages delivered once',
        value: `${rejected} / ${delivered}`,
        baseline: `0 / ${robots * each}`,
        target: 'no 45009, all once',
        ok: rejected === 0 && delivered === robots * each && api.delivered.length === robots * each,
      },
      {
        bench: '4 outbox',
        measure: 'real time to drain (dispatcher work, loopback HTTP)',
        value: `${fmt(wallMs / 1000, 1)} s for ${ticks} ticks`,
        baseline: `${fmt((robots * each) / (wallMs / 1000), 0)} messages/s`,
      },
    ];
  } finally {
    await api.stop();
    await db.$disconnect();
  }
}
