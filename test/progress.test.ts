// The import's progress (src/cli/progress.ts): one line redrawn on a terminal, plain lines otherwise.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.ts';
import { progress } from '../src/cli/progress.ts';
import { translator } from '../src/i18n.ts';

function stream(isTTY: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY: boolean };
  out.isTTY = isTTY;
  let text = '';
  out.on('data', (d: Buffer) => (text += d));
  return { out: out as unknown as NodeJS.WriteStream, text: () => text };
}

describe('import progress', () => {
  it('redraws one line on a terminal: a bar, rows, rows per second, the time left', () => {
    const clock = fixedClock('2026-11-29T09:00:00+08:00');
    const s = stream(true);
    const p = progress(s.out, translator('zh-CN'), clock);
    clock.advance(2_000);
    p.tick(20_000, 0.25);
    clock.advance(2_000);
    p.tick(40_000, 0.5);
    p.done();
    expect(s.text()).toBe(
      '\r[######..................] 25% 已读 20,000 行，每秒 10,000 行，约剩 6 秒\x1b[K' +
        '\r[############............] 50% 已读 40,000 行，每秒 10,000 行，约剩 4 秒\x1b[K\n',
    );
  });

  it('writes plain lines when it is no terminal, minutes once the time left is long', () => {
    const clock = fixedClock('2026-11-29T09:00:00+08:00');
    const s = stream(false);
    const p = progress(s.out, translator('en'), clock);
    clock.advance(60_000);
    p.tick(10_000, 0.25);
    p.done();
    expect(s.text()).toBe('10,000 rows read, 167 rows/s, about 3 min 0 s left\n');
  });
});
