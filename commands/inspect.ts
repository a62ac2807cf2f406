import { z } from 'zod';
import { defineCommand, type ParseEnv } from '../src/bot/spec.ts';
import { readDay } from '../src/core/args.ts';
import { dateShaped, parseDay } from '../src/core/words.ts';
import { toldLines } from '../src/core/format.ts';
import { resolveEnterprise, parseYuanToFen, yuan } from '../src/domain/policies.ts';
import {
  assertMayInspect,
  DEFAULT_RECTIFY_DAYS,
  isInsuranceFinding,
  findingsText,
  inspectionProgress,
  parseFindings,
  progressText,
  recordInspection,
} from '../src/domain/inspections.ts';

/** Words that start a penalty: 处罚 <decision no> <amount>. */
const PENALTY_WORDS = ['处罚', '罚款', 'penalty'];

/**
 * What follows the enterprise: its findings (未投保 摊派, or 未投保、摊派: the parser reads 、 as a
 * space), then in any order a rectification deadline and a penalty (处罚 <文号> <金额>), then a note.
 */
const findingsAndRest = (today: string) =>
  z.string().transform((text, ctx) => {
    const words = text.split(/\s+/).filter(Boolean);
    let found = 0;
    while (found < words.length && parseFindings(words.slice(0, found + 1).join('、'))) found++;
    const findings = parseFindings(words.splice(0, found).join('、'));
    if (!findings) {
      ctx.addIssue({ code: 'custom', message: 'inspect.bad_findings', params: { value: words[0] ?? '' } });
      return z.NEVER;
    }
    // 合规 with another finding: the second is not a note.
    if (words[0] && parseFindings(words[0])) {
      ctx.addIssue({ code: 'custom', message: 'inspect.bad_findings', params: { value: words.slice(0, 1).join('') } });
      return z.NEVER;
    }
    let deadline: string | null = null;
    let penalty: { no: string; fen: number } | null = null;
    while (words.length) {
      const w = words[0]!;
      if (deadline === null && (parseDay(w, today, 'forward') || dateShaped(w))) {
        deadline = readDay(w, today, 'forward', 'inspect.bad_deadline', ctx);
        if (deadline < today) {
          ctx.addIssue({ code: 'custom', message: 'inspect.past_deadline', params: { day: deadline, today } });
          return z.NEVER;
        }
        words.shift();
      } else if (penalty === null && PENALTY_WORDS.includes(w.toLowerCase())) {
        const [, no, amount] = words.splice(0, 3);
        const fen = amount === undefined ? null : parseYuanToFen(amount);
        if (!no || no.length > 60 || fen === null || fen <= 0) {
          ctx.addIssue({ code: 'custom', message: 'inspect.bad_penalty', params: { value: amount ?? '' } });
          return z.NEVER;
        }
        penalty = { no, fen };
      } else break;
    }
    const note = words.join(' ');
    if (note.length > 500) {
      ctx.addIssue({ code: 'custom', message: 'inspect.note_too_long', params: { max: 500 } });
      return z.NEVER;
    }
    return { findings, deadline, penalty, note: note || null };
  });

/** /检查: a department or township records its enforcement inspection of an enterprise (plan §三(四)). */
export default defineCommand({
  name: 'inspect',
  aliases: ['检查', '执法检查'],
  summary: 'inspect.summary',
  usage: 'inspect.usage',
  examples: [
    '/检查 东坪众诚化工 合规',
    '/检查 东坪众诚烟花 未投保、摊派 12月31日 处罚 安应急罚〔2026〕12号 5万 当场下达整改通知书',
  ],
  params: ['enterprise', '...findings'],
  args: ({ today }: ParseEnv) =>
    z.object({
      enterprise: z.string(),
      findings: findingsAndRest(today),
    }),
  roles: ['liaison'],
  writes: true,
  async run(ctx, { enterprise: word, findings: { findings, deadline, penalty, note } }) {
    const { db, campaign, t, today, clock } = ctx;
    const enterprise = await resolveEnterprise(db, campaign.countyCode, word);
    const unit = await assertMayInspect(db, ctx.member!, enterprise);
    const { inspection, owner, items } = await recordInspection(
      db,
      {
        campaignId: campaign.id,
        enterprise,
        unitId: unit.id,
        inspectedOn: today,
        findings,
        note,
        rectifyBy: deadline,
        penalty,
        by: ctx.userId,
        at: clock.now(),
      },
      ctx.groupT,
    );
    ctx.undoable({ model: 'inspection', action: 'withdraw', where: { id: inspection.id } });
    for (const o of items) ctx.undoable({ model: 'obligation', action: 'withdraw', where: { id: o.id } });
    const full = await db.enterprise.findUniqueOrThrow({
      where: { id: enterprise.id },
      include: { sector: true, township: true },
    });
    const lines = [
      t('inspect.recorded', {
        id: inspection.id,
        enterprise: full.name,
        sector: full.sector.name,
        township: full.township.name,
        date: today,
        unit: unit.name,
      }),
      t('inspect.found', { findings: findingsText(t, inspection.findings) }),
    ];
    if (deadline) lines.push(t('inspect.deadline', { date: deadline }));
    if (penalty) lines.push(t('inspect.penalty', { no: penalty.no, amount: yuan(penalty.fen / 100) }));
    if (note) lines.push(t('inspect.note', { note }));
    const progress = (await inspectionProgress(db, campaign.id, today.slice(0, 4), [unit.id]))[0];
    if (progress) lines.push(t('inspect.your_progress', { unit: unit.name, progress: progressText(t, progress) }));
    if (items.length) {
      // The responsible unit hears of its items at once; how each closes depends on its finding.
      const itemLines = (tr: typeof t) =>
        items.map((o) =>
          tr(isInsuranceFinding(o.finding) ? 'rectify.item_by_policy' : 'rectify.item_by_evidence', {
            id: o.id,
            title: o.title,
            due: o.dueOn,
            employees: full.employees,
          }),
        );
      lines.push(
        t(deadline ? 'rectify.opened' : 'rectify.opened_default', {
          unit: owner.name,
          days: DEFAULT_RECTIFY_DAYS,
        }),
        ...itemLines(t),
      );
      const told = await ctx.tell(
        { unit: owner.id },
        {
          markdown: [
            ctx.groupT('rectify.notice', { unit: unit.name, enterprise: full.name, date: today }),
            ...itemLines(ctx.groupT),
          ].join('\n'),
        },
      );
      lines.push(...toldLines(t, told));
    }
    return { text: lines.join('\n') };
  },
});
