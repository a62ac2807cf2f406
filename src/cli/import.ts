// npm run import -- roster|policies <file.csv|file.xlsx>
// Imports the enterprise roster or the policies of the 台账; see src/domain/ledger-import.ts.
import { userInfo } from 'node:os';
import { campaignFor } from '../bot/bus.ts';
import { dayIn, systemClock } from '../clock.ts';
import { ConfigError, configFromEnvironment } from '../config.ts';
import { connectDatabase } from '../db/client.ts';
import { ImportFileError, importLedger, readSheet, type LedgerKind } from '../domain/ledger-import.ts';
import { translator } from '../i18n.ts';
import { describe, locale, usage } from './operator.ts';

const [kind, file] = process.argv.slice(2);
if ((kind !== 'roster' && kind !== 'policies') || !file) {
  usage('npm run import -- roster|policies <file.csv|file.xlsx>');
}

let t = translator(locale);
try {
  const config = configFromEnvironment();
  t = translator(config.locale);
  const db = await connectDatabase(config.databaseUrl);
  const campaign = await campaignFor(db, null);
  if (!campaign) throw new ImportFileError(t('bus.no_campaign'));
  const now = systemClock.now();
  const sheet = await readSheet(file);
  const r = await importLedger(db, kind as LedgerKind, sheet, {
    campaignId: campaign.id,
    day: dayIn(now, config.timezone),
    now,
    t,
    source: file,
    actor: `cli:${userInfo().username}`,
    progress: (done, total) => console.error(t('import.progress', { done, total })),
  });
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
  for (const x of r.rejected) console.log(`  ${t('import.rejected_row', { row: x.row, reason: x.reason })}`);
  await db.$disconnect();
} catch (e) {
  if (e instanceof ImportFileError) console.error(e.message);
  else if (e instanceof ConfigError) console.error(describe(e));
  else console.error(e);
  console.error(t('import.nothing_changed'));
  process.exit(1);
}
