import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { coverageBySector, gapTo, type SectorCoverage, type TargetInForce } from '../src/domain/coverage.ts';

export default defineCommand({
  name: 'coverage',
  aliases: ['覆盖率', '参保率'],
  summary: 'coverage.summary',
  examples: ['/覆盖率'],
  params: [],
  args: z.object({}),
  roles: ['leader', 'liaison', 'viewer'],
  writes: false,
  async run(ctx) {
    const { db, campaign, today, clock, t } = ctx;
    const now = clock.now();
    const rows = await coverageBySector(db, campaign.id, today, now);
    const highRisk = rows.filter((r) => r.sector.highRisk);
    // The eight sectors share one target in most plans: say it once, and inline only where a row differs.
    const common = highRisk[0]?.target ?? null;
    const lines = [
      t('coverage.title', { county: campaign.countyName }),
      `${t('coverage.as_of', { time: minuteIn(now, ctx.timeZone) })} · ${targetText(t, common)}`,
      '',
    ];
    for (const row of rows) lines.push(...sectorLines(ctx, row, common));
    const enterprises = highRisk.reduce((n, r) => n + r.enterprises, 0);
    const insured = highRisk.reduce((n, r) => n + r.insured, 0);
    lines.push('', t('coverage.total_high_risk', {
      insured, enterprises, rate: percent(enterprises ? insured / enterprises : null), gap: gapTo(common, enterprises, insured),
    }));
    lines.push(t('coverage.legend'));
    if (rows.some((r) => r.demo)) lines.push(t('demo.data'));
    return { text: lines.join('\n') };
  },
});

function sectorLines({ t, timeZone }: CommandContext, row: SectorCoverage, common: TargetInForce | null): string[] {
  const name = row.sector.name;
  if (row.enterprises === 0 && row.sources.length === 0) return [`⚪ ${name}  ${t('coverage.no_data')}`];
  const source = t('coverage.source', {
    sources: row.sources
      .map((s) => (s === 'ledger' ? t('coverage.source_ledger') : t('coverage.source_report', { time: minuteIn(row.asOf!, timeZone).slice(5) })))
      .join(' + '),
  });
  const details = [
    ...(sameTarget(row.target, common) ? [] : [targetText(t, row.target)]),
    ...(row.headcountRate === null ? [] : [t('coverage.headcount', { insured: row.insuredPersons, employees: row.employees, rate: percent(row.headcountRate) })]),
    source,
  ];
  return [
    `${colour(row.rate, row.target)} ${name}  ${t('coverage.enterprises', { insured: row.insured, enterprises: row.enterprises, rate: percent(row.rate) })}${row.gap ? t('coverage.gap', { gap: row.gap }) : ''}`,
    `   ${details.join(' · ')}`,
  ];
}

function sameTarget(a: TargetInForce | null, b: TargetInForce | null): boolean {
  return a?.rateBp === b?.rateBp && a?.dueOn === b?.dueOn;
}

function targetText(t: CommandContext['t'], target: TargetInForce | null): string {
  if (!target) return t('coverage.no_target');
  return t(target.passed ? 'coverage.target_passed' : 'coverage.target', { rate: `${target.rateBp / 100}%`, due: target.dueOn });
}

/** Green when the target is met; red when its date has passed unmet; yellow while there is time. */
function colour(rate: number | null, target: TargetInForce | null): string {
  if (rate === null || !target) return '⚪';
  if (rate * 10000 >= target.rateBp) return '🟢';
  return target.passed ? '🔴' : '🟡';
}

function percent(rate: number | null): string {
  return rate === null ? '—' : `${(Math.floor(rate * 1000) / 10).toFixed(1)}%`;
}
