import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { findUnit } from '../src/domain/directory.ts';
import { parseRole } from '../src/core/roles.ts';
import { adminCounty, bindMember } from '../src/domain/members.ts';
import { resolveEnterprise } from '../src/domain/policies.ts';

/** /绑定: an admin registers a member, or adds a role / moves them to another unit. */
export default defineCommand({
  name: 'bind',
  aliases: ['绑定'],
  summary: 'bind.summary',
  usage: 'bind.usage',
  examples: ['/绑定 zhangsan 联络员 应急局', '/绑定 lisi 联络员 东坪', '/绑定 wangwu 企业 91430923N38FJPY8B2'],
  params: ['userid', 'role', 'unit'],
  args: z.object({
    // WeCom userids: letters, digits and _ - . @, at most 64.
    userid: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'bind.bad_userid'),
    role: z
      .string()
      .transform((v, ctx) => parseRole(v) ?? (ctx.addIssue({ code: 'custom', message: 'bind.bad_role' }), z.NEVER)),
    unit: z.string(),
  }),
  roles: ['admin'],
  writes: true,
  async run(ctx, { userid, role, unit: word }) {
    const { db, campaign, t } = ctx;
    // An enterprise contact is bound to an enterprise of the ledger; everyone else to a unit.
    const enterprise = role === 'enterprise' ? await resolveEnterprise(db, campaign.countyCode, word) : undefined;
    const unit = enterprise ? undefined : await findUnit(db, campaign.countyCode, word);
    if (!enterprise && !unit) throw new UserError('bind.no_unit', { word });
    const r = await bindMember(db, {
      userId: userid,
      role,
      unit: unit ?? undefined,
      enterprise,
      county: adminCounty(ctx.member),
    });
    ctx.undoable(r.undo);
    const member = await db.member.findUniqueOrThrow({
      where: { userId: userid },
      include: { unit: true, enterprise: true },
    });
    const lines = [
      t(r.created ? 'bind.created' : 'bind.updated', { userId: userid, name: member.name }),
      t('whoami.roles', { roles: r.roles.map((x) => t(`role.${x}`)).join('、') }),
      t('whoami.unit', { unit: member.unit?.name ?? '—' }),
    ];
    if (member.enterprise) lines.push(t('bind.enterprise', { enterprise: member.enterprise.name }));
    lines.push(t('bind.next'));
    return { text: lines.join('\n') };
  },
});
