import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { toldLines } from '../src/core/format.ts';
import { merged } from '../src/core/notice.ts';
import { parseCount } from '../src/core/words.ts';
import { claimLabel, findClaim } from '../src/domain/claims.ts';
import { hasInsured, parseFindingKind, recordFinding } from '../src/domain/findings.ts';
import { resolveEnterprise, resolveInsurer } from '../src/domain/policies.ts';
import { neutral, trusted } from '../src/core/neutral.ts';

/**
 * /发现: a third-party agency records a finding on an insurer's service, about an enterprise it
 * insures or insured (or one of its claims, as #id); the insurer and the county office are told,
 * and it counts in the insurer's figures (/排名).
 */
export default defineCommand({
  name: 'finding',
  aliases: ['发现'],
  summary: 'finding.summary',
  usage: 'finding.usage',
  examples: ['/发现 平安 未走访 东坪众诚化工 投保半年未见事故预防走访记录', '/发现 平安 理赔 #1 报案后逾期未赔付'],
  params: ['insurer', 'kind', 'subject', '...detail'],
  args: z.object({
    insurer: z.string(),
    kind: z
      .string()
      .refine((s) => parseFindingKind(s) !== null, 'finding.bad_kind')
      .transform((s) => parseFindingKind(s)!),
    subject: z.string(),
    detail: z.string().max(500, 'finding.text_too_long'),
  }),
  roles: ['agency'],
  writes: true,
  async run(ctx, a) {
    const { db, t, member, campaign, clock } = ctx;
    const agency = member!.unit;
    if (agency?.kind !== 'third_party') throw new UserError('finding.not_agency', { unit: agency?.name ?? '—' });
    const insurer = await resolveInsurer(db, campaign.countyCode, a.insurer, 'finding.no_insurer');
    // A subject written as #id is one of the insurer's claims; otherwise an enterprise it insures or insured.
    let enterprise: { id: number; name: string };
    let claimId: number | null = null;
    let subject: string;
    if (/^[#＃]\d+$/.test(a.subject)) {
      const id = parseCount(a.subject.slice(1));
      if (!id) throw new UserError('claim.no_claim', { id: a.subject });
      const claim = await findClaim(db, campaign.countyCode, id);
      if (claim.insurerId !== insurer.id)
        throw new UserError('finding.other_insurer', { id: claim.id, insurer: claim.insurer.name });
      ({ enterprise } = claim);
      claimId = claim.id;
      subject = claimLabel(t, claim).text;
    } else {
      enterprise = await resolveEnterprise(db, campaign.countyCode, a.subject);
      if (!(await hasInsured(db, insurer.id, enterprise.id)))
        throw new UserError('finding.not_insured', { enterprise: enterprise.name, insurer: insurer.name });
      subject = neutral(enterprise.name);
    }
    const finding = await recordFinding(db, {
      countyCode: campaign.countyCode,
      agencyId: agency.id,
      insurerId: insurer.id,
      kind: a.kind,
      enterpriseId: enterprise.id,
      claimId,
      text: a.detail,
      by: ctx.userId,
      at: clock.now(),
    });
    ctx.undoable({ model: 'agencyFinding', action: 'withdraw', where: { id: finding.id } });
    const notice = {
      markdown: [
        ctx.groupT('finding.notice', {
          agency: agency.name,
          insurer: insurer.name,
          kind: ctx.groupT(`finding.kind.${a.kind}`),
          subject: trusted(subject),
        }),
        ctx.groupT('finding.text', { text: a.detail }),
      ].join('\n'),
    };
    const told = merged([await ctx.tell({ unit: insurer.id }, notice), await ctx.tell('office', notice)]);
    return {
      text: [
        t('finding.recorded', {
          id: finding.id,
          insurer: insurer.name,
          kind: t(`finding.kind.${a.kind}`),
          subject: trusted(subject),
        }),
        t('finding.text', { text: a.detail }),
        t('finding.counted'),
        ...toldLines(t, told),
      ].join('\n'),
    };
  },
});
