import { defineConfig } from 'vitest/config';

// The integration suites that also run on PostgreSQL (project "postgres", TEST_DB_PROVIDER set):
// test/support/db.ts then gives each file a fresh PostgreSQL database. Without TEST_POSTGRES_URL the
// project runs only test/db/postgres.test.ts, which says why the rest is skipped (and fails under CI).
// postgres.test.ts and replicas.test.ts (replicas need PostgreSQL) are in that project only.
// move.test.ts (SQLite into PostgreSQL) picks both databases itself: it runs once, in "sqlite".
const POSTGRES_SUITES = [
  'test/db/postgres.test.ts',
  'test/db/replicas.test.ts',
  'test/db/lease.test.ts',
  'test/domain/counties.test.ts',
  'test/commands/coverage.test.ts',
  'test/domain/roster-history.test.ts',
  // The trend's sweep is raw SQL (src/domain/coverage-sweep.ts).
  'test/domain/coverage-sweep.test.ts',
  'test/domain/ledger-import.test.ts',
  'test/domain/import-run.test.ts',
  'test/commands/report.test.ts',
  'test/commands/obligations.test.ts',
  'test/commands/people.test.ts',
  'test/http/callbacks.test.ts',
  'test/db/versions.test.ts',
  // Their counts are raw SQL (src/domain/inspections.ts, assessment.ts).
  'test/commands/inspect.test.ts',
  'test/commands/assess.test.ts',
  'test/http/claims-callbacks.test.ts',
  // Grouped sums and counts (src/domain/claims.ts insurerService); lead units ordered through a relation.
  'test/domain/insurer-service.test.ts',
  'test/domain/lead-units.test.ts',
];

export default defineConfig({
  test: {
    // Each file gets its own database; forks keep better-sqlite3 handles apart.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: ['test/db/postgres.test.ts', 'test/db/replicas.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: process.env.TEST_POSTGRES_URL ? POSTGRES_SUITES : ['test/db/postgres.test.ts'],
          env: { TEST_DB_PROVIDER: 'postgresql' },
          globalSetup: ['test/support/postgres-setup.ts'],
        },
      },
    ],
  },
});
