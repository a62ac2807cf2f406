import { spawn } from 'node:child_process';
import { constants } from 'node:os';

// V8's heap limits for a process whose work is long and streamed (the 台账 import). Left to its
// defaults, V8 lets garbage pile up far beyond what is alive before collecting it: importing 100,000
// roster rows peaked at 480 MB resident (XLSX) with at most 67 MB of the heap alive (measured with a
// full collection every second), over about 125 MB that Node, tsx and Prisma's query compiler take
// whatever the work. Limits near what is alive keep it near what is needed, at 12–16 % more CPU.

/**
 * The import's limits. Old space: 160 MB, over twice the most found alive importing 100,000 rows
 * (67 MB, XLSX; 57 MB, CSV), and enough for the largest file an import accepts (MAX_FILE_BYTES, 20 MB:
 * 360,000 rows as XLSX, 190,000 as CSV), since rows stream through and only a row's credit code
 * (and, for an XLSX, its shared strings) stays. Young generation: semi-spaces of 8 MB instead of
 * 16: a tenth of the resident size, for a little more CPU.
 */
export const IMPORT_HEAP_FLAGS = ['--max-old-space-size=160', '--max-semi-space-size=8'];

/**
 * Runs this script again, with its arguments and Node options, in a child process that has
 * `flags` (V8's heap limits are set as a process starts), unless this process already has them.
 * Returns at once in a process that has them. Otherwise waits for the child and ends this process
 * as it ended. SIGINT and SIGTERM are passed on (from a terminal, Ctrl-C reaches both: the child
 * takes it twice); a child whose launcher is gone (killed outright) ends at once as well.
 */
export async function relaunchWith(flags: string[]): Promise<void> {
  if (flags.every((f) => process.execArgv.includes(f))) {
    if (process.channel) {
      process.channel.unref();
      process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
    }
    return;
  }
  const child = spawn(process.execPath, [...process.execArgv, ...flags, process.argv[1]!, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  // A child ended by a signal: the shell's way of saying so (128 + its number).
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
}
