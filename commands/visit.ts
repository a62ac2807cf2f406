import { z } from 'zod';
import { defineCommand, type CommandContext } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { dayArg } from '../src/core/args.ts';
import { toldLines } from '../src/core/format.ts';
import { merged, type Told } from '../src/core/notice.ts';
import { resolveEnterprise } from '../src/domain/policies.ts';
import { enterpriseSide, parseServiceType, recordVisit, visitLabel } from '../src/domain/visits.ts';
import { isLocale, translator } from '../src/i18n.ts';

/** /走访: an insurer records a prevention visit that took place; the enterprise side confirms it with /确认. */
export default defineCommand({
  name: 'visit',
  aliases: ['走访'],
  summary: 'visit.summary',
  usage: 'visit.usage',
  examples: ['/走访 东坪鑫达化工 排查 昨天 张工 发现2处隐患', '/走访 安泰运输 演练 11月20日'],
  params: ['enterprise', 'service', 'date', 'staff', '...findings'],
  args: ({ today }) =>
    z.object({
      enterprise: z.string(),
      service: z
        .string()
        .refine((s) => parseServiceType(s) !== null, 'visit.bad_service')
        .transform((s) => parseServiceType(s)!),
      date: dayArg(today, 'backward', 'visit.bad_date'),
      staff: z.string().optional(),
      findings: z.string().optional(),
    }),
  roles: ['insurer'],
  writes: true,
  async run(ctx, args) {
    const { db, t, member, campaign, today, clock } = ctx;
    const insurer = member!.unit;
    if (insurer?.kind !== 'insurer') throw new UserError('visit.not_insurer', { unit: insurer?.name ?? '—' });
    const enterprise = await resolveEnterprise(db, campaign.countyCode, args.enterprise);
    const out = await recordVisit(db, {
      insurerId: insurer.id,
      enterpriseId: enterprise.id,
      serviceType: args.service,
      visitedOn: args.date,
      staff: args.staff ?? null,
      findings: args.findings ?? null,
      by: ctx.userId,
      at: clock.now(),
      today,
    });
    if (out.refusal?.reason === 'future') throw new UserError('visit.future', { date: args.date, today });
    if (out.refusal) {
      const instead = out.refusal.insuredBy.length
        ? t('visit.insured_by', { insurers: out.refusal.insuredBy.join('、') })
        : t('visit.uninsured');
      throw new UserError('visit.not_insured', {
        enterprise: enterprise.name,
        date: args.date,
        insurer: insurer.name,
        instead,
      });
    }
    const visit = { ...out.visit!, enterprise };
    ctx.undoable({ model: 'preventionVisit', action: 'delete', where: { id: visit.id } });

    const lines = [t('visit.recorded', { visit: visitLabel(t, visit) })];
    if (visit.staff) lines.push(t('visit.staff', { staff: visit.staff }));
    if (visit.findings) lines.push(t('visit.findings', { findings: visit.findings }));
    lines.push(...(await notifyEnterpriseSide(ctx, visit, insurer.name)));
    // In a group chat the enterprise side may be present: its 确认 runs as whoever presses it.
    return {
      text: lines.join('\n'),
      buttons: ctx.chatId
        ? [{ label: t('card.confirm', { id: visit.id }), command: `/确认 ${visit.id}`, style: 'primary' }]
        : [],
    };
  },
});

/**
 * Tells the enterprise side a visit awaits its confirmation: its own contacts by app message, or
 * else its township's group chat. Returns the reply lines saying who confirms and who was told.
 */
async function notifyEnterpriseSide(
  ctx: CommandContext,
  visit: Parameters<typeof visitLabel>[1] & { enterpriseId: number; staff: string | null; findings: string | null },
  insurer: string,
): Promise<string[]> {
  const { db, t } = ctx;
  const side = await enterpriseSide(db, visit.enterpriseId);
  const notice = (tr: typeof t) =>
    [
      tr('visit.notice', { insurer, visit: visitLabel(tr, visit) }),
      ...(visit.staff ? [tr('visit.staff', { staff: visit.staff })] : []),
      ...(visit.findings ? [tr('visit.findings', { findings: visit.findings })] : []),
      tr('visit.notice_how', { id: visit.id }),
    ].join('\n');
  if (side.contacts.length) {
    const told: Told[] = [];
    for (const c of side.contacts) {
      const tr = isLocale(c.locale) ? translator(c.locale) : ctx.groupT;
      // The contact confirms with one press of the app card's button (the same /确认 as typing it).
      told.push(
        await ctx.tell(
          { member: c.userId },
          {
            markdown: notice(tr),
            buttons: [{ label: tr('card.confirm', { id: visit.id }), command: `/确认 ${visit.id}`, style: 'primary' }],
          },
        ),
      );
    }
    const names = side.contacts.map((c) => c.name).join('、');
    return [t('visit.confirm_by_contact', { names, id: visit.id }), ...toldLines(t, merged(told))];
  }
  const units = [side.township.name, ...side.leadUnits.map((u) => u.name)].join('、');
  const told = await ctx.tell({ unit: side.township.id }, { markdown: notice(ctx.groupT) });
  return [t('visit.confirm_by_liaison', { units, id: visit.id }), ...toldLines(t, told)];
}
