import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { findUnit, nearestKnown } from '../src/domain/directory.ts';
import { didYouMean } from '../src/core/format.ts';
import { bindChat, chatPurpose, keyTail, leftWithoutGroup, parseWebhookKey } from '../src/domain/members.ts';
import type { CommandContext } from '../src/bot/spec.ts';
import type { Translate } from '../src/i18n.ts';

/**
 * /群: binds the chat it is said in to a unit, or as the leaders' or admins' group, and sets its
 * webhook key (without one, a deployment holding the AI bot's long connection speaks in it by
 * chatid). The key is secret: the bus keeps it out of the audit trail, and replies show only its tail.
 */
export default defineCommand({
  name: 'group',
  aliases: ['群'],
  summary: 'group.summary',
  usage: 'group.usage',
  examples: ['/群 应急局', '/群 东坪 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…', '/群 领导'],
  params: ['target', 'key'],
  secret: ['key'],
  args: z.object({
    target: z.string(),
    key: z
      .string()
      .optional()
      .transform((v, ctx) =>
        v === undefined
          ? undefined
          : (parseWebhookKey(v) ?? (ctx.addIssue({ code: 'custom', message: 'group.bad_key' }), z.NEVER)),
      ),
  }),
  roles: ['admin'],
  writes: true,
  // A rebinding that leaves the chat's unit, the leaders or the admins without any group waits for /执行.
  async confirm(ctx, { target }) {
    if (!ctx.chatId) return null;
    const { purpose, unit } = await binding(ctx, target);
    const left = await leftWithoutGroup(
      ctx.db,
      ctx.chatId,
      { purpose, unitId: unit?.id ?? null },
      ctx.campaign.countyCode,
    );
    return left
      ? ctx.t('group.orphan', {
          was: chatLabel(ctx.t, left.purpose, left.unitName),
          what: chatLabel(ctx.t, purpose, unit?.name ?? null),
        })
      : null;
  },
  async run(ctx, { target, key }) {
    const { db, chatId, t } = ctx;
    if (!chatId) throw new UserError('group.no_chat');
    const { purpose, unit } = await binding(ctx, target);
    const what = chatLabel(t, purpose, unit?.name ?? null);
    const r = await bindChat(db, { chatId, purpose, unitId: unit?.id ?? null, name: what, webhookKey: key });
    ctx.undoable(r.undo);
    const lines = [t('group.bound', { what })];
    if (r.before) {
      const was = chatLabel(t, r.before.purpose, r.before.unitName);
      if (was !== what) lines.push(t('group.was', { was }));
    }
    if (key) lines.push(t(r.before?.hadKey ? 'group.key_changed' : 'group.key_set', { tail: keyTail(key) }));
    else
      lines.push(
        t(r.hasKey ? 'group.key_kept' : ctx.reach.longconn ? 'group.via_longconn' : 'group.no_key', { target }),
      );
    return { text: lines.join('\n') };
  },
});

/** What the chat is to serve, and its unit: leaders' and admins' groups belong to the commission office (县安委办) where there is one. */
async function binding({ db, campaign, member, t }: CommandContext, target: string) {
  const purpose = chatPurpose(target) ?? 'unit';
  const unit =
    purpose === 'unit'
      ? await findUnit(db, campaign.countyCode, target)
      : ((await db.unit.findFirst({ where: { countyCode: campaign.countyCode, kind: 'commission_office' } })) ??
        member?.unit ??
        null);
  if (purpose === 'unit' && !unit)
    throw new UserError('group.no_unit', {
      word: target,
      nearest: didYouMean(t, await nearestKnown(db, campaign, target, { units: 'any' })),
    });
  return { purpose, unit };
}

/** A chat as the replies name it: 东坪镇工作群, 县领导群, 管理员群. */
const chatLabel = (t: Translate, purpose: string, unitName: string | null): string =>
  purpose === 'unit' ? t('group.unit_chat', { unit: unitName ?? '—' }) : t(`group.${purpose}_chat`);
