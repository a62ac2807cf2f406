import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { changeText, percent } from '../src/core/format.ts';
import { colour, combine, type CoverageRow } from '../src/domain/coverage.ts';
import { rankCoverage, rankTimeliness, tiedAt, type Ranked, type Timeliness } from '../src/domain/ranking.ts';
import { neutral } from '../src/core/neutral.ts';
import { UserError } from '../src/core/errors.ts';
import { startJob } from '../src/bot/jobs.ts';
import { asksForChart, chartFile, rankChartPng } from '../src/domain/chart.ts';
import { inspectionProgress, progressText, rankInspections } from '../src/domain/inspections.ts';
import { assess, rankingLine } from '../src/domain/assessment.ts';
import { findingTotal, insurerService, paymentLimit, type InsurerService } from '../src/domain/claims.ts';

/**
 * /排名: the 通报 — townships and lead departments on coverage, units on timely reporting. A 通报
 * names everyone; a long one goes as several messages where the channel splits text (the outbox).
 */
export default defineCommand({
  name: 'rank',
  aliases: ['排名'],
  summary: 'rank.summary',
  usage: 'rank.usage',
  examples: ['/排名', '/排名 图'],
  params: ['view'],
  args: z.object({ view: z.string().optional() }),
  roles: ['leader', 'viewer', 'agency'],
  figures: true,
  writes: false,
  /** /排名 图: townships and lead departments ranked by coverage, as a chart (src/domain/chart.ts). */
  async background({ db, campaign, today, clock, t, timeZone, cjkFont }) {
    const now = clock.now();
    const png = await rankChartPng(db, campaign, { day: today, now, t, timeZone, cjkFont });
    return {
      text: t('chart.rank_done'),
      attachment: await chartFile(db, png, t('chart.rank_file_name'), minuteIn(now, timeZone)),
    };
  },
  async run(ctx, { view }) {
    if (view) {
      if (!asksForChart(view)) throw new UserError('rank.unknown_view', { word: view });
      return startJob(ctx, 'rank', {});
    }
    const { db, campaign, today, clock, t, timeZone } = ctx;
    const now = clock.now();
    const [coverage, timeliness, progress, service] = await Promise.all([
      rankCoverage(db, campaign.id, today, now),
      rankTimeliness(db, campaign.id, today, timeZone),
      inspectionProgress(db, campaign.id, today.slice(0, 4)),
      insurerService(db, campaign.countyCode, today),
    ]);
    const inspections = await rankInspections(db, campaign.id, today, progress);
    const assessment = await assess(db, campaign.id, today.slice(0, 4), today, now, timeZone, {
      coverage,
      inspections: progress,
    });
    const pooled = combine(coverage.townships.map((r) => r.item));
    const overdue = timeliness.filter((r) => r.item.overdue > 0).map((r) => r.item);
    const lines = [
      t('rank.title', { county: campaign.countyName }),
      t('rank.as_of', { time: minuteIn(now, timeZone) }),
      t('rank.summary_line', {
        rate: percent(pooled.rate),
        best: names(ctx, tiedAt(coverage.townships, 'first')),
        worst: names(ctx, tiedAt(coverage.townships, 'last')),
        overdue: overdue.length
          ? t('rank.overdue_units', {
              count: overdue.reduce((n, r) => n + r.overdue, 0),
              units: overdue.map((r) => r.unit.name).join('、'),
            })
          : t('rank.no_overdue'),
      }),
      '',
      t('rank.townships', { count: coverage.townships.length }),
      ...coverage.townships.map((r) => coverageLine(ctx, r)),
      ...(coverage.unranked.length ? [t('rank.unranked', { names: coverage.unranked.join('、') })] : []),
      '',
      t('rank.departments'),
      ...coverage.departments.map((r) => coverageLine(ctx, r)),
      '',
      t('rank.timeliness'),
      ...(timeliness.length ? timeliness.map((r) => timelinessLine(ctx, r)) : [t('rank.nothing_due')]),
      ...(inspections
        ? [
            '',
            t('rank.inspections', { year: inspections.period, due: inspections.dueOn }),
            ...inspections.ranked.map(({ rank, item }) => {
              const mark = item.inspected >= item.inScope ? '🟢' : today > inspections.dueOn ? '🔴' : '🟡';
              return `${mark} ${rank}. ${neutral(item.unit.name)}  ${progressText(t, item)}`;
            }),
          ]
        : []),
      ...(assessment
        ? [
            '',
            t(assessment.rules.placeholder ? 'rank.assessment' : 'rank.assessment_set', { year: assessment.year }),
            ...assessment.ranked.map((r) => rankingLine(t, r)),
          ]
        : []),
      '',
      t('rank.insurers'),
      ...service.map((r) => serviceLine(ctx, r)),
      await claimRule(ctx),
      '',
      t('rank.legend'),
    ];
    return { text: lines.join('\n') };
  },
});

/** Where the claims' limit comes from: the campaign's rule in force today. */
async function claimRule({ db, t, today }: CommandContext): Promise<string> {
  const limit = await paymentLimit(db, today);
  return limit ? t('rank.claim_rule', { days: limit.value, source: limit.source }) : t('claim.no_limit');
}

/** An insurer's service: claims, payments, the median days from report to payment, disputes, findings. */
function serviceLine({ t }: CommandContext, { rank, item: s }: Ranked<InsurerService>): string {
  const mark = s.overdue ? '🔴' : findingTotal(s) || s.openDisputes ? '🟡' : '🟢';
  return `${mark} ${rank}. ${neutral(s.insurer.name)}  ${t('rank.service', {
    claims: s.claims,
    paid: s.paid,
    overdue: s.overdue,
    median: s.medianDays === null ? '—' : String(s.medianDays),
    disputes: s.openDisputes,
    findings: findingTotal(s),
  })}`;
}

/** "仙溪镇 100.0%", or "仙溪镇等 4 个 100.0%" when several share the rank. */
function names({ t }: CommandContext, tied: CoverageRow[]): string {
  const first = tied[0];
  if (!first) return '—';
  return `${first.name}${tied.length > 1 ? t('rank.and_others', { count: tied.length }) : ''} ${percent(first.rate)}`;
}

function coverageLine({ t }: CommandContext, { rank, item: r }: Ranked<CoverageRow>): string {
  const withReport = r.sources.includes('report') ? t('rank.with_report') : '';
  return `${colour(r.rate, r.target)} ${rank}. ${neutral(r.name)}  ${t('coverage.enterprises', { insured: r.insured, enterprises: r.enterprises, rate: percent(r.rate) })}  ${changeText(r, t('coverage.change_new'))}${withReport}`;
}

function timelinessLine({ t, timeZone }: CommandContext, { rank, item: r }: Ranked<Timeliness>): string {
  const mark = r.overdue ? '🔴' : r.late ? '🟡' : '🟢';
  // Insurers owe reports in writing, not progress reports: their line leaves that out.
  const report = r.lastReportAt
    ? t('rank.last_report', { time: minuteIn(r.lastReportAt, timeZone).slice(5, 10) })
    : r.unit.kind === 'insurer'
      ? null
      : t('rank.never_reported');
  return `${mark} ${rank}. ${neutral(r.unit.name)}  ${t('rank.counts', { onTime: r.onTime, late: r.late, overdue: r.overdue })}${report ? ` · ${report}` : ''}`;
}
