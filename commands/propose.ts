import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { obligationId } from '../src/domain/obligations.ts';
import { propose } from '../src/domain/blacklist.ts';

/** /提请黑名单: the unit owning a rectification item proposes the refusing enterprise for the blacklist. */
export default defineCommand({
  name: 'propose',
  aliases: ['提请黑名单', '黑名单提请'],
  summary: 'propose.summary',
  usage: 'propose.usage',
  examples: ['/提请黑名单 17 逾期拒不整改，两次书面催告无回应', '/提请黑名单 18 拒不退还向员工摊派的保费'],
  params: ['id', '...reason'],
  args: z.object({ id: obligationId, reason: z.string().trim().min(1).max(500) }),
  roles: ['liaison'],
  writes: true,
  async run(ctx, { id, reason }) {
    const { proposal, item, enterprise } = await propose(ctx, id, reason);
    return {
      text: ctx.t(item.dueOn < ctx.today ? 'propose.done_overdue' : 'propose.done', {
        id: proposal.id,
        enterprise: enterprise.name,
        item: item.id,
        due: item.dueOn,
      }),
    };
  },
});
