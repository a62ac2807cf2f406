import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { recordId } from '../src/core/args.ts';
import { parseCount } from '../src/core/words.ts';
import { isArchived, mayConfirm, visitLabel } from '../src/domain/visits.ts';
import { minuteIn } from '../src/clock.ts';
import { isLocale, translator } from '../src/i18n.ts';
import { toldLines } from '../src/core/format.ts';
import type { Told } from '../src/core/notice.ts';

/** '5 讲解清楚' → satisfaction 5 and the comment; a first word that is a number must be 1–5. */
const feedback = z
  .string()
  .optional()
  .transform((text, ctx) => {
    const [first = '', ...rest] = (text ?? '').trim().split(/\s+/);
    const score = parseCount(first.replace(/(分|星|星级)$/, ''));
    if (score === null) return { satisfaction: null, comment: text?.trim() || null };
    if (score < 1 || score > 5) {
      ctx.issues.push({ code: 'custom', message: 'confirm.bad_satisfaction', input: text });
      return z.NEVER;
    }
    return { satisfaction: score, comment: rest.join(' ') || null };
  });

/** /确认: the enterprise side confirms an insurer's visit; with both sides confirmed it is archived. */
export default defineCommand({
  name: 'confirm',
  aliases: ['确认'],
  summary: 'confirm.summary',
  usage: 'confirm.usage',
  examples: ['/确认 12 5 讲解清楚，隐患已整改', '/确认 12'],
  params: ['visit', '...feedback'],
  args: z.object({
    visit: recordId('confirm.bad_visit'),
    feedback,
  }),
  // Insurers may call it, to be told why they cannot: their side is confirmed by /走访 itself.
  roles: ['enterprise', 'liaison', 'insurer'],
  writes: true,
  async run(ctx, { visit: id, feedback: { satisfaction, comment } }) {
    const { db, t, member, campaign, clock, userId } = ctx;
    const visit = await db.preventionVisit.findFirst({
      where: { id, enterprise: { countyCode: campaign.countyCode } },
      include: { enterprise: true, insurer: true },
    });
    if (!visit) throw new UserError('confirm.no_visit', { id });
    const refusal = await mayConfirm(db, member!, visit.enterpriseId);
    if (refusal?.reason === 'insurer') throw new UserError('confirm.insurer', { id, insurer: visit.insurer.name });
    if (refusal?.reason === 'has_contact')
      throw new UserError('confirm.has_contact', {
        enterprise: visit.enterprise.name,
        names: refusal.contacts.join('、'),
      });
    if (refusal)
      throw new UserError('confirm.not_responsible', {
        enterprise: visit.enterprise.name,
        units: refusal.units.join('、'),
      });
    if (visit.enterpriseConfirmedAt) {
      const by =
        visit.enterpriseConfirmedBy && (await db.member.findUnique({ where: { userId: visit.enterpriseConfirmedBy } }));
      throw new UserError('confirm.already', {
        id,
        by: by ? by.name : (visit.enterpriseConfirmedBy ?? '—'),
        time: minuteIn(visit.enterpriseConfirmedAt, ctx.timeZone),
      });
    }
    const updated = await db.preventionVisit.update({
      where: { id },
      data: { enterpriseConfirmedAt: clock.now(), enterpriseConfirmedBy: userId, satisfaction, comment },
    });
    ctx.undoable({
      model: 'preventionVisit',
      action: 'update',
      where: { id },
      data: {
        enterpriseConfirmedAt: null,
        enterpriseConfirmedBy: null,
        satisfaction: visit.satisfaction,
        comment: visit.comment,
      },
    });
    const label = visitLabel(t, visit);
    const archived = isArchived(updated);
    // The insurer who recorded it hears that its record is complete.
    const recorder = await db.member.findUnique({ where: { userId: visit.recordedBy } });
    let told: Told | null = null;
    if (recorder?.active) {
      const tr = translator(isLocale(recorder.locale) ? recorder.locale : ctx.locale);
      told = await ctx.tell(
        { member: recorder.userId },
        {
          markdown: tr(archived ? 'confirm.notice_archived' : 'confirm.notice', {
            visit: visitLabel(tr, visit),
            by: member!.name,
          }),
        },
      );
    }
    const lines = [t('confirm.done', { visit: label })];
    if (satisfaction !== null) lines.push(t('confirm.satisfaction', { score: satisfaction }));
    if (comment) lines.push(t('confirm.comment', { comment }));
    lines.push(t(archived ? 'confirm.archived' : 'confirm.awaiting_insurer'));
    if (told) lines.push(...toldLines(t, told));
    return { text: lines.join('\n') };
  },
});
