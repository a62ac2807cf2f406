import { join } from 'node:path';
import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { defineCommand } from '../src/bot/spec.ts';
import { sendToAsker } from '../src/bot/attachments.ts';
import { outputDir, stamped } from '../src/domain/attachments.ts';
import { EXPIRING_WITHIN_DAYS, writeLedgerExport } from '../src/domain/ledger-export.ts';

export default defineCommand({
  name: 'export',
  aliases: ['导出', '导出台账'],
  summary: 'export.summary',
  examples: ['/导出'],
  params: [],
  args: z.object({}),
  roles: ['leader'],
  figures: true,
  writes: false,
  async run(ctx) {
    const { db, campaign, today, clock, t, timeZone } = ctx;
    const now = clock.now();
    const name = `${stamped(t('export.file_name'), minuteIn(now, timeZone))}.xlsx`;
    const path = join(await outputDir(db), name);
    const counts = await writeLedgerExport(db, campaign, { day: today, now, t, timeZone }, path);
    const done = t('export.done', {
      county: campaign.countyName,
      time: minuteIn(now, timeZone),
      days: EXPIRING_WITHIN_DAYS,
      ...counts,
    });
    return { text: [done, ...(await sendToAsker(ctx, { type: 'file', path, name }))].join('\n') };
  },
});
