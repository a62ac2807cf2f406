#!/usr/bin/env node
// Generates the Prisma clients into src/generated (the SQLite one from prisma/schema.prisma, the
// PostgreSQL one from the derived prisma/postgres/schema.prisma): what `postinstall` runs.
//
// `prisma` is a dev dependency. A production install (`npm ci --omit=dev --omit=optional`) has no
// Prisma CLI, and does not need one: a release bundle (`npm run bundle`) ships the clients already
// compiled into dist/. Without the CLI this says what it skipped and succeeds, so the install does
// not fail (with --required, as npm run db:generate runs it, it fails); with it, generation errors
// fail the install as before.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Prisma CLI's entry point, or null when it is not installed. */
function prismaCli() {
  try {
    const require = createRequire(new URL('../../package.json', import.meta.url));
    return require.resolve('prisma/build/index.js');
  } catch {
    return null;
  }
}

const cli = prismaCli();
if (!cli && process.argv.includes('--required')) {
  console.error('prisma generate: the Prisma CLI (a dev dependency) is not installed: run npm install');
  process.exit(1);
}
if (!cli) {
  const have = existsSync(new URL('../../src/generated/prisma/client.ts', import.meta.url));
  console.log(
    `prisma generate skipped: the Prisma CLI (a dev dependency) is not installed. ` +
      (have
        ? 'The clients already in src/generated are kept.'
        : 'There are no clients in src/generated: run the service from a release bundle, or install with dev dependencies.'),
  );
  process.exit(0);
}
for (const args of [['generate'], ['generate', '--schema', 'prisma/postgres/schema.prisma']]) {
  const run = spawnSync(process.execPath, [cli, ...args], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
