import type { Clock } from '../clock.ts';
import { splitRoles, type Member } from '../core/roles.ts';
import type { UndoOp } from '../core/undo.ts';
import type { Audience, Notice, Told } from '../core/notice.ts';
import type { Tx } from '../db/client.ts';
import { memoised } from '../db/versions.ts';
import { isLocale, type Locale, type Translate } from '../i18n.ts';
import type { WorkCalendar } from './calendar.ts';

// What the domain needs of a request, whoever makes it (a command, a rule, an import): the
// command context of the bus extends these, so the domain never depends on the bus. Every request
// starts from its member and campaign, read here for the bus, the dashboard and the tools alike.

export interface Campaign {
  id: number;
  key: string;
  name: string;
  docNumber: string;
  countyCode: string;
  countyName: string;
}

/** Who acts, in which campaign, on what day: enough to read and to write with undo. */
export interface Actor {
  /** The database; inside a writing command, its transaction. */
  db: Tx;
  clock: Clock;
  timeZone: string;
  /** Today in the campaign's time zone, 'YYYY-MM-DD'. */
  today: string;
  campaign: Campaign;
  /** The caller, or null for someone the bot does not know. */
  member: Member | null;
  userId: string;
  calendar: WorkCalendar;
  /** The caller's language. */
  t: Translate;
  /** The deployment's language (BOT_LOCALE), for messages to groups rather than to the caller. */
  groupT: Translate;
  /** Records how to revert a write, so the member can /撤销 it within 10 minutes. */
  undoable(op: UndoOp): void;
  /**
   * Tells an audience (a unit, the leaders, the admins, a member, the asker, a group), in this
   * request's transaction: the audience router picks the destinations and says who was reached.
   */
  tell(to: Audience, notice: Notice): Promise<Told>;
}

/** The member a WeCom user id names, with its unit; null for someone the bot does not know or who left. */
export async function loadMember(db: Tx, userId: string, fallback: Locale): Promise<Member | null> {
  // Every message starts here: kept while neither table is written (src/db/versions.ts), and
  // copied out, so that no caller can change what the next message gets.
  const m = await memoised(db, `member ${userId} ${fallback}`, ['Member', 'Unit'], () =>
    readMember(db, userId, fallback),
  );
  return m && { ...m, roles: [...m.roles], unit: m.unit && { ...m.unit } };
}

async function readMember(db: Tx, userId: string, fallback: Locale): Promise<Member | null> {
  // The member and its unit in one plain statement: Prisma's `include` would read the unit with a
  // second one, each costing several times the SQL's own work.
  const [m] = await db.$queryRaw<
    {
      id: number;
      userId: string;
      name: string;
      roles: string;
      enterpriseId: number | null;
      locale: string | null;
      active: boolean;
      isDemo: boolean;
      unitId: number | null;
      unitCode: string;
      unitName: string;
      unitKind: string;
      countyCode: string;
    }[]
  >`
    SELECT m.id, m."userId" AS "userId", m.name, m.roles, m."enterpriseId" AS "enterpriseId", m.locale, m.active, m."isDemo" AS "isDemo",
      u.id AS "unitId", u.code AS "unitCode", u.name AS "unitName", u.kind AS "unitKind", u."countyCode" AS "countyCode"
    FROM "Member" m LEFT JOIN "Unit" u ON u.id = m."unitId"
    WHERE m."userId" = ${userId}`;
  if (!m || !m.active) return null;
  return {
    id: m.id,
    userId: m.userId,
    name: m.name,
    roles: splitRoles(m.roles),
    unit:
      m.unitId === null
        ? null
        : { id: m.unitId, code: m.unitCode, name: m.unitName, kind: m.unitKind, countyCode: m.countyCode },
    enterpriseId: m.enterpriseId,
    locale: isLocale(m.locale) ? m.locale : fallback,
    isDemo: m.isDemo,
  };
}

/** The campaign of the member's county (the latest, if several); without a unit, the first one. */
export async function campaignFor(db: Tx, member: Member | null): Promise<Campaign | null> {
  const county = member?.unit?.countyCode;
  // Asked by every message: kept while no campaign is written (src/db/versions.ts), copied out.
  const c = await memoised(db, `campaign ${county ?? '*'}`, ['Campaign'], () => readCampaign(db, county));
  return c && { ...c };
}

async function readCampaign(db: Tx, county: string | undefined): Promise<Campaign | null> {
  const where = county !== undefined ? { countyCode: county } : {};
  const c = await db.campaign.findFirst({
    where,
    orderBy: [{ effectiveOn: 'desc' }, { id: 'asc' }],
    select: { id: true, key: true, name: true, docNumber: true, countyCode: true, countyName: true },
  });
  return (
    c && {
      id: c.id,
      key: c.key,
      name: c.name,
      docNumber: c.docNumber,
      countyCode: c.countyCode,
      countyName: c.countyName,
    }
  );
}
