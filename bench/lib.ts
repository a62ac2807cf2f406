// What the benchmarks share: child processes, the machine's description, the results table.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One line of the table: a figure, what it is compared with, and the target. */
export interface Row {
  bench: string;
  measure: string;
  value: string;
  baseline?: string;
  ratio?: number;
  target?: string;
  ok?: boolean;
}

/** Runs `node --import tsx <script> …args` from the repository; resolves once it prints a line matching `ready`. */
export function spawnTsx(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  ready = /^READY (.*)$/m,
): Promise<{ proc: ChildProcess; match: RegExpExecArray; output: () => string }> {
  return spawnNode(['--import', 'tsx', script, ...args], env, ready);
}

/** Runs `node …args` from the repository (JavaScript, or TypeScript with `--import tsx`); resolves once it prints a line matching `ready`. */
export function spawnNode(
  args: string[],
  env: Record<string, string> = {},
  ready = /^READY (.*)$/m,
): Promise<{ proc: ChildProcess; match: RegExpExecArray; output: () => string }> {
  const script = args.find((a) => /\.(ts|m?js)$/.test(a)) ?? args.join(' ');
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not get ready:\n${out}`)), 120_000);
    const read = (d: Buffer) => {
      out += d;
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ proc, match, output: () => out });
      }
    };
    proc.stdout!.on('data', read);
    proc.stderr!.on('data', read);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}):\n${out}`));
    });
  });
}

/** Runs a tsx script to its end and parses the JSON it prints last. */
export async function runTsx<T>(script: string, args: string[], env: Record<string, string> = {}): Promise<T> {
  const { proc, output } = await spawnTsx(script, args, env, /^RESULT (.*)$/m);
  const result = /^RESULT (.*)$/m.exec(output())![1]!;
  await stop(proc);
  return JSON.parse(result) as T;
}

export async function stop(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

/** Resident set of a process now, in MB (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU and wall time of a synchronous or asynchronous piece of work, in ms. */
export async function timed<T>(work: () => Promise<T> | T): Promise<{ result: T; wallMs: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { result, wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function machine(): { cpus: number; model: string; memoryGb: number; node: string; load: string } {
  const model =
    /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? '?';
  return {
    cpus: cpus().length,
    model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

/** The table as Markdown, which reads as well in a terminal. */
export function table(rows: Row[]): string {
  const lines = [
    '| benchmark | measure | value | baseline | ratio | target | holds |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.bench} | ${r.measure} | ${r.value} | ${r.baseline ?? ''} | ${r.ratio === undefined ? '' : `${fmt(r.ratio, 2)}×`} | ${r.target ?? ''} | ${r.ok === undefined ? '' : r.ok ? 'yes' : '**no**'} |`,
    );
  }
  return lines.join('\n');
}
