import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cycles, forbiddenImports, importsOf } from './support/boundaries.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('the one-way flow', () => {
  const imports = importsOf(ROOT);

  it('reads the whole tree', () => {
    // Not passing by reading nothing: every folder of the architecture is seen importing.
    expect(imports.length).toBeGreaterThan(300);
    for (const part of ['core', 'domain', 'bot', 'delivery', 'schedule', 'wecom', 'http', 'commands'])
      expect(
        imports.some((i) => i.from === part),
        part,
      ).toBe(true);
  });

  it('keeps every folder to its rules (core below all; domain ↛ bus, http, wecom, delivery; wecom ↛ domain, bus, delivery; delivery ↛ wecom; commands ↛ wecom, http)', () => {
    expect(forbiddenImports(imports)).toEqual([]);
  });

  it('has no cycle between the folders of src/', () => {
    expect(cycles(imports)).toEqual([]);
  });

  describe('fails on a bad import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'boundaries-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    write('src/domain/obligations.ts', "import { UserError } from '../bot/spec.ts';\nexport const x = 1;\n");
    write('src/bot/spec.ts', "import type { X } from '../domain/obligations.ts';\nexport class UserError {}\n");
    write('src/core/words.ts', "const m = await import('../delivery/outbox.ts');\n");
    write('commands/visit.ts', "export { appText } from '../src/wecom/messages.ts';\n");
    write('src/delivery/audience.ts', "import { appText } from '../wecom/messages.ts';\n");
    write('src/wecom/messages.ts', "import type { Outbound } from '../delivery/outbox.ts';\n");
    const bad = importsOf(dir);

    it('names the file, line and folders of each', () => {
      expect(forbiddenImports(bad).sort()).toEqual([
        'commands/visit.ts:1 commands → wecom',
        'src/core/words.ts:1 core → delivery',
        'src/delivery/audience.ts:1 delivery → wecom',
        'src/domain/obligations.ts:1 domain → bot',
        'src/wecom/messages.ts:1 wecom → delivery',
      ]);
    });

    it('finds the cycles', () => {
      expect(cycles(bad).sort()).toEqual([
        ['bot', 'domain'],
        ['delivery', 'wecom'],
      ]);
    });
  });
});
