// Benchmark 5: start-up to ready — on a database whose migrations are applied, until /healthz
// answers — and the resident set at rest a few seconds later. Twice: as `npm start` runs the
// service (tsx src/main.ts) and compiled (tsc -p tsconfig.build.json, then node dist/src/main.js);
// each against a bare Koa server started the same way, side by side.
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, median, ROOT, type Row, rssMb, spawnNode, stop } from './lib.ts';

async function once(args: string[], env: Record<string, string>): Promise<{ readyMs: number; restMb: number }> {
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const start = performance.now();
  const { proc } = await spawnNode(args, { ...env, PORT: port }, /(?:listening on|正在监听) (http:\/\/[^\s（("]+)/);
  try {
    // Ready: it answers.
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.status < 500,
        () => false,
      );
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

/** Medians of `runs` starts of the service and of the bare server, alternated. */
async function compare(service: string[], bare: string[], env: Record<string, string>, runs: number) {
  await once(service, env); // warms the disk cache (and tsx's)
  const s: { readyMs: number; restMb: number }[] = [];
  const b: typeof s = [];
  for (let i = 0; i < runs; i++) {
    s.push(await once(service, env));
    b.push(await once(bare, {}));
  }
  const m = (xs: { readyMs: number; restMb: number }[]) => ({
    ready: median(xs.map((x) => x.readyMs)),
    rest: median(xs.map((x) => x.restMb)),
  });
  return { service: m(s), bare: m(b) };
}

export async function startupBench(demoDbFile: string, dir: string, runs = 3): Promise<Row[]> {
  const file = join(dir, 'startup.db');
  copyFileSync(demoDbFile, file);
  const env = { DATABASE_URL: `file:${file}`, BOT_CALENDAR_FILE: 'prisma/calendar.json' };
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const tsx = await compare(['--import', 'tsx', 'src/main.ts'], ['--import', 'tsx', 'bench/bare-koa.mjs'], env, runs);
  const built = await compare(['dist/src/main.js'], ['bench/bare-koa.mjs'], env, runs);
  const rows = (how: string, r: typeof tsx, bare: string): Row[] => [
    {
      bench: '5 start-up',
      measure: `${how}: start to /healthz answering, migrations applied (median of ${runs})`,
      value: `${fmt(r.service.ready, 0)} ms`,
      baseline: `${fmt(r.bare.ready, 0)} ms ${bare}`,
      ratio: r.service.ready / r.bare.ready,
      target: '< 1500 ms',
      ok: r.service.ready < 1500,
    },
    {
      bench: '5 start-up',
      measure: `${how}: RSS at rest, 3 s after ready`,
      value: `${fmt(r.service.rest, 0)} MB`,
      baseline: `${fmt(r.bare.rest, 0)} MB ${bare}`,
      ratio: r.service.rest / r.bare.rest,
    },
  ];
  return [
    ...rows('npm start (tsx src/main.ts)', tsx, 'bare Koa under tsx'),
    ...rows('compiled (node dist/src/main.js)', built, 'bare Koa, node'),
  ];
}
