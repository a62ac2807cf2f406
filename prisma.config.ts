import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// Prisma's CLI cannot download its native schema engine where only the npm registry is reachable;
// it runs our stand-in on @prisma/schema-engine-wasm instead (see prisma/engine/schema-engine.mjs).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ||= fileURLToPath(
  new URL('./prisma/engine/schema-engine.mjs', import.meta.url),
);

// A relative SQLite path resolves against the directory the CLI runs in: the project root.
const url = process.env.DATABASE_URL || 'file:./data/anze.db';
// A postgres:// URL takes the schema and migrations derived for PostgreSQL (prisma/engine/derive-postgres.mjs).
const dir = /^postgres(ql)?:/.test(url) ? 'prisma/postgres' : 'prisma';

export default defineConfig({
  schema: `${dir}/schema.prisma`,
  migrations: { path: `${dir}/migrations` },
  datasource: { url },
});
