import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { parseServiceCounts, recordServicePlan, serviceName } from '../src/domain/visits.ts';

/** /服务计划: an insurer's annual prevention-service plan, which fulfils its 15 January report duty. */
export default defineCommand({
  name: 'plan',
  aliases: ['服务计划'],
  summary: 'plan.summary',
  usage: 'plan.usage',
  examples: ['/服务计划 2027 培训4 排查6 演练1', '/服务计划 2027 每季度对全部投保企业开展一次隐患排查'],
  params: ['year', '...plan'],
  args: ({ today }) =>
    z.object({
      year: z
        .string()
        .regex(/^\d{4}年?$/, 'plan.bad_year')
        .transform((s) => Number(s.slice(0, 4)))
        .refine((y) => y >= 2000 && y <= Number(today.slice(0, 4)) + 1, 'plan.bad_year'),
      plan: z.string(),
    }),
  roles: ['insurer'],
  writes: true,
  async run(ctx, { year, plan }) {
    const { t, member } = ctx;
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
        t(out.fulfilled === 'now' ? 'plan.fulfilled' : 'plan.fulfilled_before', {
          title: out.obligation.title,
          due: out.obligation.dueOn,
        }),
      );
    else lines.push(t('plan.no_obligation', { year }));
    return { text: lines.join('\n') };
  },
});
