import { join } from 'node:path';
import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { sendToAsker } from '../src/bot/attachments.ts';
import { defineCommand, specNamed, type CommandContext } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { neutral } from '../src/core/neutral.ts';
import { parseCount, parseDay } from '../src/core/words.ts';
import { outputDir, stamped } from '../src/domain/attachments.ts';
import { argWords, auditEntries, writeAuditLog, type AuditEntry, type AuditFilter } from '../src/domain/audit-log.ts';
import { adminCounty } from '../src/domain/members.ts';

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
const ALL = new Set(['全部', 'all']);
const FILE = new Set(['文件', '导出', 'file']);

interface Query {
  n: number;
  filter: AuditFilter;
  all: boolean;
  file: boolean;
}

/** Reads the words after /日志: a count, 全部, 文件, a record (#57), a day or range, a command, a member. */
async function query(ctx: CommandContext, words: string[]): Promise<Query> {
  const q: Query = { n: DEFAULT, filter: {}, all: false, file: false };
  for (const word of words) {
    const lower = word.toLowerCase();
    if (ALL.has(lower)) q.all = true;
    else if (FILE.has(lower)) q.file = true;
    else if (/^[#＃]/.test(word)) {
      const id = parseCount(word.slice(1));
      if (!id) throw new UserError('audit.bad_word', { word });
      q.filter.record = id;
    } else if (/^\d+$/.test(word) || parseCount(word) !== null) {
      const n = parseCount(word);
      if (!n || n < 1) throw new UserError('audit.bad_n', { value: word, max: MAX });
      q.n = Math.min(n, MAX);
    } else if (dayRange(word, ctx.today)) {
      const [from, to] = dayRange(word, ctx.today)!;
      q.filter.from = from;
      q.filter.to = to;
    } else {
      const spec = specNamed(ctx.commands, word);
      const actor = spec ? null : await memberOf(ctx, word);
      if (spec) q.filter.commands = [...(q.filter.commands ?? []), spec.name];
      else if (actor) q.filter.actors = [...(q.filter.actors ?? []), actor];
      else throw new UserError('audit.bad_word', { word });
      // A command or member asked for by name is listed whole, reads included.
      q.all ||= !spec?.writes;
    }
  }
  return q;
}

/** A day (11月1日) or a range of days (11月1日~11月29日, 2026-11-01至2026-11-29). */
function dayRange(word: string, today: string): [string, string] | null {
  const parts = word.split(/[~～至到]/);
  if (parts.length > 2) return null;
  // The log holds the past: a day without a year is the last such day.
  const days = parts.map((p) => parseDay(p, today, 'backward'));
  if (days.some((d) => d === null)) return null;
  const [from, to = from] = days as string[];
  return from! <= to! ? [from!, to!] : [to!, from!];
}

async function memberOf(ctx: CommandContext, word: string): Promise<string | null> {
  const county = adminCounty(ctx.member);
  const m = await ctx.db.member.findFirst({
    where: { OR: [{ userId: word }, { name: word }], ...(county ? { unit: { countyCode: county } } : {}) },
    select: { userId: true },
  });
  return m?.userId ?? null;
}

/** /日志: the audit trail, writes first with their arguments; filters; the whole log as a file. */
export default defineCommand({
  name: 'audit',
  aliases: ['日志'],
  summary: 'audit.summary',
  usage: 'audit.usage',
  examples: ['/日志', '/日志 30', '/日志 绑定', '/日志 demo-admin 11月1日~今天', '/日志 #14', '/日志 文件'],
  params: ['...words'],
  args: z.object({ words: z.string().optional() }),
  roles: ['admin'],
  writes: false,
  async run(ctx, { words }) {
    const { db, t, timeZone, commands, member, clock } = ctx;
    const q = await query(ctx, (words ?? '').split(/\s+/).filter(Boolean));
    const writes = new Set(commands.filter((s) => s.writes || s.confirm).map((s) => s.name));
    const entries = await auditEntries(db, { county: adminCounty(member), filter: q.filter, writes, timeZone });
    const spec = (name: string | null) => (name ? commands.find((s) => s.name === name) : undefined);
    /**
     * The command with its recorded arguments (secrets as ***), or the line as typed where none were;
     * what members typed is neutralised, the secrets' mask is ours.
     */
    const what = (e: AuditEntry) => {
      const s = spec(e.command);
      const label = e.command ? `/${s?.aliases[0] ?? e.command}` : '';
      if (!e.args) return neutral((e.text ?? '').slice(0, 60)) || label || '—';
      const typed = Object.fromEntries(
        Object.entries(e.args).map(([k, v]) => [k, typeof v === 'string' && v !== '***' ? neutral(v) : v]),
      );
      // /绑定 records its role as { role, add }: shown as typed, 管理员 or +管理员.
      const role = typed.role as string | { role: string; add: boolean } | undefined;
      const args =
        role === undefined
          ? typed
          : typeof role === 'string'
            ? { ...typed, role: t(`role.${role}`) }
            : { ...typed, role: `${role.add ? '+' : ''}${t(`role.${role.role}`)}` };
      return [label, argWords(args, s?.params ?? [])].filter(Boolean).join(' ');
    };
    if (q.file) {
      const now = clock.now();
      const name = `${stamped(t('audit.file_name'), minuteIn(now, timeZone))}.xlsx`;
      const path = join(await outputDir(db), name);
      await writeAuditLog(entries, { t, timeZone, what, mark: (e) => t(`audit.outcome_${e.outcome}`) }, path);
      const done = t('audit.file_done', { count: entries.length });
      return { text: [done, ...(await sendToAsker(ctx, { type: 'file', path, name }))].join('\n') };
    }
    const listed = (q.all ? entries : entries.filter((e) => e.write)).slice(0, q.n);
    if (!listed.length) return { text: t('audit.none') };
    const lines = listed.map((e) =>
      [
        minuteIn(e.at, timeZone).slice(5),
        neutral(e.actorName ?? '—'),
        what(e),
        `${MARK[e.outcome] ?? e.outcome}${e.confirmed ? t('audit.confirmed') : ''}${e.undone ? ' ↩️' : ''}`,
      ].join(' '),
    );
    const others = q.all ? 0 : entries.length - entries.filter((e) => e.write).length;
    return {
      text: [
        t('audit.title', { n: listed.length }),
        ...lines,
        ...(others ? [t('audit.others', { count: others })] : []),
        t('audit.legend'),
      ].join('\n'),
    };
  },
});
