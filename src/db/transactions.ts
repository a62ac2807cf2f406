// Interactive transactions' limits, the same on SQLite and PostgreSQL. Prisma's defaults (wait 2 s
// for a transaction to start, abort it after 5 s) are tight for PostgreSQL, where every statement is
// a round trip to the server, on a busy machine; a command's transaction gets more room, and bulk
// loads (a campaign file, the demo roster, a members file) as much as they need.
export const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 20_000 };
export const BULK_TRANSACTION = { maxWait: 10_000, timeout: 10 * 60_000 };
