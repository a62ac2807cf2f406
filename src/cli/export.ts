// npm run export -- <file.xlsx>
// Writes the 台账 workbook (see src/domain/ledger-export.ts) as of now.
import { campaignFor } from '../domain/context.ts';
import { dayIn, minuteIn, systemClock } from '../clock.ts';
import { ConfigError, configFromEnvironment } from '../config.ts';
import { connectDatabase } from '../db/client.ts';
import { EXPIRING_WITHIN_DAYS, writeLedgerExport } from '../domain/ledger-export.ts';
import { translator } from '../i18n.ts';
import { locale, usage } from './operator.ts';

const file = process.argv[2];
if (!file || !file.toLowerCase().endsWith('.xlsx')) {
  usage('npm run export -- <file.xlsx>');
}

try {
  const config = configFromEnvironment();
  const t = translator(config.locale, 'terminal');
  const db = await connectDatabase(config.databaseUrl);
  const campaign = await campaignFor(db, null);
  if (!campaign) throw new ConfigError(t('bus.no_campaign'));
  const now = systemClock.now();
  const counts = await writeLedgerExport(
    db,
    campaign,
    { day: dayIn(now, config.timezone), now, t, timeZone: config.timezone },
    file,
  );
  console.log(
    t('export.done', {
      county: campaign.countyName,
      time: minuteIn(now, config.timezone),
      days: EXPIRING_WITHIN_DAYS,
      ...counts,
    }),
  );
  console.log(t('export.written', { path: file }));
  await db.$disconnect();
} catch (e) {
  console.error(e instanceof ConfigError ? e.localized(locale) : e);
  process.exit(1);
}
