import type { TestProject } from 'vitest/node';
import { buildTemplates, dropTemplates } from './db.ts';

// The vitest project "postgres": before its files run, the Anhua campaign (with and without the
// demo roster) is migrated and loaded once into two template databases, through the same code as
// testDb; each test file then gets a fresh copy (CREATE DATABASE … TEMPLATE), in well under a second
// instead of seeding again. Dropped when the run ends.

declare module 'vitest' {
  export interface ProvidedContext {
    postgresTemplates: { plain: string; demo: string } | null;
  }
}

export default async function setup(project: TestProject) {
  if (!process.env.TEST_POSTGRES_URL) {
    project.provide('postgresTemplates', null);
    return;
  }
  const templates = await buildTemplates();
  project.provide('postgresTemplates', templates);
  return () => dropTemplates(templates);
}
