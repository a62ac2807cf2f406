// npm run restore -- <file> [--discard-current]   (anze restore <file> in a release bundle)
// Replaces the SQLite database with a backup written by `npm run backup`; stop the service first.
// The database it replaces is kept beside it unless --discard-current; see src/db/backup.ts.
import { parseArgs } from 'node:util';
import { ConfigError, configFromEnvironment } from '../config.ts';
import { BackupError, restoreDatabase } from '../db/backup.ts';
import { translator } from '../i18n.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'discard-current': { type: 'boolean', default: false } },
});
const file = positionals[0];
if (!file || positionals.length > 1) {
  console.error('usage: npm run restore -- <file> [--discard-current]');
  process.exit(2);
}

let t = translator('zh-CN');
try {
  const config = configFromEnvironment();
  t = translator(config.locale);
  const r = await restoreDatabase(config.databaseUrl, file, { discardCurrent: values['discard-current'], t });
  if (r.previous) console.log(t('restore.previous', { path: r.previous }));
  console.log(t('restore.done', { path: r.file, migrations: r.migrations }));
  console.log(
    t('backup.counts', {
      enterprises: r.tables.enterprise ?? 0,
      policies: r.tables.policy ?? 0,
      visits: r.tables.preventionVisit ?? 0,
      audit: r.tables.auditEvent ?? 0,
    }),
  );
} catch (e) {
  console.error(e instanceof BackupError || e instanceof ConfigError ? e.message : e);
  process.exit(1);
}
