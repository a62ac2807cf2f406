import type { Provider, Tx } from './client.ts';

// The few places where SQLite and PostgreSQL answer the same query differently, made to agree.

/** The database behind a client or transaction. (`_activeProvider` is Prisma's own record of it, on both.) */
export function providerOfClient(db: Tx): Provider {
  return (db as unknown as { _activeProvider?: string })._activeProvider === 'postgresql' ? 'postgresql' : 'sqlite';
}

/**
 * A `contains` filter that ignores the case of ASCII letters on both databases, as SQLite's LIKE
 * does: PostgreSQL's LIKE is case-sensitive, its ILIKE (mode insensitive) is not, and in a database
 * with C ctype it folds exactly ASCII. (Chinese has no case; 'abc' finds 'ABC化工' on either.)
 */
export function textContains(db: Tx, word: string): { contains: string } {
  return providerOfClient(db) === 'postgresql'
    ? ({ contains: word, mode: 'insensitive' } as { contains: string })
    : { contains: word };
}
