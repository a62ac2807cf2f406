import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Tx } from '../db/client.ts';
import { providerOfClient } from '../db/dialect.ts';

// Files the bot hands out (workbooks, chart images) are written to disk beside the database; the
// bus hands them to the asker (src/bot/attachments.ts).

/**
 * `exports/` beside the SQLite file (data/exports with the default DATABASE_URL); on PostgreSQL,
 * which has no file here and refuses the PRAGMA, data/exports under the working directory.
 */
export async function outputDir(db: Tx): Promise<string> {
  // Asked only of SQLite: a failed statement inside a PostgreSQL transaction would abort it.
  const [main] = providerOfClient(db) === 'sqlite' ? await db.$queryRaw<{ file: string }[]>`PRAGMA database_list` : [];
  const dir = main?.file ? join(dirname(main.file), 'exports') : resolve('data/exports');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A file name for this minute: 安责险台账-2026-11-29-0800. */
export const stamped = (prefix: string, minute: string): string =>
  `${prefix}-${minute.replace(' ', '-').replace(':', '')}`;
