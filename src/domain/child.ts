import { spawn } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';

// Work run in a process of its own (the chart's rasteriser, the 台账 export): its memory goes back
// to the system when it exits, and better-sqlite3's synchronous reads hold no other chat's answer.

/**
 * How much lower than the service such a process runs (the nice value it adds): slow work waits for
 * the cores while messages are answered, and takes them whenever the service is idle.
 */
export const CHILD_NICENESS = 10;

/** Runs `node …args` with `input` on stdin; its stdout, or an error with its stderr's end when it fails. */
export async function runChild(
  args: string[],
  input: string,
  o: { what: string; timeoutMs?: number },
): Promise<Buffer> {
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}),
  });
  try {
    if (child.pid !== undefined) setPriority(child.pid, Math.min(19, ownNiceness() + CHILD_NICENESS));
  } catch {
    // Not permitted here (a container's policy): the child runs at the service's priority.
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const exit = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `${o.what} ${signal ?? `exit ${code}`}: ${Buffer.concat(err).toString('utf8').trim().slice(-500)}`,
            ),
          ),
    );
  });
  child.stdin.end(input);
  await exit;
  return Buffer.concat(out);
}

/** The service's own nice value, which its children's is added to. */
function ownNiceness(): number {
  try {
    return getPriority();
  } catch {
    return 0;
  }
}
