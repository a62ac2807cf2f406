import { describe, expect, it } from 'vitest';
import { percent, percentFigure, shownRate, toldLines } from '../../src/core/format.ts';
import { colour } from '../../src/domain/coverage.ts';
import { neutral, SUBSTITUTIONS, trusted } from '../../src/core/neutral.ts';
import { translator } from '../../src/i18n.ts';

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

const t = translator('zh-CN');

describe('neutral', () => {
  it('replaces every markdown character by its full-width twin and puts the text on one line', () => {
    expect(neutral('[a](http://x.example/b) **c** <@u> # `d`\n> e\r\nf')).toBe(
      '［a］（http://x.example/b） ＊＊c＊＊ ＜@u＞ ＃ ｀d｀ ＞ e f',
    );
    for (const [from, to] of Object.entries(SUBSTITUTIONS)) expect(neutral(from)).toBe(to);
    expect(neutral('东坪镇（演示）2026-12-09 66.6%')).toBe('东坪镇（演示）2026-12-09 66.6%');
  });

  it('is applied by the translator to every string value, and not to trusted text of our own', () => {
    expect(t('notice.missed', { who: '**东坪**\n> 截止', why: trusted('**ours**') })).toBe(
      '⚠️ 未能通知＊＊东坪＊＊ ＞ 截止：**ours**。',
    );
  });
});

describe('toldLines', () => {
  it('names every audience not reached, one line per reason', () => {
    const lines = toldLines(t, {
      reached: [{ via: 'group', name: '东坪镇工作群' }],
      missed: [
        { who: '仙溪镇', why: 'no_destination' },
        { who: '大福镇', why: 'no_destination' },
        { who: 'leaders', why: 'no_destination' },
        { who: '旧群', why: 'unreachable_chat' },
      ],
    });
    expect(lines).toEqual([
      '📨 已通知 1 个工作群：东坪镇工作群。',
      '⚠️ 以下 3 个未能通知（没有可用的工作群，也没有登记联络员，请管理员用 /群 或 /绑定 补上）：仙溪镇、大福镇、县领导。',
      '⚠️ 未能通知旧群：这个群没有机器人，也无法通过长连接发送。',
    ]);
  });
});
