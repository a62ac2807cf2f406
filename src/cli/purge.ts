// npm run purge -- [--dry-run] [--now <ISO time>]   (anze purge in a release bundle)
// Deletes what is older than its retention period (BOT_RETAIN_*; never less than the legal
// minimum), or with --dry-run only counts it; see src/domain/retention.ts.
import { parseArgs } from 'node:util';
import { fixedClock, systemClock } from '../clock.ts';
import { ConfigError, configFromEnvironment } from '../config.ts';
import { connectDatabase } from '../db/client.ts';
import { purge } from '../domain/retention.ts';
import { translator } from '../i18n.ts';

const { values } = parseArgs({ options: { now: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } } });

try {
  const config = configFromEnvironment();
  const t = translator(config.locale);
  const clock = values.now ? fixedClock(values.now) : systemClock;
  if (Number.isNaN(clock.now().getTime())) throw new ConfigError(`--now: not a time: ${values.now}`);
  const db = await connectDatabase(config.databaseUrl);
  try {
    const r = await purge(db, clock, config.retention, { dryRun: values['dry-run'] });
    const day = (d: Date) => d.toISOString().slice(0, 10);
    console.log(
      t(values['dry-run'] ? 'purge.would' : 'purge.done', {
        visits: r.visits,
        visitsBefore: day(r.cutoffs.visits),
        audit: r.auditEvents + r.pendingActions,
        auditBefore: day(r.cutoffs.audit),
        messages: r.inboundMessages + r.outboxMessages + r.strangers,
        messagesBefore: day(r.cutoffs.messages),
        media: r.mediaIds,
      }),
    );
  } finally {
    await db.$disconnect();
  }
} catch (e) {
  console.error(e instanceof ConfigError ? `configuration: ${e.message}` : e);
  process.exit(1);
}
