import { z } from 'zod';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { findUnit } from '../src/domain/directory.ts';
import { parseRole, type Role } from '../src/core/roles.ts';
import { adminCounty, bindMember, bindPlan, type BindTarget } from '../src/domain/members.ts';
import { resolveEnterprise } from '../src/domain/policies.ts';

/**
 * /绑定: an admin registers a member, or sets what they are. `<role>` sets exactly that role
 * (replacing the others), `+<role>` adds one; a change that takes a role away or moves the unit
 * shows before → after and waits for /执行. /解绑 removes.
 */
export default defineCommand({
  name: 'bind',
  aliases: ['绑定'],
  summary: 'bind.summary',
  usage: 'bind.usage',
  examples: [
    '/绑定 zhangsan 联络员 应急局',
    '/绑定 zhaoliu 责任人 东坪',
    '/绑定 lisi +管理员',
    '/绑定 wangwu 企业 91430923N38FJPY8B2',
  ],
  params: ['userid', 'role', 'unit'],
  args: z.object({
    // WeCom userids: letters, digits and _ - . @, at most 64.
    userid: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'bind.bad_userid'),
    role: z.string().transform((v, ctx) => {
      const add = /^[+＋]/.test(v);
      const role = parseRole(v.replace(/^[+＋]/, ''));
      return role ? { role, add } : (ctx.addIssue({ code: 'custom', message: 'bind.bad_role' }), z.NEVER);
    }),
    unit: z.string().optional(),
  }),
  roles: ['admin'],
  writes: true,
  async confirm(ctx, args) {
    const { before, after, removes } = await bindPlan(ctx.db, await target(ctx, args));
    if (!removes || !before) return null;
    const { t } = ctx;
    const roles = (list: Role[]) => list.map((r) => t(`role.${r}`)).join('、') || '—';
    // What changes shows before → after; what stays, once.
    const change = (from: string, to: string) => (from === to ? to : `${from} → ${to}`);
    return t('bind.preview', {
      userId: args.userid,
      roles: change(roles(before.roles), roles(after.roles)),
      unit: change(before.unit ?? '—', after.unit ?? '—'),
    });
  },
  async run(ctx, args) {
    const { db, t } = ctx;
    const r = await bindMember(db, await target(ctx, args));
    ctx.undoable(r.undo);
    const member = await db.member.findUniqueOrThrow({
      where: { userId: args.userid },
      include: { unit: true, enterprise: true },
    });
    const lines = [
      t(r.created ? 'bind.created' : 'bind.updated', { userId: args.userid, name: member.name }),
      t('whoami.roles', { roles: r.roles.map((x) => t(`role.${x}`)).join('、') }),
      t('whoami.unit', { unit: member.unit?.name ?? '—' }),
    ];
    if (member.enterprise) lines.push(t('bind.enterprise', { enterprise: member.enterprise.name }));
    lines.push(t('bind.next'));
    return { text: lines.join('\n') };
  },
});

/** The binding asked for: an enterprise contact to an enterprise of the ledger, everyone else to a unit (or their own). */
async function target(
  ctx: CommandContext,
  { userid, role: { role, add }, unit: word }: { userid: string; role: { role: Role; add: boolean }; unit?: string },
): Promise<BindTarget> {
  const { db, campaign, t } = ctx;
  const base = { userId: userid, role, add, county: adminCounty(ctx.member), by: ctx.userId };
  if (role === 'enterprise') {
    if (!word) throw new UserError('bus.missing_arg', { param: t('param.unit') });
    return { ...base, enterprise: await resolveEnterprise(db, campaign.countyCode, word) };
  }
  if (!word) return base;
  const unit = await findUnit(db, campaign.countyCode, word);
  if (!unit) throw new UserError('bind.no_unit', { word });
  return { ...base, unit };
}
