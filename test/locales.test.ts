import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry } from '../src/bot/registry.ts';
import { catalog, LOCALES } from '../src/i18n.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? (f === 'generated' ? [] : sources(p)) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('locales', () => {
  it('have the same keys in zh-CN and en, none empty', () => {
    const [zh, en] = LOCALES.map((l) => catalog(l));
    expect(Object.keys(en!).sort()).toEqual(Object.keys(zh!).sort());
    for (const l of LOCALES)
      for (const [k, v] of Object.entries(catalog(l))) expect(v.trim(), `${l} ${k}`).not.toBe('');
  });

  it('have every key the code and the command specs use', async () => {
    const used = new Set<string>();
    for (const file of [...sources('src'), ...sources('commands')]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-z_]+\.[a-z_.]+)'/g)) used.add(m[1]!);
    }
    for (const spec of (await Registry.load()).specs) {
      used.add(spec.summary);
      if (spec.usage) used.add(spec.usage);
      for (const p of spec.params) used.add(`param.${p.replace(/^\.\.\./, '')}`);
    }
    expect(used.size).toBeGreaterThan(20);
    const zh = catalog('zh-CN');
    expect([...used].filter((k) => !(k in zh))).toEqual([]);
  });
});
