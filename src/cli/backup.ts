// npm run backup -- <file> [--force]
// A consistent copy of the SQLite database, safe while the service runs; see src/db/backup.ts.
import { parseArgs } from 'node:util';
import { configFromEnvironment } from '../config.ts';
import { BackupError, backupDatabase } from '../db/backup.ts';
import { translator } from '../i18n.ts';
import { args, describe, locale, usage } from './operator.ts';

const USAGE = 'npm run backup -- <file> [--force]';
const { values, positionals } = args(
  () => parseArgs({ allowPositionals: true, options: { force: { type: 'boolean', default: false } } }),
  USAGE,
);
const file = positionals[0];
if (!file || positionals.length > 1) usage(USAGE);

let t = translator(locale);
try {
  const config = configFromEnvironment();
  t = translator(config.locale);
  let shown = -1;
  const r = await backupDatabase(config.databaseUrl, file, {
    force: values.force,
    t,
    // Progress on stderr for large files, every tenth or so.
    onProgress: ({ totalPages, remainingPages }) => {
      const percent = Math.floor((100 * (totalPages - remainingPages)) / totalPages / 10) * 10;
      if (percent > shown && totalPages > 10_000) console.error(t('backup.progress', { percent }));
      shown = Math.max(shown, percent);
    },
  });
  console.log(
    t('backup.done', { path: r.file, mb: (r.bytes / 2 ** 20).toFixed(1), pages: r.pages, migrations: r.migrations }),
  );
  console.log(
    t('backup.counts', {
      enterprises: r.tables.enterprise ?? 0,
      policies: r.tables.policy ?? 0,
      visits: r.tables.preventionVisit ?? 0,
      audit: r.tables.auditEvent ?? 0,
    }),
  );
} catch (e) {
  console.error(e instanceof BackupError ? e.message : describe(e));
  process.exit(1);
}
