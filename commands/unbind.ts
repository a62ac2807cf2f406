import { z } from 'zod';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { splitRoles } from '../src/core/roles.ts';
import { adminCounty, memberToUnbind, unbindMember } from '../src/domain/members.ts';

/** /解绑: an admin ends a member's access after /执行; the row stays for the audit trail. */
export default defineCommand({
  name: 'unbind',
  aliases: ['解绑'],
  summary: 'unbind.summary',
  usage: 'unbind.usage',
  examples: ['/解绑 zhangsan'],
  params: ['userid'],
  args: z.object({ userid: z.string().min(1) }),
  roles: ['admin'],
  writes: true,
  async confirm(ctx, { userid }) {
    return ctx.t('unbind.preview', await described(ctx, userid));
  },
  async run(ctx, { userid }) {
    const m = await memberToUnbind(ctx.db, userid, ctx.userId, adminCounty(ctx.member));
    ctx.undoable(await unbindMember(ctx.db, m.id));
    return { text: ctx.t('unbind.done', { name: m.name, userId: m.userId }) };
  },
});

async function described({ db, userId, member, t }: CommandContext, userid: string) {
  const m = await memberToUnbind(db, userid, userId, adminCounty(member));
  return {
    name: m.name,
    userId: m.userId,
    roles:
      splitRoles(m.roles)
        .map((r) => t(`role.${r}`))
        .join('、') || '—',
    unit: m.unit?.name ?? '—',
  };
}
