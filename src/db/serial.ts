import type { SqlDriverAdapter, SqlDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils';

// Prisma's better-sqlite3 adapter runs every query on its one connection, and an interactive
// transaction keeps that connection's BEGIN open across awaits. A query another request makes
// meanwhile, outside any transaction, runs inside that one — and is rolled back with it: an inbox
// row, an outbox message marked sent, an audit event, gone after success was reported (the attack
// tests found it). So here a query outside a transaction waits until no transaction is open, and
// transactions wait for each other, first come first served. SQLite has one writer anyway.

/** A first-come-first-served lock: `acquire` resolves with the function that releases it. */
function fifoLock(): () => Promise<() => void> {
  let last: Promise<void> = Promise.resolve();
  return () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const ready = last;
    last = last.then(() => held);
    return ready.then(() => release);
  };
}

/** Calls `target`'s own methods on it (its private fields need it), with some replaced. */
function overriding<T extends object>(target: T, replaced: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, p) {
      if (Object.hasOwn(replaced, p)) return replaced[p as keyof T];
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

function serialAdapter(inner: SqlDriverAdapter, outside?: (none: () => boolean) => void): SqlDriverAdapter {
  const acquire = fifoLock();
  // Whether a transaction is open on the connection (from before its BEGIN until its end).
  let open = false;
  outside?.(() => !open);
  const alone = async <R>(work: () => Promise<R>): Promise<R> => {
    const release = await acquire();
    try {
      return await work();
    } finally {
      release();
    }
  };
  return overriding(inner, {
    queryRaw: (q: Parameters<SqlDriverAdapter['queryRaw']>[0]) => alone(() => inner.queryRaw(q)),
    executeRaw: (q: Parameters<SqlDriverAdapter['executeRaw']>[0]) => alone(() => inner.executeRaw(q)),
    executeScript: (script: string) => alone(() => inner.executeScript(script)),
    startTransaction: async (level?: Parameters<SqlDriverAdapter['startTransaction']>[0]): Promise<Transaction> => {
      const held = await acquire();
      open = true;
      const release = () => {
        open = false;
        held();
      };
      try {
        const tx = await inner.startTransaction(level);
        const ending = (end: () => Promise<void>) => async () => {
          try {
            await end();
          } finally {
            release();
          }
        };
        return overriding(tx, { commit: ending(() => tx.commit()), rollback: ending(() => tx.rollback()) });
      } catch (e) {
        release();
        throw e;
      }
    },
  });
}

/**
 * The adapter factory whose connections keep queries outside a transaction out of an open one.
 * `outside` is given, for each connection, whether no transaction is open on it: a synchronous read
 * made then on the connection itself (src/db/versions.ts) sees only what is committed.
 */
export function serialised<F extends SqlDriverAdapterFactory>(factory: F, outside?: (none: () => boolean) => void): F {
  return overriding(factory, { connect: async () => serialAdapter(await factory.connect(), outside) } as Partial<
    Record<keyof F, unknown>
  >);
}
