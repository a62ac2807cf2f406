import { z } from 'zod';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { didYouMean, percent } from '../src/core/format.ts';
import { findUnit, nearestKnown } from '../src/domain/directory.ts';
import { assess, rankingLine, type Assessment, type CriterionScore } from '../src/domain/assessment.ts';

const YEAR = /^(20\d\d)年?$/;

/** /考核: a unit's annual assessment with the breakdown of every point, or the county's ranking. */
export default defineCommand({
  name: 'assess',
  aliases: ['考核'],
  summary: 'assess.summary',
  usage: 'assess.usage',
  examples: ['/考核', '/考核 2026 东坪'],
  params: ['year', 'unit'],
  // The year and the unit in either order, each optional.
  args: z
    .object({ year: z.string().optional(), unit: z.string().optional() })
    .transform(({ year, unit }) =>
      year !== undefined && !YEAR.test(year) ? { year: unit, unit: year } : { year, unit },
    )
    .refine((a) => a.year === undefined || YEAR.test(a.year), { message: 'assess.bad_year', path: ['year'] }),
  roles: ['leader', 'viewer', 'liaison'],
  figures: true,
  writes: false,
  async run(ctx, a) {
    const { db, campaign, member, today, clock, timeZone, t } = ctx;
    const year = a.year ? YEAR.exec(a.year)![1]! : today.slice(0, 4);
    if (year > today.slice(0, 4)) throw new UserError('assess.future_year', { year });
    const overseer = member!.roles.some((r) => r === 'leader' || r === 'admin' || r === 'viewer');
    const named = a.unit ? await findUnit(db, campaign.countyCode, a.unit) : null;
    if (a.unit && !named)
      throw new UserError('tasks.unknown_unit', {
        word: a.unit,
        nearest: didYouMean(t, await nearestKnown(db, campaign, a.unit, { units: 'any' })),
      });
    if (named && !overseer && named.id !== member!.unit?.id)
      throw new UserError('tasks.own_unit_only', { unit: member!.unit?.name ?? '—' });
    const result = await assess(db, campaign.id, year, today, clock.now(), timeZone);
    if (!result) throw new UserError('assess.no_rules');
    const unit = named ?? (overseer ? null : member!.unit);
    if (!unit) return { text: ranking(ctx, result).join('\n') };
    const row = result.ranked.find((r) => r.item.unit.id === unit.id);
    if (!row) throw new UserError('assess.not_assessed', { unit: unit.name, year });
    const u = row.item;
    const lines = [
      t('assess.unit_title', {
        year,
        unit: u.unit.name,
        score: u.score,
        max: u.max,
        share: percent(u.share),
        rank: row.rank,
        count: result.ranked.length,
      }),
      t('assess.as_of', { day: result.asOf }),
      ...u.criteria.map((c) => criterionLine(ctx, c)),
      t('assess.not_applicable_hint'),
      ...note(ctx, result),
    ];
    return { text: lines.join('\n') };
  },
});

/** One criterion: what it was computed from, then the points earned of its points. */
function criterionLine({ t }: Pick<CommandContext, 't'>, c: CriterionScore): string {
  const basis =
    c.share === null
      ? t('assess.not_applicable')
      : c.key === 'coverage'
        ? t('assess.basis_coverage', {
            insured: c.done,
            enterprises: c.of,
            rate: percent(c.rate ?? null),
            target: c.target === null || c.target === undefined ? '—' : percent(c.target),
          })
        : t(`assess.basis_${c.key}`, { done: c.done, of: c.of });
  return t('assess.criterion_line', {
    criterion: t(`assess.criterion.${c.key}`),
    basis,
    score: c.share === null ? '—' : c.score,
    points: c.points,
  });
}

/** The county's ranking for the year, best first. */
function ranking(ctx: Pick<CommandContext, 't'>, result: Assessment): string[] {
  const { t } = ctx;
  return [
    t('assess.ranking_title', { year: result.year, count: result.ranked.length }),
    t('assess.as_of', { day: result.asOf }),
    ...result.ranked.map((r) => rankingLine(t, r)),
    t('assess.ranking_hint'),
    ...note(ctx, result),
  ];
}

/** Where the points come from; placeholders say so. */
function note({ t }: Pick<CommandContext, 't'>, result: Assessment): string[] {
  return [t(result.rules.placeholder ? 'assess.placeholder' : 'assess.rules_note', { note: result.rules.note })];
}
