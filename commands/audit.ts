import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { defineCommand } from '../src/bot/spec.ts';
import { parseCount } from '../src/core/words.ts';
import { adminCounty, latestAuditEvents } from '../src/domain/members.ts';
import { neutral } from '../src/core/neutral.ts';

const DEFAULT = 10;
const MAX = 50;
const MARK: Record<string, string> = {
  ok: '✅',
  pending: '⏳',
  denied: '🚫',
  invalid: '⚠️',
  unknown: '❓',
  error: '❌',
};

/** /日志: the latest audit events, one compact line each. */
export default defineCommand({
  name: 'audit',
  aliases: ['日志'],
  summary: 'audit.summary',
  usage: 'audit.usage',
  examples: ['/日志', '/日志 30'],
  params: ['n'],
  args: z.object({
    n: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return DEFAULT;
        const n = parseCount(v);
        return n && n > 0 ? Math.min(n, MAX) : (ctx.addIssue({ code: 'custom', message: 'audit.bad_n' }), z.NEVER);
      }),
  }),
  roles: ['admin'],
  writes: false,
  async run({ db, t, timeZone, commands, member }, { n }) {
    const events = await latestAuditEvents(db, n, adminCounty(member));
    if (!events.length) return { text: t('audit.none') };
    const label = (name: string | null) => {
      const spec = name ? commands.find((s) => s.name === name) : undefined;
      return name ? `/${spec?.aliases[0] ?? name}` : '—';
    };
    const lines = events.map((e) =>
      [
        minuteIn(e.at, timeZone).slice(5),
        neutral(e.actorName ?? '—'),
        label(e.command),
        `${MARK[e.outcome] ?? e.outcome}${e.action === 'confirmed' ? t('audit.confirmed') : ''}${e.undoneAt ? ' ↩️' : ''}`,
      ].join(' '),
    );
    return { text: [t('audit.title', { n: events.length }), ...lines, t('audit.legend')].join('\n') };
  },
});
