import { join } from 'node:path';
import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { tooLargeToSend } from '../src/bot/attachments.ts';
import { startJob } from '../src/bot/jobs.ts';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import type { Tx } from '../src/db/client.ts';
import { outputDir, stamped } from '../src/domain/attachments.ts';
import { findSector, findTownship } from '../src/domain/directory.ts';
import { EXPIRING_WITHIN_DAYS, exportInChild, type ExportScope } from '../src/domain/ledger-export.ts';

/** The smaller export a word names: one sector's or one township's enterprises; null for a word that names neither. */
async function scopeOf(
  db: Tx,
  campaign: { id: number; countyCode: string },
  word: string,
): Promise<{ only: ExportScope; name: string } | null> {
  const sector = await findSector(db, campaign.id, word);
  if (sector) return { only: { sectorId: sector.id }, name: sector.name };
  const township = await findTownship(db, campaign.countyCode, word);
  return township && { only: { townshipId: township.id }, name: township.name };
}

export default defineCommand({
  name: 'export',
  aliases: ['导出', '导出台账'],
  summary: 'export.summary',
  usage: 'export.usage',
  examples: ['/导出', '/导出 危化', '/导出 东坪'],
  params: ['scope'],
  args: z.object({ scope: z.string().optional() }),
  roles: ['leader'],
  figures: true,
  writes: false,
  async run(ctx, { scope }) {
    // A word asks for a smaller workbook; the job finds its sector or township again when it runs.
    if (scope && !(await scopeOf(ctx.db, ctx.campaign, scope)))
      throw new UserError('export.unknown_scope', { word: scope });
    return startJob(ctx, 'export', scope ? { scope } : {});
  },
  // The workbook of a large county takes seconds: written in a process of its own, sent when done.
  // One over WeCom's file limit is not sent: the reply says so and offers a sector's or a township's.
  async background({ db, databaseUrl, campaign, today, clock, locale, t, timeZone }, { scope }) {
    const now = clock.now();
    const args = scope ? await scopeOf(db, campaign, scope) : null;
    if (scope && !args) throw new UserError('export.unknown_scope', { word: scope });
    // A name from the directory, made safe for a file name.
    const label = args
      ? `${t('export.file_name')}-${args.name.replace(/[\\/:*?"<>|\s]/g, '_')}`
      : t('export.file_name');
    const name = `${stamped(label, minuteIn(now, timeZone))}.xlsx`;
    const path = join(await outputDir(db), name);
    const counts = await exportInChild({
      databaseUrl,
      campaignId: campaign.id,
      day: today,
      now: now.toISOString(),
      locale,
      timeZone,
      file: path,
      ...(args ? { scope: args.only } : {}),
    });
    const text = [
      t('export.done', {
        county: campaign.countyName,
        time: minuteIn(now, timeZone),
        days: EXPIRING_WITHIN_DAYS,
        ...counts,
      }),
      ...(args ? [t('export.scoped', { name: args.name })] : []),
    ].join('\n');
    const tooLarge = tooLargeToSend(t, path);
    if (!tooLarge) return { text, attachment: { type: 'file', path, name } };
    const [sector, township] = await Promise.all([
      db.sector.findFirst({ where: { campaignId: campaign.id, highRisk: true }, orderBy: { sortOrder: 'asc' } }),
      db.unit.findFirst({
        where: { countyCode: campaign.countyCode, kind: 'township' },
        orderBy: { sortOrder: 'asc' },
      }),
    ]);
    const smaller = t('export.smaller', { sector: sector?.name ?? '', township: township?.name ?? '' });
    return { text: [text, tooLarge, smaller].join('\n') };
  },
});
