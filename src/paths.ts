import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The service may run compiled (`tsc -p tsconfig.build.json`: dist/src/…, dist/commands/…) as
// well as from the sources (tsx, vitest): compiled, it starts in half the time and memory. The
// build holds what TypeScript emits: the code, and the JSON files it includes (package.json,
// locales/, prisma/campaigns/), so files looked up beside a module are found there too.

/** A file kept beside the sources that the build does not copy (SQL migrations, the dashboard's page): from dist/, the one in the sources. */
export function besideSources(url: URL): string {
  const path = fileURLToPath(url);
  const marker = `${sep}dist${sep}`;
  return existsSync(path) || !path.includes(marker) ? path : path.replace(marker, sep);
}
