import { z } from 'zod';
import { defineCommand, type ReplyButton } from '../src/bot/spec.ts';
import { MAX_BUTTONS } from '../src/core/notice.ts';
import { UserError } from '../src/core/errors.ts';
import { findUnit } from '../src/domain/directory.ts';
import { peopleLine, unitPeople } from '../src/domain/members.ts';
import { obligationLines, openObligations } from '../src/domain/obligations.ts';
import { dutyProgress, progressText } from '../src/domain/inspections.ts';

/** /任务: a unit's open obligations (督办事项), coloured by time left. */
export default defineCommand({
  name: 'tasks',
  aliases: ['任务'],
  summary: 'tasks.summary',
  usage: 'tasks.usage',
  examples: ['/任务', '/任务 交通局'],
  params: ['unit'],
  args: z.object({ unit: z.string().optional() }),
  roles: ['liaison', 'leader', 'insurer'],
  figures: true,
  writes: false,
  async run(ctx, { unit: word }) {
    const { db, campaign, member, t } = ctx;
    const overseer = member!.roles.some((r) => r === 'leader' || r === 'admin');
    const named = word ? await findUnit(db, campaign.countyCode, word) : null;
    if (word && !named) throw new UserError('tasks.unknown_unit', { word });
    if (named && !overseer && named.id !== member!.unit?.id)
      throw new UserError('tasks.own_unit_only', { unit: member!.unit?.name ?? '—' });
    const unit = named ?? member!.unit;
    if (!unit) throw new UserError('tasks.no_unit');
    const open = await openObligations(db, campaign.id, [unit.id]);
    const people = await unitPeople(db, unit.id);
    const lines = [t('tasks.title', { unit: unit.name, count: open.length }), peopleLine(t, people)];
    // Who holds each item for the unit (经办人): whoever signed for it, or the one it was handed over to.
    const holders = new Map(
      (
        await db.member.findMany({
          where: { userId: { in: [...new Set(open.flatMap((o) => (o.holderUserId ? [o.holderUserId] : [])))] } },
          select: { userId: true, name: true },
        })
      ).map((m) => [m.userId, m.name]),
    );
    // Where the channel has cards: 批准 for a leader's pending decisions (驳回 needs a reason, so it is
    // typed), 签收 for the unit's own new items.
    const decide: ReplyButton[] = [];
    const acks: ReplyButton[] =
      unit.id === member!.unit?.id
        ? open
            .filter((o) => o.status === 'assigned')
            .map((o) => ({ label: t('card.ack', { id: o.id }), command: `/签收 ${o.id}`, style: 'primary' as const }))
        : [];
    // A duty that counts inspections shows how far the unit has got.
    const progress = await dutyProgress(db, campaign.id, open);
    for (const o of open) {
      lines.push(...obligationLines(ctx, o));
      if (o.holderUserId) lines.push(t('tasks.holder', { name: holders.get(o.holderUserId) ?? o.holderUserId }));
      const p = progress.get(o.id);
      if (p) lines.push(`   ${t('tasks.inspection_progress', { progress: progressText(t, p) })}`);
    }
    if (open.length) lines.push(t('tasks.legend'), t('tasks.hint'));
    else lines.push(t('tasks.none'));
    // Leaders see what waits for their decision.
    if (overseer) {
      const asked = await db.obligation.findMany({
        where: { campaignId: campaign.id, status: { not: 'done' }, withdrawnAt: null, requestedDueOn: { not: null } },
        include: { unit: true },
        orderBy: { id: 'asc' },
      });
      if (asked.length) {
        lines.push('', t('tasks.requests', { count: asked.length }));
        for (const o of asked) {
          lines.push(
            t('tasks.request_line', {
              id: o.id,
              unit: o.unit.name,
              due: o.dueOn,
              requested: o.requestedDueOn!,
              reason: o.requestReason ?? '',
            }),
          );
          decide.push({ label: t('card.approve', { id: o.id }), command: `/批准 ${o.id}`, style: 'primary' });
        }
        lines.push(t('tasks.requests_hint'));
      }
      // Blacklist proposals await a leader too; they are listed (and decided) in /黑名单 only.
      const proposals = await db.blacklistProposal.count({
        where: { campaignId: campaign.id, state: 'proposed', withdrawnAt: null },
      });
      if (proposals) lines.push('', t('tasks.proposals', { count: proposals }));
    }
    // Decisions go first; the card holds six buttons.
    return { text: lines.join('\n'), buttons: [...decide, ...acks].slice(0, MAX_BUTTONS) };
  },
});
