import { z } from 'zod';
import { readDay } from '../src/core/args.ts';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { assignees } from '../src/domain/obligations.ts';
import { toldLines } from '../src/core/format.ts';
import { merged, type Told } from '../src/core/notice.ts';

/** How many unit names a preview shows before "…". */
const PREVIEW_NAMES = 5;

/**
 * /交办: an ad hoc obligation for one unit, every township, or a sector's lead department. The
 * content may contain spaces, so the due date is the last word. More than one unit waits for /执行.
 */
export default defineCommand({
  name: 'assign',
  aliases: ['交办'],
  summary: 'assign.summary',
  usage: 'assign.usage',
  examples: [
    '/交办 应急局 报送危化企业参保台账 12月10日',
    '/交办 全部乡镇 摸排辖区未参保企业 本月底',
    '/交办 建筑 督促续保 下周五',
  ],
  params: ['target', '...rest'],
  args: ({ today }) =>
    z.object({
      target: z.string(),
      rest: z.string().transform((v, ctx) => {
        const m = /^(.*\S)[\s,，、;；]+(\S+)$/.exec(v.trim());
        if (!m) return (ctx.addIssue({ code: 'custom', message: 'assign.bad_date' }), z.NEVER);
        const dueOn = readDay(m[2]!, today, 'forward', 'assign.bad_date', ctx);
        if (dueOn === z.NEVER) return z.NEVER;
        if (dueOn < today)
          return (
            ctx.addIssue({ code: 'custom', message: 'assign.past_date', params: { day: dueOn, today } }),
            z.NEVER
          );
        if (m[1]!.length > 200) return (ctx.addIssue({ code: 'custom', message: 'assign.too_long' }), z.NEVER);
        return { content: m[1]!.replace(/^["“「](.*)["”」]$/, '$1'), dueOn };
      }),
    }),
  roles: ['leader'],
  writes: true,
  async confirm(ctx, { target, rest }) {
    const { units } = await assignees(ctx, target);
    if (units.length < 2) return null;
    const names =
      units
        .slice(0, PREVIEW_NAMES)
        .map((u) => u.name)
        .join('、') + (units.length > PREVIEW_NAMES ? '…' : '');
    return ctx.t('assign.preview', { count: units.length, names, content: rest.content, due: rest.dueOn });
  },
  async run(ctx, { target, rest: { content, dueOn } }) {
    const { db, campaign, clock, t, userId } = ctx;
    const { units, sectorId } = await assignees(ctx, target);
    const ids: number[] = [];
    const told: Told[] = [];
    for (const u of units) {
      const o = await db.obligation.create({
        data: {
          campaignId: campaign.id,
          dutyId: null,
          unitId: u.id,
          sectorId,
          title: content,
          period: dueOn.slice(0, 4),
          dueOn,
          assignedBy: userId,
          events: { create: { toStatus: 'assigned', actorUserId: userId, at: clock.now() } },
        },
        include: { events: true },
      });
      ctx.undoable({ model: 'obligation', action: 'delete', where: { id: o.id } });
      ctx.undoable({ model: 'obligationEvent', action: 'delete', where: { id: o.events[0]!.id } });
      ids.push(o.id);
      const notice = ctx.groupT('assign.notice', {
        id: o.id,
        title: content,
        due: dueOn,
        by: ctx.member?.name ?? userId,
      });
      told.push(await ctx.tell({ unit: u.id }, { markdown: notice }));
    }
    const text =
      units.length === 1
        ? t('assign.done_one', { id: ids[0]!, unit: units[0]!.name, content, due: dueOn })
        : t('assign.done_many', { count: units.length, content, due: dueOn, first: ids[0]!, last: ids.at(-1)! });
    return { text: [text, ...toldLines(t, merged(told))].join('\n') };
  },
});
