import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isDay } from '../clock.ts';
import { reminderSettingsSchema } from './reminder-settings.ts';
import { assessmentSchema } from './assessment.ts';

/** The campaign that ships with the bot: the Anhua plan (安安委办发〔2021〕39号). */
export const DEFAULT_CAMPAIGN_FILE = fileURLToPath(new URL('../../prisma/campaigns/anhua.json', import.meta.url));

const day = z.string().refine(isDay, { message: 'must be a date YYYY-MM-DD' });
const code = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'must be lower-case letters, digits, _ or -' });
export const UNIT_KINDS = ['department', 'township', 'insurer', 'third_party', 'commission_office'] as const;
/** Groups a responsibility or a duty can name instead of one unit. */
const GROUPS = ['@townships', '@departments', '@insurers', '@sector-leads'] as const;
const unitRef = z.union([z.enum(GROUPS), code]);

export const campaignFileSchema = z
  .object({
    key: code,
    name: z.string().min(1),
    docNumber: z.string().min(1),
    issuer: z.string().min(1),
    issuedOn: day,
    effectiveOn: day,
    county: z.object({
      code: z.string().regex(/^\d{6}$/, { message: 'must be a 6-digit county code' }),
      name: z.string().min(1),
    }),
    sectors: z
      .array(
        z.object({
          code,
          name: z.string().min(1),
          aliases: z.array(z.string().min(1)).default([]),
          highRisk: z.boolean(),
        }),
      )
      .min(1),
    units: z
      .array(
        z.object({
          code,
          name: z.string().min(1),
          kind: z.enum(UNIT_KINDS),
          aliases: z.array(z.string().min(1)).default([]),
          statCode: z
            .string()
            .regex(/^\d{9}$/, { message: 'must be a 9-digit township code' })
            .optional(),
        }),
      )
      .min(1),
    responsibilities: z.array(
      z.object({ sectors: z.array(code).min(1), lead: code.optional(), co: z.array(unitRef).default([]) }),
    ),
    targets: z.array(
      z.object({
        scope: z.union([
          z.enum(['high_risk', 'above_scale', 'above_scale_other']),
          z.string().regex(/^sector:[a-z0-9_-]+$/),
        ]),
        rate: z.number().gt(0).max(1),
        dueOn: day,
      }),
    ),
    duties: z.array(
      z.object({
        key: code,
        title: z.string().min(1),
        due: z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, { message: 'must be MM-DD' }),
        assignees: unitRef,
        reportTo: code.optional(),
        /** What its progress counts: 'inspections' (src/domain/inspections.ts). */
        counts: z.enum(['inspections']).optional(),
      }),
    ),
    rules: z.array(z.object({ key: code, value: z.number().int(), effectiveOn: day, source: z.string().min(1) })),
    reminders: reminderSettingsSchema.default(reminderSettingsSchema.parse({})),
    assessment: assessmentSchema.optional(),
  })
  .superRefine((f, ctx) => {
    const sectors = new Set(f.sectors.map((s) => s.code));
    const units = new Set(f.units.map((u) => u.code));
    const dup = (list: string[], path: string) =>
      list.forEach(
        (c, i) =>
          list.indexOf(c) !== i &&
          ctx.addIssue({ code: 'custom', path: [path, i, 'code'], message: `duplicate code ${c}` }),
      );
    dup(
      f.sectors.map((s) => s.code),
      'sectors',
    );
    dup(
      f.units.map((u) => u.code),
      'units',
    );
    const unitOk = (ref: string) => ref.startsWith('@') || units.has(ref);
    f.units.forEach((u, i) => {
      if (u.kind === 'township' && !u.statCode)
        ctx.addIssue({
          code: 'custom',
          path: ['units', i, 'statCode'],
          message: 'a township needs its statistical code',
        });
    });
    f.responsibilities.forEach((r, i) => {
      r.sectors.forEach(
        (s, j) =>
          !sectors.has(s) &&
          ctx.addIssue({ code: 'custom', path: ['responsibilities', i, 'sectors', j], message: `unknown sector ${s}` }),
      );
      if (r.lead && !units.has(r.lead))
        ctx.addIssue({ code: 'custom', path: ['responsibilities', i, 'lead'], message: `unknown unit ${r.lead}` });
      r.co.forEach(
        (c, j) =>
          !unitOk(c) &&
          ctx.addIssue({ code: 'custom', path: ['responsibilities', i, 'co', j], message: `unknown unit ${c}` }),
      );
    });
    f.targets.forEach((t, i) => {
      if (t.scope.startsWith('sector:') && !sectors.has(t.scope.slice(7)))
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'scope'], message: `unknown sector ${t.scope.slice(7)}` });
    });
    f.duties.forEach((d, i) => {
      if (!unitOk(d.assignees))
        ctx.addIssue({ code: 'custom', path: ['duties', i, 'assignees'], message: `unknown unit ${d.assignees}` });
      if (d.reportTo && !units.has(d.reportTo))
        ctx.addIssue({ code: 'custom', path: ['duties', i, 'reportTo'], message: `unknown unit ${d.reportTo}` });
    });
  });

export type CampaignFile = z.infer<typeof campaignFileSchema>;

/** A campaign file that does not validate; `problems` name each field ("sectors[2].code: …"). */
export class CampaignFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}:\n  ${problems.join('\n  ')}`);
  }
}

function fieldPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || '(file)';
}

export function parseCampaignFile(text: string, file = '(campaign)'): CampaignFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CampaignFileError(file, [`not valid JSON: ${(e as Error).message}`]);
  }
  const result = campaignFileSchema.safeParse(json);
  if (!result.success)
    throw new CampaignFileError(
      file,
      result.error.issues.map((i) => `${fieldPath(i.path)}: ${i.message}`),
    );
  return result.data;
}

export function readCampaignFile(file = DEFAULT_CAMPAIGN_FILE): CampaignFile {
  return parseCampaignFile(readFileSync(file, 'utf8'), file);
}
