import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { parseCount, parseRatio } from '../src/core/words.ts';
import { didYouMean, ratioPercent, signed, targetPercent } from '../src/core/format.ts';
import { findSector, nearestKnown, placeWord } from '../src/domain/directory.ts';
import { recordReport, reportScope } from '../src/domain/reports.ts';

/** /上报: a liaison's progress report for a sector (and township) their unit answers for. */
export default defineCommand({
  name: 'report',
  aliases: ['上报'],
  summary: 'report.summary',
  usage: 'report.usage',
  examples: ['/上报 危化 12/13', '/上报 交通 45/50 东坪 已督促剩余5家'],
  params: ['sector', 'ratio', '...rest'],
  args: z.object({
    sector: z.string(),
    ratio: z.string().transform(
      (v, ctx) =>
        parseRatio(v) ??
        (ctx.addIssue({
          code: 'custom',
          message: parseCount(v.split(/[/／]/)[1] ?? '') === 0 ? 'report.zero_total' : 'report.bad_ratio',
        }),
        z.NEVER),
    ),
    rest: z.string().optional(),
  }),
  roles: ['liaison'],
  writes: true,
  async run(ctx, { sector: sectorWord, ratio, rest }) {
    const { db, campaign, member, t, clock, today, timeZone } = ctx;
    const sector = await findSector(db, campaign.id, sectorWord);
    if (!sector)
      throw new UserError('report.unknown_sector', {
        word: sectorWord,
        nearest: didYouMean(t, await nearestKnown(db, campaign, sectorWord, { sectors: true })),
      });
    // The word after the numbers is a township when it names one, a question when it looks like a
    // place but names none (东平 for 东坪); otherwise it starts the note.
    const [first, ...more] = (rest ?? '').split(/\s+/).filter(Boolean);
    const named = first ? await placeWord(db, campaign, first) : null;
    if (named && 'unknown' in named)
      throw new UserError('report.unknown_township', {
        word: named.unknown,
        nearest: didYouMean(t, named.nearest, t('report.name_a_township')),
      });
    const note = (named ? more : [first, ...more]).filter(Boolean).join(' ') || null;
    const unit = member?.unit
      ? { id: member.unit.id, code: member.unit.code, name: member.unit.name, kind: member.unit.kind }
      : null;
    const scope = await reportScope(db, unit, sector, named);
    if ('reason' in scope) {
      if (scope.reason === 'no_unit') throw new UserError('report.no_unit');
      if (scope.reason === 'other_township')
        throw new UserError('report.other_township', { own: scope.own, township: named!.name });
      throw new UserError(scope.lead ? 'report.not_lead' : 'report.no_lead', {
        sector: sector.name,
        lead: scope.lead ?? '',
      });
    }
    const now = clock.now();
    const r = await recordReport(db, {
      campaignId: campaign.id,
      unitId: unit!.id,
      sector,
      townshipId: scope.township?.id ?? null,
      ...ratio,
      note,
      reportedBy: ctx.userId,
      chatId: ctx.chatId,
      at: now,
      day: today,
    });
    ctx.undoable({ model: 'progressReport', action: 'delete', where: { id: r.id } });
    const lines = [
      t('report.recorded', {
        sector: sector.name,
        township: scope.township?.name ?? t('report.county_wide'),
        insured: ratio.insured,
        total: ratio.total,
        rate: ratioPercent(ratio.insured, ratio.total),
      }),
      r.previous
        ? t('report.change', {
            delta: signed(ratio.insured - r.previous.insured),
            previous: `${r.previous.insured}/${r.previous.total}`,
            time: minuteIn(r.previous.reportedAt, timeZone).slice(5),
          })
        : t('report.first'),
      r.target
        ? t(r.gap ? 'report.gap' : 'report.met', {
            gap: r.gap,
            rate: targetPercent(r.target.rateBp),
            due: r.target.dueOn,
          })
        : t('coverage.no_target'),
    ];
    if (r.ledger) lines.push(t('report.ledger', { insured: r.ledger.insured, enterprises: r.ledger.enterprises }));
    if (note) lines.push(t('report.note', { note }));
    return { text: lines.join('\n') };
  },
});
