import { z } from 'zod';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { toldLines } from '../src/core/format.ts';
import { merged } from '../src/core/notice.ts';
import type { Translate } from '../src/i18n.ts';
import { handOver, planHandover, type HandoverPlan } from '../src/domain/handover.ts';
import { adminCounty } from '../src/domain/members.ts';

const userid = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'bind.bad_userid');

/**
 * /交接: a leaving member of a unit passes their unit roles (联络员, 责任人, 分管领导) and the open
 * items they hold to a successor of the same unit, after /执行; both are told. A member hands over
 * their own (`/交接 <successor>`); an admin anyone's (`/交接 <leaving> <successor>`).
 */
export default defineCommand({
  name: 'handover',
  aliases: ['交接'],
  summary: 'handover.summary',
  usage: 'handover.usage',
  examples: ['/交接 demo-responsible-dongping'],
  params: ['userid', 'successor'],
  args: z.object({ userid, successor: userid.optional() }),
  roles: ['liaison'],
  writes: true,
  async confirm(ctx, args) {
    const { t } = ctx;
    const p = await plan(ctx, args);
    return [
      t('handover.preview', {
        leaver: p.leaver.name,
        successor: p.successor.name,
        unit: p.unit.name,
        roles: roleWords(t, p),
        count: p.count,
      }),
      t(p.keeps.length ? 'handover.keeps' : 'handover.leaves', {
        leaver: p.leaver.name,
        roles: p.keeps.map((r) => t(`role.${r}`)).join('、'),
      }),
    ].join('\n');
  },
  async run(ctx, args) {
    const { t, groupT } = ctx;
    const p = await plan(ctx, args);
    for (const op of await handOver(ctx.db, p)) ctx.undoable(op);
    const items = (tr: Translate) => [
      ...p.items.map((o) => tr('handover.item', { id: o.id, title: o.title, due: o.dueOn })),
      ...(p.count > p.items.length ? [tr('handover.more', { count: p.count - p.items.length })] : []),
    ];
    const told = merged([
      await ctx.tell(
        { member: p.successor.userId },
        {
          markdown: [
            groupT('handover.to_successor', {
              leaver: p.leaver.name,
              unit: p.unit.name,
              roles: roleWords(groupT, p),
              count: p.count,
            }),
            ...items(groupT),
            groupT('handover.successor_hint'),
          ].join('\n'),
        },
      ),
      await ctx.tell(
        { member: p.leaver.userId },
        {
          markdown: [
            groupT('handover.to_leaver', { successor: p.successor.name, roles: roleWords(groupT, p), count: p.count }),
            ...items(groupT),
          ].join('\n'),
        },
      ),
    ]);
    return {
      text: [
        t('handover.done', {
          leaver: p.leaver.name,
          successor: p.successor.name,
          unit: p.unit.name,
          roles: roleWords(t, p),
          count: p.count,
        }),
        ...items(t),
        ...toldLines(t, told),
      ].join('\n'),
    };
  },
});

const roleWords = (t: Translate, p: HandoverPlan) => p.passes.map((r) => t(`role.${r}`)).join('、');

/** The hand-over asked for: one's own to a successor, or (admins) anyone's. */
async function plan(ctx: CommandContext, args: { userid: string; successor?: string | undefined }) {
  const admin = ctx.member!.roles.includes('admin');
  const [from, to] = args.successor ? [args.userid, args.successor] : [ctx.userId, args.userid];
  if (!admin && from !== ctx.userId) throw new UserError('handover.own_only');
  return planHandover(ctx.db, from, to, adminCounty(ctx.member));
}
