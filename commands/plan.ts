import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { parseServiceCounts, recordServicePlan, serviceName } from '../src/domain/visits.ts';

const FIRST_PLAN_YEAR = 2000;

/** /服务计划: an insurer's annual prevention-service plan, which fulfils its 15 January report duty. */
export default defineCommand({
  name: 'plan',
  aliases: ['服务计划'],
  summary: 'plan.summary',
  usage: 'plan.usage',
  examples: ['/服务计划 2027 培训4 排查6 演练1', '/服务计划 2027 每季度对全部投保企业开展一次隐患排查'],
  params: ['year', '...plan'],
  args: z.object({ year: z.string(), plan: z.string() }),
  roles: ['insurer'],
  writes: true,
  async run(ctx, { year: word, plan }) {
    const { t, member, today } = ctx;
    // Plans are filed from 2000 up to next year; the answer names that range.
    const latest = Number(today.slice(0, 4)) + 1;
    const year = /^\d{4}年?$/.test(word) ? Number(word.slice(0, 4)) : NaN;
    if (!(year >= FIRST_PLAN_YEAR && year <= latest))
      throw new UserError('plan.bad_year', { value: word, from: FIRST_PLAN_YEAR, to: latest });
    const insurer = member!.unit;
    if (insurer?.kind !== 'insurer') throw new UserError('plan.not_insurer', { unit: insurer?.name ?? '—' });
    const counts = parseServiceCounts(plan);
    const out = await recordServicePlan(ctx, { insurerId: insurer.id, year, text: plan, counts });
    const content = counts
      ? t('plan.counts', {
          items: Object.entries(counts)
            .map(([code, n]) => t('plan.count', { service: serviceName(t, code), n }))
            .join('、'),
          total: Object.values(counts).reduce((a, b) => a + b, 0),
        })
      : plan;
    const lines = [t(out.updated ? 'plan.updated' : 'plan.recorded', { insurer: insurer.name, year }), content];
    if (out.obligation)
      lines.push(
        t(out.fulfilled === 'before' ? 'plan.fulfilled_before' : out.late ? 'plan.fulfilled_late' : 'plan.fulfilled', {
          title: out.obligation.title,
          due: out.obligation.dueOn,
          days: out.late,
        }),
      );
    else lines.push(t('plan.no_obligation', { year }));
    return { text: lines.join('\n') };
  },
});
