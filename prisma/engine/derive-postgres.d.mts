/** prisma/postgres/schema.prisma's text, derived from prisma/schema.prisma's. */
export function derivePostgres(source: string): string;
export const SOURCE: string;
export const DERIVED: string;
