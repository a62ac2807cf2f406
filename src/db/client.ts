import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.ts';
import { applyMigrations, MIGRATIONS_DIR } from './migrate.ts';

export type Db = PrismaClient;
/** The client, or the client inside an interactive transaction: what queries take. */
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

/** The file behind a `file:` URL, resolved against the working directory as Prisma does. */
export function sqlitePath(databaseUrl: string): string {
  const path = databaseUrl.replace(/^file:/, '').replace(/\?.*$/, '');
  return path === ':memory:' ? path : resolve(path);
}

/** Applies pending migrations, then opens Prisma on the same file. */
export function openDatabase(databaseUrl: string): Db {
  const file = sqlitePath(databaseUrl);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const raw = new Database(file);
  try {
    raw.pragma('journal_mode = WAL');
    applyMigrations(raw, MIGRATIONS_DIR);
  } finally {
    raw.close();
  }
  // busy_timeout lets a CLI (npm run chat, seed) write while the service holds the file.
  const adapter = new PrismaBetterSqlite3({ url: file, timeout: 5000 });
  return new PrismaClient({ adapter });
}
