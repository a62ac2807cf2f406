// Writes the 台账 workbook in a process of its own, for exportInChild (src/domain/ledger-export.ts):
// better-sqlite3 is synchronous, so an export of a large county in the service's own process would
// hold every other chat's answer; here it holds nobody, and its memory goes back when it exits.
//   stdin:  JSON ChildRequest
//   stdout: JSON ExportCounts
import { connectDatabase } from '../db/client.ts';
import { translator } from '../i18n.ts';
import { writeLedgerExport, type ChildRequest } from './ledger-export.ts';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChildRequest;
const db = await connectDatabase(r.databaseUrl);
try {
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: r.campaignId } });
  const counts = await writeLedgerExport(
    db,
    campaign,
    {
      day: r.day,
      now: new Date(r.now),
      t: translator(r.locale),
      timeZone: r.timeZone,
      ...(r.scope ? { scope: r.scope } : {}),
    },
    r.file,
  );
  process.stdout.write(JSON.stringify(counts));
} finally {
  await db.$disconnect();
}
