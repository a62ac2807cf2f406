import type { Locale } from './translate.ts';

// Who is who: the roles a member may hold, and the one reader of role words and stored roles.

/** `agency`: a third-party agency (第三方机构) that reads coverage, visits and claims and records findings on insurers. */
export const ROLES = ['admin', 'leader', 'liaison', 'insurer', 'agency', 'enterprise', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

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
