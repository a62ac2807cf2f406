import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

// The architecture's one-way flow, checked over the import lines of the sources (TypeScript 7 has
// no compiler API for a dependency tool to read them, and the rules are few).
//   wire (src/wecom) → bus (src/bot) → commands → domain → audience/outbox (src/delivery) → sender
// with src/core below everything. The router and the dispatcher are handed the wire (its message
// builders, rate limits and final failures, src/core/outbound.ts) rather than importing it.

/** The part of the tree a file belongs to: a folder of src/ (core, domain, …), a root file of src/ by name, or commands. */
export function partOf(root: string, file: string): string {
  const parts = relative(root, file).split(sep);
  if (parts[0] === 'commands') return 'commands';
  if (parts[0] !== 'src') return parts[0]!;
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.(ts|mts|mjs|js)$/, '');
}

/** Files of src/ that sit below everything, beside src/core. */
const BASE = ['core', 'clock', 'i18n', 'paths', 'generated'];

/** What each part may not import. */
export const FORBIDDEN: Record<string, string[]> = {
  core: ['*'],
  domain: ['bot', 'http', 'wecom', 'delivery', 'schedule', 'channels', 'cli', 'commands', 'service', 'config'],
  wecom: ['domain', 'bot', 'delivery', 'schedule', 'http', 'channels', 'commands'],
  commands: ['wecom', 'http', 'channels', 'schedule', 'cli', 'service'],
  delivery: ['wecom', 'bot', 'schedule', 'http', 'channels', 'commands', 'cli'],
  schedule: ['bot', 'http', 'channels', 'commands', 'cli'],
  bot: ['http', 'channels', 'schedule', 'cli'],
};

export interface Import {
  file: string;
  line: number;
  from: string;
  to: string;
}

const SOURCE = /\.(ts|mts|mjs)$/;
const SPECIFIER = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(join(dir, e.name))
      : SOURCE.test(e.name) && !e.name.endsWith('.d.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** Every relative import of src/ and commands/ (generated code aside), with the parts on both sides. */
export function importsOf(root: string): Import[] {
  const out: Import[] = [];
  for (const top of ['src', 'commands'])
    for (const file of files(join(root, top))) {
      if (file.includes(`${sep}generated${sep}`)) continue;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(SPECIFIER)) {
        const target = resolve(dirname(file), (m[1] ?? m[2])!);
        out.push({
          file: relative(root, file),
          line: text.slice(0, m.index).split('\n').length,
          from: partOf(root, file),
          to: partOf(root, target),
        });
      }
    }
  return out;
}

/** Imports that break a rule, as 'file:line from → to'. */
export function forbiddenImports(imports: Import[]): string[] {
  return imports
    .filter((i) => i.from !== i.to)
    .filter((i) => {
      const rule = FORBIDDEN[i.from];
      if (!rule) return false;
      return rule.includes('*') ? !BASE.includes(i.to) : rule.includes(i.to);
    })
    .map((i) => `${i.file}:${i.line} ${i.from} → ${i.to}`);
}

/** Cycles between parts (strongly connected components of more than one part). */
export function cycles(imports: Import[]): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const i of imports) if (i.from !== i.to) edges.set(i.from, (edges.get(i.from) ?? new Set()).add(i.to));
  const nodes = [...new Set(imports.flatMap((i) => [i.from, i.to]))];
  // Tarjan's algorithm.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) visit(v);
  return out;
}
