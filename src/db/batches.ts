// Reads over a county's growing tables, bounded. SQLite binds at most 32,766 values in one
// statement (PostgreSQL 65,535), and Prisma builds `IN (…)` lists of its own: an `include` it
// cannot join (one with `take` or `orderBy` on a to-many relation, or nested in another) is read
// by a second query over the parents' keys, which Prisma 7 refuses on SQLite from 999 parents on
// (P2029, "query parameter limit … exceeded"); a `groupBy` or `count` with an `in:` list past the
// limit is refused too. So a read whose rows grow with the county goes a page at a time (keyset on
// id), and a list of keys a batch at a time.

/** Rows per page, and so keys in any `in:` list built from one page: below 999, with room for the query's own values. */
export const BATCH = 500;

/** A query over many keys, BATCH at a time, the results in the order of the batches. */
export async function inBatches<K, T>(
  keys: readonly K[],
  query: (batch: K[]) => Promise<T[]>,
  size = BATCH,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < keys.length; i += size) for (const row of await query(keys.slice(i, i + size))) out.push(row);
  return out;
}

/**
 * Every row of a read in pages of `size` by id: `page(after, take)` reads `take` rows with an id
 * above `after` (0 first), in id order. Each page's includes bind at most `size` keys.
 */
export async function byIdPages<R extends { id: number }>(
  page: (after: number, take: number) => Promise<R[]>,
  size = BATCH,
): Promise<R[]> {
  const out: R[] = [];
  for (let after = 0; ;) {
    const rows = await page(after, size);
    for (const row of rows) out.push(row);
    if (rows.length < size) return out;
    after = rows[rows.length - 1]!.id;
  }
}
