import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { claimLine, LATEST_DISPUTE, payByOf } from '../src/domain/claims.ts';
import { findInsurer } from '../src/domain/directory.ts';
import { lookupScope } from '../src/domain/lookup.ts';

/** At most this many claims in a reply; the count says how many there are. */
const SHOWN = 20;

/** /理赔记录: claims within the asker's scope, newest first: all, one insurer's, the overdue ones, or those in dispute. */
export default defineCommand({
  name: 'claims',
  aliases: ['理赔记录'],
  summary: 'claims.summary',
  usage: 'claims.usage',
  examples: ['/理赔记录', '/理赔记录 逾期', '/理赔记录 争议', '/理赔记录 平安'],
  params: ['filter'],
  args: z.object({ filter: z.string().optional() }),
  roles: ['leader', 'viewer', 'agency', 'insurer', 'liaison'],
  figures: true,
  writes: false,
  async run({ db, t, member, campaign, today }, { filter }) {
    const scope = await lookupScope(db, member!);
    const within =
      scope === 'all'
        ? []
        : [
            ...(scope.where.length ? [{ enterprise: { OR: scope.where } }] : []),
            ...(scope.insurerId !== null ? [{ insurerId: scope.insurerId }] : []),
          ];
    const where: Record<string, unknown> = {
      countyCode: campaign.countyCode,
      withdrawnAt: null,
      ...(scope === 'all' ? {} : { OR: within.length ? within : [{ id: -1 }] }),
    };
    const overdueOnly = filter === '逾期';
    if (filter === '争议') where.disputes = { some: { closedAt: null, withdrawnAt: null } };
    else if (overdueOnly) where.paidOn = null;
    else if (filter) {
      const insurer = await findInsurer(db, campaign.countyCode, filter);
      if (!insurer) throw new UserError('claims.bad_filter', { value: filter });
      where.insurerId = insurer.id;
    }
    const claims = await db.claim.findMany({
      where,
      include: {
        enterprise: { select: { name: true } },
        insurer: { select: { name: true } },
        disputes: LATEST_DISPUTE,
      },
      orderBy: [{ reportedOn: 'desc' }, { id: 'desc' }],
      // Overdue is judged against the limit of each report day: unpaid ones are read (bounded) and judged here.
      take: overdueOnly ? 500 : SHOWN + 1,
    });
    const lines: string[] = [];
    const dueOf = payByOf(db);
    for (const c of claims) {
      const due = c.paidOn ? null : await dueOf(c.reportedOn);
      if (overdueOnly && !(due !== null && due < today)) continue;
      lines.push(claimLine(t, c, due, today));
    }
    if (!lines.length) return { text: t('claims.none') };
    const shown = lines.slice(0, SHOWN);
    return {
      text: [
        t('claims.title', { count: shown.length }),
        ...shown,
        ...(lines.length > SHOWN ? [t('claims.more', { shown: SHOWN })] : []),
      ].join('\n'),
    };
  },
});
