// npm run remind -- --now <ISO time> [--dry-run]
// Evaluates every reminder rule as of that time and prints what it queued (or, dry, would queue).
// A time without an offset is read in BOT_TIMEZONE.
import { parseArgs } from 'node:util';
import { fixedClock, systemClock } from '../clock.ts';
import { ConfigError, configFromEnvironment } from '../config.ts';
import { args, describe } from './operator.ts';
import { instantAt, Scheduler } from '../schedule/scheduler.ts';
import { groupReach, openCore } from '../service.ts';

const { values } = args(
  () => parseArgs({ options: { now: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } } }),
  'npm run remind -- --now <time> [--dry-run]',
);

try {
  const config = configFromEnvironment();
  const local = values.now && /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?$/.exec(values.now);
  const at = !values.now
    ? systemClock.now()
    : local
      ? instantAt(local[1]!, local[2]!, config.timezone)
      : new Date(values.now);
  if (Number.isNaN(at.getTime())) {
    const value = values.now ?? '';
    throw new ConfigError((t) => t('cli.bad_time', { value }));
  }
  const clock = fixedClock(at);
  const core = await openCore(config, clock, () => {});
  const scheduler = new Scheduler({
    db: core.db,
    clock,
    timeZone: config.timezone,
    locale: config.locale,
    calendar: core.calendar,
    reach: groupReach(config),
    cjkFont: config.cjkFont,
  });
  for (const r of await scheduler.runAt(at, { dryRun: values['dry-run'] })) {
    console.log(
      `${r.campaign} ${r.day}: ${r.state}${r.reminders.some((x) => x.messages.length) ? '' : ' — nothing to send'}`,
    );
    // Audiences a rule had something for and no way to reach: a warning, never silence.
    for (const u of r.unheard) console.log(`⚠️ ${u.rule}: ${u.who} cannot be reached (${u.why})`);
    for (const x of r.reminders.filter((x) => x.messages.length)) {
      console.log(
        `\n[${x.state}] ${x.rule} → ${x.target} (${x.messages.length} message${x.messages.length === 1 ? '' : 's'}: ${x.messages.map((m) => `${m.channel} ${m.channel === 'webhook' ? '…' + m.target.slice(-4) : m.target}`).join(', ')})`,
      );
      const first = x.messages[0]!.payload;
      console.log((first[String(first.msgtype)] as { content: string }).content);
    }
  }
  await core.db.$disconnect();
} catch (e) {
  console.error(describe(e));
  process.exit(1);
}
