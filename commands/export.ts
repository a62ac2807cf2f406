import { join } from 'node:path';
import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { startJob } from '../src/bot/jobs.ts';
import { defineCommand } from '../src/bot/spec.ts';
import { outputDir, stamped } from '../src/domain/attachments.ts';
import { EXPIRING_WITHIN_DAYS, exportInChild } from '../src/domain/ledger-export.ts';

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
    return { text: await startJob(ctx, 'export', {}) };
  },
  // The workbook of a large county takes seconds: written in a process of its own, sent when done.
  async background({ db, databaseUrl, campaign, today, clock, locale, t, timeZone }) {
    const now = clock.now();
    const name = `${stamped(t('export.file_name'), minuteIn(now, timeZone))}.xlsx`;
    const path = join(await outputDir(db), name);
    const counts = await exportInChild({
      databaseUrl,
      campaignId: campaign.id,
      day: today,
      now: now.toISOString(),
      locale,
      timeZone,
      file: path,
    });
    const text = t('export.done', {
      county: campaign.countyName,
      time: minuteIn(now, timeZone),
      days: EXPIRING_WITHIN_DAYS,
      ...counts,
    });
    return { text, attachment: { type: 'file', path, name } };
  },
});
