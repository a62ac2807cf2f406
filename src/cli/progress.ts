import type { Clock } from '../clock.ts';
import type { Translate } from '../i18n.ts';

// An import's progress for the operator: on a terminal one line redrawn (a bar, the rows read, rows per
// second, the time left, estimated from how much of the file has been read); otherwise a plain line
// now and then, for a log.

const WIDTH = 24;

export interface Progress {
  /** The rows read so far, and the share of the file read (0–1). */
  tick(rows: number, read: number): void;
  /** Ends the redrawn line. */
  done(): void;
}

/** Seconds as the operator reads them: 42 s, 3 min 5 s. */
const duration = (t: Translate, s: number) =>
  s < 60
    ? t('import.seconds', { s: Math.ceil(s) })
    : t('import.minutes', { m: Math.floor(s / 60), s: Math.round(s % 60) });

export function progress(out: NodeJS.WriteStream, t: Translate, clock: Clock): Progress {
  const started = clock.now().getTime();
  let drawn = false;
  return {
    tick(rows, read) {
      const seconds = Math.max(0.001, (clock.now().getTime() - started) / 1000);
      const rate = Math.round(rows / seconds);
      const left = read > 0 && read < 1 ? duration(t, (seconds * (1 - read)) / read) : '—';
      const line = t('import.progress', { rows: rows.toLocaleString('en'), rate: rate.toLocaleString('en'), left });
      if (out.isTTY) {
        const filled = Math.round(read * WIDTH);
        out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.floor(read * 100)}% ${line}\x1b[K`);
        drawn = true;
      } else out.write(`${line}\n`);
    },
    done() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
