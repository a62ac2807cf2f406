import type Database from 'better-sqlite3';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';

// Prisma's better-sqlite3 adapter prepares every statement anew for every query
// (`client.prepare(sql).bind(args)`, then `run()` or `raw().all()`): SQLite parses and plans the
// same dozen statements for each message, a tenth of a millisecond or more each. Here the
// connection keeps its prepared statements by SQL text and hands the adapter a statement with the
// query's arguments, which better-sqlite3 allows to be reused (a bound one could not be).

/** A prepared statement and its result columns (asked of SQLite once: they only change with the schema, which migrations change before any query). */
interface Kept {
  stmt: Database.Statement;
  columns?: Database.ColumnDefinition[];
}

/** A kept statement with one query's arguments: the part of better-sqlite3's Statement the adapter uses. */
class WithArgs {
  private readonly stmt: Database.Statement;
  constructor(
    private readonly kept: Kept,
    private readonly args: unknown[] = [],
  ) {
    this.stmt = kept.stmt;
  }
  get reader(): boolean {
    return this.stmt.reader;
  }
  bind(args: unknown[]): WithArgs {
    return new WithArgs(this.kept, args);
  }
  columns(): Database.ColumnDefinition[] {
    return (this.kept.columns ??= this.stmt.columns());
  }
  raw(): { all(): unknown[] } {
    return { all: () => this.stmt.raw(true).all(this.args) };
  }
  run(): Database.RunResult {
    return this.stmt.run(this.args);
  }
}

/** At most this many statements are kept per connection; Prisma's own query plan cache is larger, but most shapes are rare. */
const KEPT = 500;

function keepStatements(client: Database.Database): void {
  const prepare = client.prepare.bind(client);
  const kept = new Map<string, Kept>();
  client.prepare = ((sql: string) => {
    let k = kept.get(sql);
    if (k) {
      // Most recently used last, so the oldest goes first when full.
      kept.delete(sql);
    } else {
      k = { stmt: prepare(sql) };
      if (kept.size >= KEPT) kept.delete(kept.keys().next().value!);
    }
    kept.set(sql, k);
    return new WithArgs(k);
  }) as unknown as Database.Database['prepare'];
}

/** The adapter factory, its connections made to reuse their prepared statements; `opened` is given each connection. */
export function reusingStatements<F extends SqlDriverAdapterFactory>(
  factory: F,
  opened?: (client: Database.Database) => void,
): F {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    // The adapter's better-sqlite3 connection; left alone if a future adapter has none.
    const client = (adapter as unknown as { client?: Database.Database }).client;
    if (client && typeof client.prepare === 'function') {
      keepStatements(client);
      opened?.(client);
    }
    return adapter;
  };
  return factory;
}
