import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// Prisma's CLI cannot download its native schema engine where only the npm registry is reachable;
// it runs our stand-in on @prisma/schema-engine-wasm instead (see prisma/engine/schema-engine.mjs).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ||= fileURLToPath(new URL('./prisma/engine/schema-engine.mjs', import.meta.url));

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // A relative SQLite path resolves against the directory the CLI runs in: the project root.
  datasource: { url: process.env.DATABASE_URL || 'file:./data/anze.db' },
});
