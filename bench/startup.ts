// Benchmark 5: start-up to ready — `npm start`'s command (tsx src/main.ts) on a database whose
// migrations are applied, until /healthz answers — and the resident set at rest a few seconds
// later; against a bare Koa server started the same way (tsx), side by side.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, median, type Row, rssMb, spawnTsx, stop } from './lib.ts';

async function once(script: string, env: Record<string, string>): Promise<{ readyMs: number; restMb: number }> {
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const start = performance.now();
  const { proc } = await spawnTsx(script, [], { ...env, PORT: port }, /listening on (http:\/\/\S+)/);
  try {
    // Ready: it answers.
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status < 500, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const readyMs = performance.now() - start;
    await new Promise((r) => setTimeout(r, 3000));
    return { readyMs, restMb: rssMb(proc.pid!) };
  } finally {
    await stop(proc);
  }
}

export async function startupBench(demoDbFile: string, dir: string, runs = 3): Promise<Row[]> {
  const file = join(dir, 'startup.db');
  copyFileSync(demoDbFile, file);
  // The first start applies nothing (the demo database is migrated) but warms the disk cache.
  const env = { DATABASE_URL: `file:${file}`, BOT_CALENDAR_FILE: 'prisma/calendar.json' };
  await once('src/main.ts', env);
  const service = [];
  const reference = [];
  for (let i = 0; i < runs; i++) {
    service.push(await once('src/main.ts', env));
    reference.push(await once('bench/bare-koa.ts', {}));
  }
  const [s, b] = [median(service.map((x) => x.readyMs)), median(reference.map((x) => x.readyMs))];
  const [sm, bm] = [median(service.map((x) => x.restMb)), median(reference.map((x) => x.restMb))];
  return [
    { bench: '5 start-up', measure: `start to /healthz answering, migrations applied (median of ${runs})`, value: `${fmt(s, 0)} ms`, baseline: `${fmt(b, 0)} ms bare Koa under tsx`, ratio: s / b, target: '< 1500 ms', ok: s < 1500 },
    { bench: '5 start-up', measure: 'RSS at rest, 3 s after ready', value: `${fmt(sm, 0)} MB`, baseline: `${fmt(bm, 0)} MB bare Koa under tsx`, ratio: sm / bm },
  ];
}
