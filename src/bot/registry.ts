import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { distance } from '../core/names.ts';
import { mayRun, type CommandSpec } from './spec.ts';
import type { Member } from '../core/roles.ts';

const COMMANDS_DIR = fileURLToPath(new URL('../../commands/', import.meta.url));

/** The commands, by every name and alias. Adding a command is adding a file to commands/. */
export class Registry {
  private readonly byWord = new Map<string, CommandSpec>();

  constructor(readonly specs: readonly CommandSpec[]) {
    for (const spec of specs) {
      for (const word of [spec.name, ...spec.aliases]) {
        const key = word.toLowerCase();
        const other = this.byWord.get(key);
        if (other) throw new Error(`commands ${other.name} and ${spec.name} both answer to "${word}"`);
        this.byWord.set(key, spec);
      }
    }
  }

  find(word: string): CommandSpec | undefined {
    return this.byWord.get(word.toLowerCase());
  }

  /**
   * The longest command word a typed word starts with, for a command glued to its argument
   * (签收17, 覆盖率危化); none when the word would run on into a longer English one (coveragex).
   */
  prefixOf(word: string): string | undefined {
    let best: string | undefined;
    for (const w of this.byWord.keys()) {
      if (word.length <= w.length || !word.startsWith(w) || (best && best.length >= w.length)) continue;
      if (!/[a-z]$/.test(w) || !/^[a-z]/.test(word.slice(w.length))) best = w;
    }
    return best;
  }

  /** The nearest command word the member may run, for a typo; a prefix counts as near. */
  suggest(word: string, member: Member | null): string | undefined {
    let best: { word: string; d: number } | undefined;
    for (const [w, spec] of this.byWord) {
      if (!mayRun(spec, member)) continue;
      const d = w.startsWith(word) || word.startsWith(w) ? 0.5 : distance(word, w);
      if (d <= Math.max(1, Math.floor(w.length / 3)) && (!best || d < best.d))
        best = { word: spec.aliases[0] ?? spec.name, d };
    }
    return best?.word;
  }

  static async load(dir = COMMANDS_DIR): Promise<Registry> {
    const files = readdirSync(dir)
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
    const specs = await Promise.all(files.map(async (f) => (await import(`${dir}${f}`)).default as CommandSpec));
    return new Registry(specs);
  }
}
