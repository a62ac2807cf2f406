import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { BULK_TRANSACTION } from '../db/transactions.ts';
import { joinRoles, parseRole, ROLES, splitRoles } from '../core/roles.ts';
import { roleFitsUnit } from './members.ts';
import { LOCALES } from '../i18n.ts';
import { CsvSyntaxError, parseCsv } from './csv.ts';

// Members and group chats of a deployment, from one CSV file with a header row (each unit's people:
// roles liaison, responsible (责任人) and in_charge (分管领导), in their unit):
//   kind,id,name,roles,unit,locale,webhook_key,purpose
//   member,zhangsan,张三,liaison,yjj,zh-CN,,
//   chat,wrOgAAAA,应急局工作群,,yjj,,0a1b2c-key,unit
// Contacts are data each deployment enters; none ship with the bot.

const blank = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
const row = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('member'),
    id: z.string().min(1, 'needs a WeCom userid'),
    name: z.string().min(1, 'needs a name'),
    roles: z.string().transform((v, ctx) => {
      const words = v.split(/[|;、\s]+/).filter(Boolean);
      const roles = words.map(parseRole);
      if (!words.length || roles.includes(null))
        ctx.addIssue({ code: 'custom', message: `roles must be some of ${ROLES.join('|')}` });
      return joinRoles(roles.filter((r) => r !== null));
    }),
    unit: z.string().optional(),
    locale: z.enum(LOCALES).optional(),
  }),
  z
    .object({
      kind: z.literal('chat'),
      id: z.string().optional(),
      name: z.string().min(1, 'needs a name'),
      unit: z.string().optional(),
      webhook_key: z.string().optional(),
      purpose: z.enum(['unit', 'leaders', 'admins']).default('unit'),
    })
    .refine((c) => c.id || c.webhook_key, { message: 'a chat needs its chatid (id) or a webhook_key' }),
]);

export interface MembersReport {
  members: number;
  chats: number;
  rejected: { line: number; reason: string }[];
}

/** Loads the file; a bad row is reported with its line and skipped, the others are applied together. */
export async function loadMembersFile(db: Db, text: string, countyCode: string): Promise<MembersReport> {
  let rows: string[][];
  try {
    rows = parseCsv(text);
  } catch (e) {
    // A broken quote: nothing of the file is loaded.
    if (e instanceof CsvSyntaxError)
      return { members: 0, chats: 0, rejected: [{ line: e.row, reason: 'unmatched quote; nothing was loaded' }] };
    throw e;
  }
  const [header, ...lines] = rows;
  if (!header) return { members: 0, chats: 0, rejected: [{ line: 1, reason: 'empty file' }] };
  const columns = header.map((h) => h.trim().toLowerCase());
  const units = new Map((await db.unit.findMany({ where: { countyCode } })).map((u) => [u.code, u]));
  const report: MembersReport = { members: 0, chats: 0, rejected: [] };
  await db.$transaction(async (tx) => {
    for (const [i, cells] of lines.entries()) {
      const line = i + 2;
      const record = Object.fromEntries(columns.map((c, j) => [c, blank(cells[j])]));
      const parsed = row.safeParse(record);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        report.rejected.push({ line, reason: `${issue.path.join('.') || 'row'}: ${issue.message}` });
        continue;
      }
      const r = parsed.data;
      const unit = r.unit ? units.get(r.unit) : undefined;
      const unitId = unit?.id;
      if (r.unit && unitId === undefined) {
        report.rejected.push({ line, reason: `unit: unknown unit code ${r.unit}` });
        continue;
      }
      // A unit's people (联络员, 责任人, 分管领导) sit in a department, township or the commission office; an insurer contact in an insurer.
      const misfit =
        r.kind === 'member' ? splitRoles(r.roles).find((role) => !roleFitsUnit(role, unit ?? null)) : undefined;
      if (misfit) {
        report.rejected.push({
          line,
          reason: unit ? `unit: ${misfit} cannot sit in ${r.unit} (${unit.kind})` : `unit: ${misfit} needs a unit`,
        });
        continue;
      }
      if (r.kind === 'member') {
        const data = { name: r.name, roles: r.roles, unitId: unitId ?? null, locale: r.locale ?? null, active: true };
        await tx.member.upsert({ where: { userId: r.id }, create: { userId: r.id, ...data }, update: data });
        report.members++;
      } else {
        const data = { name: r.name, unitId: unitId ?? null, webhookKey: r.webhook_key ?? null, purpose: r.purpose };
        const existing = await tx.groupChat.findFirst({
          where: {
            OR: [...(r.id ? [{ chatId: r.id }] : []), ...(r.webhook_key ? [{ webhookKey: r.webhook_key }] : [])],
          },
        });
        if (existing)
          await tx.groupChat.update({ where: { id: existing.id }, data: { ...data, chatId: r.id ?? existing.chatId } });
        else await tx.groupChat.create({ data: { ...data, chatId: r.id ?? null } });
        report.chats++;
      }
    }
  }, BULK_TRANSACTION);
  return report;
}
