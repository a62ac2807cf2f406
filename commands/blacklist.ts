import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { defineCommand, type CommandContext, type ReplyButton } from '../src/bot/spec.ts';
import { MAX_BUTTONS } from '../src/core/notice.ts';
import { recordId } from '../src/core/args.ts';
import { APPROVE, decide, proposals, REJECT } from '../src/domain/blacklist.ts';

/**
 * /黑名单: the blacklist proposals for the county office — the open ones with their buttons and the
 * latest decided — and a leader's decision (批准 or 驳回). Nothing is published anywhere.
 */
export default defineCommand({
  name: 'blacklist',
  aliases: ['黑名单'],
  summary: 'blacklist.summary',
  usage: 'blacklist.usage',
  examples: ['/黑名单', '/黑名单 批准 1', '/黑名单 驳回 2 企业已提交整改计划，再给一次机会'],
  params: ['action', 'id', '...note'],
  args: z
    .object({
      action: z
        .string()
        .optional()
        .refine((a) => a === undefined || [...APPROVE, ...REJECT].includes(a.toLowerCase()), 'blacklist.bad_action'),
      id: recordId('blacklist.bad_id').optional(),
      note: z.string().trim().max(500).optional(),
    })
    .refine((a) => a.action === undefined || a.id !== undefined, { message: 'blacklist.no_id', path: ['id'] }),
  roles: ['leader'],
  writes: true,
  async run(ctx, { action, id, note }) {
    const { t } = ctx;
    if (action !== undefined && id !== undefined) {
      const approve = APPROVE.includes(action.toLowerCase());
      const p = await decide(ctx, id, approve, note || null);
      const enterprise = await ctx.db.enterprise.findUniqueOrThrow({ where: { id: p.enterpriseId } });
      return { text: t(approve ? 'blacklist.approved' : 'blacklist.rejected', { id, enterprise: enterprise.name }) };
    }
    return list(ctx);
  },
});

async function list(ctx: CommandContext) {
  const { db, campaign, t, timeZone } = ctx;
  const { open, decided, openCount } = await proposals(db, campaign.id);
  const lines = [t('blacklist.title', { count: openCount })];
  const buttons: ReplyButton[] = [];
  for (const p of open) {
    lines.push(
      t('blacklist.open_line', {
        id: p.id,
        enterprise: p.enterprise,
        unit: p.unit,
        by: p.proposer,
        item: p.obligationId,
        time: minuteIn(p.proposedAt, timeZone),
        reason: p.reason,
      }),
    );
    buttons.push(
      {
        label: t('card.blacklist_approve', { id: p.id }),
        command: `/黑名单 批准 ${p.id}`,
        style: 'danger',
        decides: `blacklist ${p.id}`,
      },
      {
        label: t('card.blacklist_reject', { id: p.id }),
        command: `/黑名单 驳回 ${p.id}`,
        decides: `blacklist ${p.id}`,
      },
    );
  }
  if (openCount > open.length) lines.push(t('blacklist.more', { count: openCount - open.length }));
  if (!open.length) lines.push(t('blacklist.none_open'));
  if (decided.length) {
    lines.push('', t('blacklist.decided_title'));
    for (const p of decided)
      lines.push(
        t(p.state === 'approved' ? 'blacklist.approved_line' : 'blacklist.rejected_line', {
          id: p.id,
          enterprise: p.enterprise,
          unit: p.unit,
          by: p.decider ?? '—',
          time: minuteIn(p.decidedAt!, timeZone),
          note: p.decisionNote ?? '',
        }),
      );
  }
  lines.push(t('blacklist.private'));
  return { text: lines.join('\n'), buttons: buttons.slice(0, MAX_BUTTONS) };
}
