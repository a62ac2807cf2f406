import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { obligationId, ownOpenObligation, transition } from '../src/domain/obligations.ts';

/** /反馈: the responsible unit reports progress on an obligation; it may do so repeatedly. */
export default defineCommand({
  name: 'feedback',
  aliases: ['反馈'],
  summary: 'feedback.summary',
  usage: 'feedback.usage',
  examples: ['/反馈 14 已完成 8 家企业的检查'],
  params: ['id', '...text'],
  args: z.object({ id: obligationId, text: z.string().trim().min(1).max(500) }),
  roles: ['liaison', 'leader', 'insurer'],
  writes: true,
  async run(ctx, { id, text }) {
    const o = await ownOpenObligation(ctx, id);
    await transition(ctx, o, { toStatus: 'feedback', note: text }, { status: 'feedback' });
    return { text: ctx.t('feedback.done', { id, title: o.title, due: o.dueOn }) };
  },
});
