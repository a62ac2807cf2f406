// The import's work, started by src/cli/import.ts in a process with the import's heap limits.
// Imports the enterprise roster or the policies of the 台账; see src/domain/ledger-import.ts.
import { userInfo } from 'node:os';
import { campaignFor } from '../../domain/context.ts';
import { dayIn, systemClock } from '../../clock.ts';
import { ConfigError, configFromEnvironment } from '../../config.ts';
import { connectDatabase } from '../../db/client.ts';
import { openLedgerFile } from '../../domain/ledger-file.ts';
import { ImportFileError, importLedger, type LedgerKind } from '../../domain/ledger-import.ts';
import { translator } from '../../i18n.ts';
import { describe, locale, usage } from '../operator.ts';
import { progress } from '../progress.ts';

const [kind, file] = process.argv.slice(2);
if ((kind !== 'roster' && kind !== 'policies') || !file) {
  usage('npm run import -- roster|policies <file.csv|file.xlsx>');
}

let t = translator(locale, 'terminal');
try {
  const config = configFromEnvironment();
  t = translator(config.locale, 'terminal');
  // What can be told without parsing (kind, size, first bytes, a zip's size) is checked before the
  // database is opened; the rows stream in as they are imported.
  const source = await openLedgerFile(file, t, { dates: kind === 'policies' });
  const db = await connectDatabase(config.databaseUrl);
  const campaign = await campaignFor(db, null);
  if (!campaign) throw new ImportFileError(t('bus.no_campaign'));
  const now = systemClock.now();
  const bar = progress(process.stderr, t, systemClock);
  // Ctrl-C stops the import between rows and rolls it back, rather than leaving a run to expire
  // (taken again, as it is from a terminal through src/cli/import.ts, it changes nothing more).
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => interrupt.abort());
  const r = await importLedger(db, kind as LedgerKind, source.sheets, {
    campaignId: campaign.id,
    day: dayIn(now, config.timezone),
    now,
    t,
    timeZone: config.timezone,
    source: file,
    actor: `cli:${userInfo().username}`,
    clock: systemClock,
    signal: interrupt.signal,
    every: process.stderr.isTTY ? 500 : 10_000,
    progress: (rows) => bar.tick(rows, source.read()),
  }).finally(() => bar.done());
  console.log(
    t('import.summary', {
      file,
      kind: t(`import.kind_${kind}`),
      rows: r.rows,
      added: r.added,
      updated: r.updated,
      unchanged: r.unchanged,
      rejected: r.rejected.length,
    }),
  );
  if (r.sheet) console.log(`  ${t('import.sheet', { sheet: r.sheet })}`);
  for (const x of r.rejected) console.log(`  ${t('import.rejected_row', { row: x.row, reason: x.reason })}`);
  for (const x of r.skipped)
    console.log(`  ${t('import.rejected_row', { row: x.row, reason: t(`import.skipped_${x.why}`) })}`);
  if (r.warnings.length) console.log(t('import.warnings', { count: r.warnings.length }));
  for (const x of r.warnings) console.log(`  ${t('import.warning_row', { row: x.row, warning: x.warning })}`);
  await db.$disconnect();
} catch (e) {
  // A file that cannot be imported: one line, what is wrong and that nothing changed.
  if (e instanceof ImportFileError) console.error(`${e.message} ${t('import.nothing_changed')}`);
  else {
    console.error(e instanceof ConfigError ? describe(e) : e);
    console.error(t('import.nothing_changed'));
  }
  process.exit(1);
}
