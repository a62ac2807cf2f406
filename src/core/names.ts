// Names as people type them: a sector, township or unit answers to its name, its short names and
// its code; a word that matches nothing gets the nearest known names as suggestions.

/** Levenshtein distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The words a named thing answers to, lower-cased: its name, its code and its aliases ('危化|危险化学品'). */
export const nameWords = (name: string, aliases: string, code: string): string[] =>
  [name, code, ...aliases.split('|')].filter(Boolean).map((w) => w.toLowerCase());

/**
 * The one of `items` a word names: one whose words include it, else the only one whose name
 * contains it; undefined when none or several do.
 */
export function matchName<T extends { name: string }>(
  items: readonly T[],
  word: string,
  words: (x: T) => string[],
): T | undefined {
  const w = word.toLowerCase();
  const exact = items.find((x) => words(x).includes(w));
  if (exact) return exact;
  const containing = items.filter((x) => x.name.includes(word));
  return containing.length === 1 ? containing[0] : undefined;
}

/**
 * Up to `limit` names nearest to a word that matched nothing: those containing it or contained in
 * it first, then by edit distance within a third of the word's length (at least one character).
 */
export function nearestNames<T extends { name: string }>(
  items: readonly T[],
  word: string,
  words: (x: T) => string[],
  limit = 3,
): string[] {
  const w = word.toLowerCase();
  const scored = items
    .map((x) => {
      const d = Math.min(...words(x).map((v) => (v.includes(w) || w.includes(v) ? 0.5 : distance(w, v))));
      return { name: x.name, d };
    })
    .filter((s) => s.d <= Math.max(1, Math.floor(w.length / 3)))
    .sort((a, b) => a.d - b.d);
  return [...new Set(scored.map((s) => s.name))].slice(0, limit);
}
