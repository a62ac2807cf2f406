import type { Locale } from './translate.ts';
import { wordTable } from './words.ts';

// Who is who: the roles a member may hold, and the one reader of role words and stored roles.

/** `agency`: a third-party agency (第三方机构) that reads coverage, visits and claims and records findings on insurers. */
export const ROLES = [
  'admin',
  'leader',
  'liaison',
  'responsible',
  'in_charge',
  'insurer',
  'agency',
  'enterprise',
  'viewer',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * A unit's people, as the plan names them (§三(五)): its 联络员, its 责任人 and its 分管领导, in the
 * order reminders climb to them. They are member roles held in the member's own unit (a department,
 * a township or the commission office): one member may hold several, a unit may have several of
 * each. The 责任人 and the 分管领导 may run what the unit's liaison may (see mayRun).
 */
export const UNIT_ROLES = ['liaison', 'responsible', 'in_charge'] as const satisfies readonly Role[];
export type UnitRole = (typeof UNIT_ROLES)[number];
export const isUnitRole = (role: string): role is UnitRole => (UNIT_ROLES as readonly string[]).includes(role);

export interface Member {
  id: number;
  userId: string;
  name: string;
  roles: Role[];
  unit: { id: number; code: string; name: string; kind: string; countyCode: string } | null;
  enterpriseId: number | null;
  locale: Locale;
  isDemo: boolean;
}

export const isRole = (word: string): word is Role => (ROLES as readonly string[]).includes(word);

/** The words admins type for a role, besides its code (admin). */
const ROLE_WORDS = wordTable<Role>({
  admin: ['管理员'],
  leader: ['领导'],
  liaison: ['联络员'],
  responsible: ['责任人'],
  in_charge: ['分管领导'],
  insurer: ['保险机构', '保险'],
  agency: ['第三方机构', '第三方'],
  enterprise: ['企业'],
  viewer: ['查看', '查看者'],
});

/** A role from what people type (管理员, admin); null when it is none. */
export const parseRole = (word: string): Role | null => ROLE_WORDS.code(word);

/** Roles as the database stores them ('admin|liaison'); unknown words are dropped. */
export const splitRoles = (stored: string): Role[] => stored.split('|').filter(isRole);

/** Roles as the database stores them, in ROLES order and without repeats. */
export const joinRoles = (roles: readonly string[]): string => ROLES.filter((r) => roles.includes(r)).join('|');
