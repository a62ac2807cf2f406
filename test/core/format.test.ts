import { describe, expect, it } from 'vitest';
import { percent, percentFigure, shownRate } from '../../src/core/format.ts';
import { colour } from '../../src/domain/coverage.ts';

describe('rates are rounded as statistics are', () => {
  it('half up to one decimal', () => {
    expect(percent(8 / 12)).toBe('66.7%');
    expect(percent(2 / 3)).toBe('66.7%');
    expect(percent(1 / 3)).toBe('33.3%');
    expect(percent(1 / 8)).toBe('12.5%');
    // 0.0005 is exactly half a step: up, though 0.0005 × 1000 is 0.49999… in binary.
    expect(percent(1 / 2000)).toBe('0.1%');
    expect(percent(133 / 2000)).toBe('6.7%');
    expect(percent(1 / 3000)).toBe('0.0%');
  });

  it('never shows 100.0% for a ratio below 1', () => {
    expect(percent(1999 / 2000)).toBe('99.9%');
    expect(percent(9999 / 10000)).toBe('99.9%');
    expect(shownRate(9999 / 10000)).toBe(0.999);
    expect(percent(1)).toBe('100.0%');
    expect(percent(1997 / 2000)).toBe('99.9%'); // 99.85 → 99.9
  });

  it('has one figure for every place that shows it', () => {
    expect(percentFigure(8 / 12)).toBe('66.7');
    expect(shownRate(8 / 12)).toBe(0.667); // the export's 0.0% cells
    expect(percent(null)).toBe('—');
    expect(percentFigure(null)).toBeNull();
  });

  it('decides a target on the exact ratio, not the shown one', () => {
    const target = (rateBp: number) => ({ rateBp, dueOn: '2026-12-31', passed: true });
    expect(colour(57 / 100, target(5700))).toBe('🟢'); // 0.57 × 10000 is 5699.999… in binary
    expect(colour(69 / 100, target(6900))).toBe('🟢');
    expect(colour(8997 / 10000, target(9000))).toBe('🔴'); // shown as 90.0%, yet short of 90%
    expect(percent(8997 / 10000)).toBe('90.0%');
  });
});
