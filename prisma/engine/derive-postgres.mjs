#!/usr/bin/env node
// A Prisma schema names one provider, and a generated client accepts only that provider's
// adapter. prisma/schema.prisma is the one source; this derives prisma/postgres/schema.prisma
// from it mechanically: provider postgresql, the client generated to src/generated/prisma-pg,
// paths relative to the new folder, everything else byte for byte the same.
//   node prisma/engine/derive-postgres.mjs          writes it (npm run db:generate, db:migration)
//   node prisma/engine/derive-postgres.mjs --check  fails when the committed copy differs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SOURCE = path.join(ROOT, 'prisma', 'schema.prisma');
export const DERIVED = path.join(ROOT, 'prisma', 'postgres', 'schema.prisma');

const HEADER = `// GENERATED from prisma/schema.prisma by prisma/engine/derive-postgres.mjs: do not edit.
// Change prisma/schema.prisma, then run \`npm run db:migration -- <name>\` and \`npm run db:generate\`.

`;

/** Replaces exactly one match, so a change of the source's layout fails loudly instead of deriving wrong. */
function once(text, pattern, replace, what) {
  const matches = text.match(new RegExp(pattern.source, 'g')) ?? [];
  if (matches.length !== 1) throw new Error(`prisma/schema.prisma: expected one ${what}, found ${matches.length}`);
  return text.replace(pattern, replace);
}

export function derivePostgres(source) {
  let text = once(
    source,
    /(datasource\s+db\s*\{[^}]*?provider\s*=\s*)"sqlite"/,
    '$1"postgresql"',
    'datasource with provider "sqlite"',
  );
  text = once(
    text,
    /(generator\s+client\s*\{[^}]*?output\s*=\s*)"\.\.\/src\/generated\/prisma"/,
    '$1"../../src/generated/prisma-pg"',
    'generator output "../src/generated/prisma"',
  );
  return HEADER + text;
}

function main(args) {
  const derived = derivePostgres(fs.readFileSync(SOURCE, 'utf8'));
  const current = fs.existsSync(DERIVED) ? fs.readFileSync(DERIVED, 'utf8') : null;
  if (args.includes('--check')) {
    if (current !== derived) {
      console.error('prisma/postgres/schema.prisma is not derived from prisma/schema.prisma: run npm run db:generate.');
      process.exit(1);
    }
    console.log('prisma/postgres/schema.prisma is derived from prisma/schema.prisma.');
    return;
  }
  if (current === derived) return;
  fs.mkdirSync(path.dirname(DERIVED), { recursive: true });
  fs.writeFileSync(DERIVED, derived);
  console.log('Derived prisma/postgres/schema.prisma from prisma/schema.prisma.');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
