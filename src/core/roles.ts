import type { Locale } from './translate.ts';

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

/** The words admins type for a role, English and Chinese. */
const ROLE_WORDS: Record<string, Role> = {
  管理员: 'admin',
  领导: 'leader',
  联络员: 'liaison',
  责任人: 'responsible',
  分管领导: 'in_charge',
  保险机构: 'insurer',
  保险: 'insurer',
  第三方机构: 'agency',
  第三方: 'agency',
  企业: 'enterprise',
  查看: 'viewer',
  查看者: 'viewer',
};

/** A role from what people type (管理员, admin); null when it is none. */
export function parseRole(word: string): Role | null {
  const w = word.trim().toLowerCase();
  return isRole(w) ? w : (ROLE_WORDS[w] ?? null);
}

/** Roles as the database stores them ('admin|liaison'); unknown words are dropped. */
export const splitRoles = (stored: string): Role[] => stored.split('|').filter(isRole);

/** Roles as the database stores them, in ROLES order and without repeats. */
export const joinRoles = (roles: readonly string[]): string => ROLES.filter((r) => roles.includes(r)).join('|');
