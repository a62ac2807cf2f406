import { z } from 'zod';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { findUnit, nearestKnown } from '../src/domain/directory.ts';
import { didYouMean } from '../src/core/format.ts';
import {
  EXPIRING_DAYS,
  gapScope,
  LAPSED_DAYS,
  obligationLines,
  openObligations,
  policyGaps,
  urgency,
  type SectorGaps,
} from '../src/domain/obligations.ts';
import { neutral } from '../src/core/neutral.ts';

/** Names shown per list: the counts carry the rest. */
const NAMES = 2;

/**
 * /逾期: what is late or nearly so — obligations overdue or due within 3 working days, by unit;
 * then, per sector, enterprises without a valid policy and policies lapsed or about to end.
 */
export default defineCommand({
  name: 'overdue',
  aliases: ['逾期'],
  summary: 'overdue.summary',
  usage: 'overdue.usage',
  examples: ['/逾期', '/逾期 交通局', '/逾期 东坪'],
  params: ['unit'],
  args: z.object({ unit: z.string().optional() }),
  roles: ['leader', 'viewer', 'liaison'],
  writes: false,
  async run(ctx, { unit: word }) {
    const { db, campaign, member, t, today, calendar } = ctx;
    const overseer = member!.roles.some((r) => r === 'leader' || r === 'admin' || r === 'viewer');
    const named = word ? await findUnit(db, campaign.countyCode, word) : null;
    if (word && !named)
      throw new UserError('tasks.unknown_unit', {
        word,
        nearest: didYouMean(t, await nearestKnown(db, campaign, word, { units: 'any' })),
      });
    if (!overseer && (!member!.unit || (named && named.id !== member!.unit.id)))
      throw new UserError('tasks.own_unit_only', { unit: member!.unit?.name ?? '—' });
    // Liaisons see their own unit; leaders the whole county unless they name a unit.
    const unit = named ?? (overseer ? null : member!.unit);

    const late = (await openObligations(db, campaign.id, unit ? [unit.id] : undefined)).filter(
      (o) => urgency(calendar, today, o.dueOn) !== 'open',
    );
    const lines = [t('overdue.title', { scope: unit?.name ?? campaign.countyName, today })];
    if (!late.length) lines.push(t('overdue.none'));
    for (const unitId of [...new Set(late.map((o) => o.unitId))]) {
      const mine = late.filter((o) => o.unitId === unitId);
      lines.push(`【${neutral(mine[0]!.unit.name)}】`, ...mine.flatMap((o) => obligationLines(ctx, o)));
    }

    const gaps = (await policyGaps(db, campaign.id, today, await gapScope(db, unit))).filter(
      (g) => g.uninsured.length || g.lapsed.length || g.expiring.length,
    );
    lines.push('', t('overdue.gaps_title'));
    if (!gaps.length) lines.push(t('overdue.no_gaps'));
    for (const g of gaps) lines.push(...gapLines(ctx, g));
    if (late.some((o) => o.isDemo) || gaps.some((g) => g.demo)) lines.push(t('demo.data'));
    return { text: lines.join('\n') };
  },
});

/** One line of counts per sector; then a few names of the uninsured and of the policies ending first. */
function gapLines({ t }: CommandContext, g: SectorGaps): string[] {
  const days = { lapsed: LAPSED_DAYS, expiring: EXPIRING_DAYS };
  const counts = [
    ...(g.uninsured.length
      ? [
          t('overdue.uninsured', { count: g.uninsured.length }) +
            (g.lapsed.length ? t('overdue.of_which_lapsed', { count: g.lapsed.length, days: days.lapsed }) : ''),
        ]
      : g.lapsed.length
        ? [t('overdue.lapsed', { count: g.lapsed.length, days: days.lapsed })]
        : []),
    ...(g.expiring.length ? [t('overdue.expiring', { count: g.expiring.length, days: days.expiring })] : []),
  ];
  const few = (names: string[]) => names.slice(0, NAMES).join('、') + (names.length > NAMES ? t('overdue.etc') : '');
  const uninsured = g.uninsured.length ? g.uninsured : g.lapsed;
  return [
    t('overdue.sector_line', {
      mark: uninsured.length ? '🔴' : '🟡',
      sector: g.sector.name,
      counts: counts.join(' · '),
    }),
    ...(uninsured.length
      ? [`   ${t(g.uninsured.length ? 'overdue.uninsured_names' : 'overdue.lapsed_names', { names: few(uninsured) })}`]
      : []),
    ...(g.expiring.length
      ? [`   ${t('overdue.expiring_names', { names: few(g.expiring.map((e) => `${e.name} ${e.endOn.slice(5)}`)) })}`]
      : []),
  ];
}
