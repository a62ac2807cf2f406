import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { IMPORT_HEAP_FLAGS } from '../../src/core/heap.ts';

// A process started without the heap limits it needs starts itself again with them (src/core/heap.ts):
// `anze import` in a release bundle, or the import's script run by hand.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'anze-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A script that asks for a 100 MB old space, then says what it has and its arguments, and exits with 3. */
const script = join(dir, 'limited.mts');
writeFileSync(
  script,
  `import v8 from 'node:v8';
import { relaunchWith } from ${JSON.stringify(join(ROOT, 'src/core/heap.ts'))};
await relaunchWith(['--max-old-space-size=100']);
console.log(JSON.stringify({ pid: process.pid, limitMb: v8.getHeapStatistics().heap_size_limit / 2 ** 20, args: process.argv.slice(2) }));
process.exit(3);
`,
);

/** Runs the script under tsx with `nodeArgs`: its exit code, what it printed, and the pid it was started as. */
async function run(nodeArgs: string[]) {
  const started = promisify(execFile)(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', script, 'roster', '名单.csv'],
    {
      cwd: ROOT,
    },
  );
  const pid = started.child.pid;
  try {
    await started;
    throw new Error('exited with 0');
  } catch (e) {
    const x = e as { code: number; stdout: string };
    return { pid, code: x.code, out: JSON.parse(x.stdout) as { pid: number; limitMb: number; args: string[] } };
  }
}

describe('a process that needs heap limits', () => {
  it('started without them, runs again with them (the same arguments), and ends as that run ends', async () => {
    const r = await run([]);
    expect(r.out.pid).not.toBe(r.pid);
    expect(r.code).toBe(3);
    expect(r.out.args).toEqual(['roster', '名单.csv']);
    // The old space asked for, and the young generation beside it; the default is several times this.
    expect(r.out.limitMb).toBeGreaterThanOrEqual(100);
    expect(r.out.limitMb).toBeLessThan(200);
  });

  it('started with them, runs in this process', async () => {
    const r = await run(['--max-old-space-size=100']);
    expect(r.out.pid).toBe(r.pid);
    expect(r.code).toBe(3);
    expect(r.out.limitMb).toBeLessThan(200);
    expect(r.out.args).toEqual(['roster', '名单.csv']);
  });

  it('`npm run import` starts the import with the import’s limits, so it is not started twice', () => {
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts.import!.split(' ')).toEqual(['node', ...IMPORT_HEAP_FLAGS, '--import', 'tsx', 'src/cli/import.ts']);
  });
});
