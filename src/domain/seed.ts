import { joinRoles, splitRoles } from '../core/roles.ts';
import type { Db, Tx } from '../db/client.ts';
import { BULK_TRANSACTION } from '../db/transactions.ts';
import type { CampaignFile } from './campaign-file.ts';
import { dayIn, type Clock } from '../clock.ts';

export interface SeedResult {
  campaignId: number;
  sectors: number;
  units: number;
  obligations: number;
}

/**
 * Loads a campaign file into the database. Everything is keyed by its natural key (campaign key,
 * sector and unit codes, target scope and date, duty key), so loading the same file twice changes
 * nothing and loading an edited file updates in place.
 */
export async function seedCampaign(db: Db, file: CampaignFile, clock: Clock, timeZone: string): Promise<SeedResult> {
  return db.$transaction(async (tx) => {
    const { county } = file;
    const campaignData = {
      name: file.name,
      docNumber: file.docNumber,
      issuer: file.issuer,
      issuedOn: file.issuedOn,
      effectiveOn: file.effectiveOn,
      countyCode: county.code,
      countyName: county.name,
      reminders: JSON.stringify(file.reminders),
      assessment: JSON.stringify(file.assessment ?? {}),
    };
    const campaign = await tx.campaign.upsert({
      where: { key: file.key },
      create: { key: file.key, ...campaignData },
      update: campaignData,
    });

    const sectorIds = new Map<string, number>();
    for (const [sortOrder, s] of file.sectors.entries()) {
      const data = { name: s.name, aliases: s.aliases.join('|'), highRisk: s.highRisk, sortOrder };
      const row = await tx.sector.upsert({
        where: { campaignId_code: { campaignId: campaign.id, code: s.code } },
        create: { campaignId: campaign.id, code: s.code, ...data },
        update: data,
      });
      sectorIds.set(s.code, row.id);
    }

    const units = new Map<string, { id: number; kind: string }>();
    for (const [sortOrder, u] of file.units.entries()) {
      const data = {
        name: u.name,
        kind: u.kind,
        aliases: u.aliases.join('|'),
        statCode: u.statCode ?? null,
        sortOrder,
      };
      const row = await tx.unit.upsert({
        where: { countyCode_code: { countyCode: county.code, code: u.code } },
        create: { countyCode: county.code, code: u.code, ...data },
        update: data,
      });
      units.set(u.code, row);
    }
    const leads = file.responsibilities.flatMap((r) => (r.lead ? [r.lead] : []));
    const resolve = (ref: string): number[] => {
      const ofKind = (kind: string) => [...units.values()].filter((u) => u.kind === kind).map((u) => u.id);
      switch (ref) {
        case '@townships':
          return ofKind('township');
        case '@departments':
          return ofKind('department');
        case '@insurers':
          return ofKind('insurer');
        case '@sector-leads':
          return [...new Set(leads)].map((c) => units.get(c)!.id);
        default:
          return [units.get(ref)!.id];
      }
    };

    for (const r of file.responsibilities) {
      const lead = r.lead ? units.get(r.lead)!.id : undefined;
      const co = r.co.flatMap(resolve).filter((id) => id !== lead);
      for (const code of r.sectors) {
        const sectorId = sectorIds.get(code)!;
        const wanted = [...(lead ? [[lead, 'lead'] as const] : []), ...co.map((id) => [id, 'co'] as const)];
        for (const [unitId, role] of wanted) {
          await tx.sectorResponsibility.upsert({
            where: { sectorId_unitId: { sectorId, unitId } },
            create: { sectorId, unitId, role },
            update: { role },
          });
        }
        await tx.sectorResponsibility.deleteMany({ where: { sectorId, unitId: { notIn: wanted.map(([id]) => id) } } });
      }
    }

    for (const t of file.targets) {
      const rateBp = Math.round(t.rate * 10000);
      await tx.target.upsert({
        where: { campaignId_scope_dueOn: { campaignId: campaign.id, scope: t.scope, dueOn: t.dueOn } },
        create: { campaignId: campaign.id, scope: t.scope, dueOn: t.dueOn, rateBp },
        update: { rateBp },
      });
    }

    for (const r of file.rules) {
      await tx.ruleSetting.upsert({
        where: { key_effectiveOn: { key: r.key, effectiveOn: r.effectiveOn } },
        create: r,
        update: { value: r.value, source: r.source },
      });
    }

    let obligations = 0;
    const today = dayIn(clock.now(), timeZone);
    for (const d of file.duties) {
      const data = {
        title: d.title,
        dueMonthDay: d.due,
        assignees: d.assignees,
        reportTo: d.reportTo ?? null,
        counts: d.counts ?? null,
      };
      const duty = await tx.duty.upsert({
        where: { campaignId_key: { campaignId: campaign.id, key: d.key } },
        create: { campaignId: campaign.id, key: d.key, ...data },
        update: data,
      });
      // The next occurrence on or after today, so a new deployment starts with what is ahead of it.
      const year = Number(today.slice(0, 4));
      const period = `${year}-${d.due}` >= today ? year : year + 1;
      for (const unitId of resolve(d.assignees)) {
        obligations += await ensureObligation(
          tx,
          {
            campaignId: campaign.id,
            dutyId: duty.id,
            unitId,
            title: d.title,
            period: String(period),
            dueOn: `${period}-${d.due}`,
          },
          clock,
        );
      }
    }

    return { campaignId: campaign.id, sectors: sectorIds.size, units: units.size, obligations };
  }, BULK_TRANSACTION);
}

/** The history note of an obligation the campaign file created (the export words it). */
export const SEED_NOTE = 'seed';

export interface ObligationSeed {
  campaignId: number;
  dutyId: number;
  unitId: number;
  title: string;
  period: string;
  dueOn: string;
  isDemo?: boolean;
}

/** Creates a duty's obligation for a unit and period unless it exists; returns 1 when created. */
export async function ensureObligation(tx: Tx, o: ObligationSeed, clock: Clock): Promise<number> {
  const key = {
    campaignId_dutyId_unitId_period: { campaignId: o.campaignId, dutyId: o.dutyId, unitId: o.unitId, period: o.period },
  };
  if (await tx.obligation.findUnique({ where: key })) return 0;
  await tx.obligation.create({
    data: { ...o, events: { create: { toStatus: 'assigned', note: SEED_NOTE, at: clock.now() } } },
  });
  return 1;
}

/** The first admins of a deployment come from BOT_ADMINS; an existing member gains the admin role. */
export async function ensureAdmins(db: Db, userIds: string[]): Promise<void> {
  for (const userId of userIds) {
    const existing = await db.member.findUnique({ where: { userId } });
    if (!existing) await db.member.create({ data: { userId, name: userId, roles: 'admin' } });
    else if (!splitRoles(existing.roles).includes('admin'))
      await db.member.update({
        where: { userId },
        data: { roles: joinRoles([...splitRoles(existing.roles), 'admin']) },
      });
  }
}
