// npm run seed [-- <campaign.json>] [--demo] [--members <file.csv>]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { systemClock } from '../clock.ts';
import { configFromEnvironment } from '../config.ts';
import { connectDatabase } from '../db/client.ts';
import { CampaignFileError, DEFAULT_CAMPAIGN_FILE, readCampaignFile } from '../domain/campaign-file.ts';
import { seedDemo } from '../domain/demo.ts';
import { loadMembersFile } from '../domain/members-file.ts';
import { ensureAdmins, seedCampaign } from '../domain/seed.ts';
import { args, describe, t } from './operator.ts';

const { values, positionals } = args(
  () =>
    parseArgs({
      allowPositionals: true,
      options: { demo: { type: 'boolean', default: false }, members: { type: 'string' } },
    }),
  'npm run seed -- [<campaign.json>] [--demo] [--members <file.csv>]',
);

try {
  const config = configFromEnvironment();
  const file = positionals[0] ?? DEFAULT_CAMPAIGN_FILE;
  const campaign = readCampaignFile(file);
  const db = await connectDatabase(config.databaseUrl);
  const r = await seedCampaign(db, campaign, systemClock, config.timezone);
  console.log(
    `campaign ${campaign.key} (${campaign.docNumber}): ${r.sectors} sectors, ${r.units} units, ${r.obligations} new obligations`,
  );
  await ensureAdmins(db, config.admins);
  if (values.demo) {
    const d = await seedDemo(db, r.campaignId, systemClock, config.timezone);
    console.log(
      `demo data: ${d.enterprises} enterprises, ${d.policies} policies, ${d.members} members, ${d.chats} group chats (all marked as demo)`,
    );
  }
  if (values.members) {
    const m = await loadMembersFile(db, readFileSync(values.members, 'utf8'), campaign.county.code);
    console.log(
      `${values.members}: ${m.members} members and ${m.chats} group chats loaded, ${m.rejected.length} rows rejected`,
    );
    for (const x of m.rejected) console.log(`  ${t('cli.members_rejected_line', { line: x.line, reason: x.reason })}`);
    if (m.rejected.length) process.exitCode = 1;
  }
  await db.$disconnect();
} catch (e) {
  if (e instanceof CampaignFileError) console.error(t('cli.campaign_file_invalid', { errors: e.message }));
  else console.error(describe(e));
  process.exit(1);
}
