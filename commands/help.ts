import { z } from 'zod';
import { usageLine } from '../src/bot/bus.ts';
import { defineCommand } from '../src/bot/spec.ts';

export default defineCommand({
  name: 'help',
  aliases: ['帮助', '?'],
  summary: 'help.summary',
  usage: 'help.usage',
  examples: ['/帮助', '/帮助 覆盖率'],
  params: ['command'],
  args: z.object({ command: z.string().optional() }),
  roles: 'public',
  writes: false,
  async run({ t, commands, member }, { command }) {
    const word = command?.replace(/^\//, '').toLowerCase();
    if (word) {
      const spec = commands.find((s) => s.name === word || s.aliases.some((a) => a.toLowerCase() === word));
      if (!spec) return { text: t('help.no_such', { word }) };
      return {
        text: [
          `/${spec.aliases[0] ?? spec.name} — ${t(spec.summary)}`,
          usageLine(spec, t),
          t('help.examples', { examples: spec.examples.join('  ') }),
        ].join('\n'),
      };
    }
    const lines = commands.map(
      (s) => `/${s.aliases[0] ?? s.name}${s.aliases[0] ? ` (/${s.name})` : ''} — ${t(s.summary)}`,
    );
    return { text: [t('help.title'), ...lines, '', t(member ? 'help.more' : 'help.unregistered')].join('\n') };
  },
});
