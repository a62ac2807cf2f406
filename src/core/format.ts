import type { Translate } from './translate.ts';
import type { Missed, Told } from './notice.ts';
import { trusted } from './neutral.ts';

// How figures and notices are written, one function each, for chat, dashboard, chart and export.

/**
 * A rate as a fraction for display (and the export's 0.0% cells), rounded as statistics are: half
 * up to 0.1% (8/12 → 66.7%), except that a rate below 1 never shows as 100.0% (it shows 99.9%).
 * The epsilon absorbs binary error only: two ratios of counts below 10^9 differ by more.
 */
export function shownRate(rate: number | null): number | null {
  if (rate === null) return null;
  const permille = Math.round(rate * 1000 + 1e-9);
  return (rate < 1 ? Math.min(permille, 999) : permille) / 1000;
}

/** A rate's shown figure without the sign, for tight cells: 66.7, or null when there is nothing to count. */
export function percentFigure(rate: number | null): string | null {
  const shown = shownRate(rate);
  return shown === null ? null : (shown * 100).toFixed(1);
}

/** A rate as shown: 66.7%, or — when there is nothing to count. */
export function percent(rate: number | null): string {
  const figure = percentFigure(rate);
  return figure === null ? '—' : `${figure}%`;
}

/** insured of total as a shown rate: 12/13 → 92.3%. */
export const ratioPercent = (insured: number, total: number): string => percent(total ? insured / total : null);

/** A target's rate, stored in basis points: 9000 → 90%. */
export const targetPercent = (rateBp: number): string => `${rateBp / 100}%`;

/** A change of a count: +2, -1, 0. */
export const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

/** Enterprises insured since the same figures a week earlier: ↑2, ↓1, — (none), or `fresh` when there were no figures then. */
export function changeText(row: { insured: number; lastWeek: number | null }, fresh: string): string {
  if (row.lastWeek === null) return fresh;
  const d = row.insured - row.lastWeek;
  return d > 0 ? `↑${d}` : d < 0 ? `↓${-d}` : '—';
}

/** "Did you mean" for a name that named nothing: 您是不是要写东坪？, or `otherwise` when nothing is near. */
export const didYouMean = (t: Translate, names: string[], otherwise = ''): string =>
  names.length ? t('names.did_you_mean', { names: names.join('、') }) : otherwise;

/** The reply's lines on who a notice reached, and who it could not reach and why: one line per reason, naming all. */
export function toldLines(t: Translate, told: Told): string[] {
  const groups = told.reached.filter((r) => r.via === 'group').map((r) => r.name);
  const members = told.reached.filter((r) => r.via === 'member').map((r) => r.name);
  const lines: string[] = [];
  if (groups.length) lines.push(t('notice.reached_groups', { count: groups.length, names: groups.join('、') }));
  if (members.length) lines.push(t('notice.reached_members', { count: members.length, names: members.join('、') }));
  if (!told.reached.length && !told.missed.length) lines.push(t('notice.reached_none'));
  const byWhy = new Map<Missed['why'], string[]>();
  for (const m of told.missed) {
    const who =
      m.who === 'leaders' || m.who === 'admins' || m.who === 'asker' || m.who === 'office'
        ? t(`notice.who_${m.who}`)
        : m.who;
    const names = byWhy.get(m.why) ?? [];
    if (!names.includes(who)) byWhy.set(m.why, [...names, who]);
  }
  for (const [key, names] of byWhy) {
    const why = trusted(t(`notice.why_${key}`));
    lines.push(
      names.length === 1
        ? t('notice.missed', { who: names[0]!, why })
        : t('notice.missed_many', { count: names.length, names: names.join('、'), why }),
    );
  }
  return lines;
}
