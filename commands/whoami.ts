import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { peopleLine, roleFitsUnit, unitPeople } from '../src/domain/members.ts';

export default defineCommand({
  name: 'whoami',
  aliases: ['我是谁'],
  summary: 'whoami.summary',
  examples: ['/我是谁'],
  params: [],
  args: z.object({}),
  roles: 'public',
  writes: false,
  async run({ t, member, userId, db, campaign }) {
    if (!member) return { text: t('whoami.unknown', { userId }) };
    const lines = [
      t('whoami.member', { name: member.name, userId: member.userId }),
      t('whoami.roles', { roles: member.roles.map((r) => t(`role.${r}`)).join('、') || '—' }),
      t('whoami.unit', { unit: member.unit?.name ?? '—' }),
    ];
    if (member.unit) {
      const duties = await db.sectorResponsibility.findMany({
        where: { unitId: member.unit.id, sector: { campaignId: campaign.id } },
        include: { sector: true },
        orderBy: { sector: { sortOrder: 'asc' } },
      });
      const lead = duties.filter((d) => d.role === 'lead').map((d) => d.sector.name);
      const co = duties.filter((d) => d.role === 'co').map((d) => d.sector.name);
      if (lead.length) lines.push(t('whoami.leads', { sectors: lead.join('、') }));
      if (co.length) lines.push(t('whoami.shares', { sectors: co.join('、') }));
      if (member.unit.kind === 'township') lines.push(t('whoami.township'));
      if (roleFitsUnit('liaison', member.unit)) lines.push(peopleLine(t, await unitPeople(db, member.unit.id)));
    }
    if (member.isDemo) lines.push(t('demo.member'));
    return { text: lines.join('\n') };
  },
});
