import { z } from 'zod';
import { defineCommand, type ReplyButton } from '../src/bot/spec.ts';
import { MAX_BUTTONS } from '../src/core/notice.ts';
import { UserError } from '../src/core/errors.ts';
import { findEnterprise } from '../src/domain/directory.ts';
import { isArchived, mayConfirm, parseMonth, visibleVisits, visitLabel } from '../src/domain/visits.ts';
import { neutral } from '../src/core/neutral.ts';

/** How many visits one reply lists, newest first. */
const SHOWN = 20;

/** /走访记录: prevention visits the caller may see, by enterprise or month, with their state. */
export default defineCommand({
  name: 'visits',
  aliases: ['走访记录'],
  summary: 'visits.summary',
  usage: 'visits.usage',
  examples: ['/走访记录', '/走访记录 2026-11', '/走访记录 鑫达化工'],
  params: ['filter'],
  args: z.object({ filter: z.string().optional() }),
  roles: ['insurer', 'leader', 'liaison', 'viewer', 'agency', 'enterprise'],
  figures: true,
  writes: false,
  async run({ db, t, member, campaign, today }, { filter }) {
    const scope = await visibleVisits(db, campaign.countyCode, member!);
    let narrow: object = {};
    if (filter) {
      const month = parseMonth(filter, today);
      if (month) narrow = { visitedOn: { startsWith: month } };
      else {
        // One enterprise when the words name one; otherwise every enterprise whose name has them.
        const found = await findEnterprise(db, campaign.countyCode, filter);
        if (found.match) narrow = { enterpriseId: found.match.id };
        else if (found.candidates.length) narrow = { enterprise: { name: { contains: filter } } };
        else throw new UserError('visits.no_match', { word: filter });
      }
    }
    const where = { AND: [scope, narrow, { withdrawnAt: null }] };
    const [total, archived, visits] = await Promise.all([
      db.preventionVisit.count({ where }),
      db.preventionVisit.count({
        where: { AND: [where, { insurerConfirmedAt: { not: null }, enterpriseConfirmedAt: { not: null } }] },
      }),
      db.preventionVisit.findMany({
        where,
        include: { enterprise: true, insurer: true },
        orderBy: [{ visitedOn: 'desc' }, { id: 'desc' }],
        take: SHOWN,
      }),
    ]);
    const title = t('visits.title', { filter: filter ? `（${filter}）` : '' });
    if (!total) return { text: `${title}\n${t('visits.none')}` };
    const showInsurer = !member!.roles.includes('insurer');
    const lines = [title, t('visits.count', { total, archived, pending: total - archived })];
    for (const v of visits) {
      const state = isArchived(v) ? t('visits.archived') : t('visits.pending');
      const insurer = showInsurer ? ` · ${neutral(v.insurer.aliases.split('|')[0] || v.insurer.name)}` : '';
      lines.push(`${visitLabel(t, v).text}${insurer} ${state}`);
    }
    if (total > SHOWN) lines.push(t('visits.more', { shown: SHOWN }));
    // 确认 buttons, where the channel has cards, for the listed visits the caller may confirm.
    const buttons: ReplyButton[] = [];
    const may = new Map<number, boolean>();
    for (const v of visits) {
      if (v.enterpriseConfirmedAt || buttons.length === MAX_BUTTONS) continue;
      if (!may.has(v.enterpriseId)) may.set(v.enterpriseId, (await mayConfirm(db, member!, v.enterpriseId)) === null);
      if (may.get(v.enterpriseId))
        buttons.push({ label: t('card.confirm', { id: v.id }), command: `/确认 ${v.id}`, style: 'primary' });
    }
    return { text: lines.join('\n'), buttons };
  },
});
