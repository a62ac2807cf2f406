import { z } from 'zod';
import { usageLine } from '../src/bot/bus.ts';
import { defineCommand, specNamed, type CommandSpec } from '../src/bot/spec.ts';

/** /帮助's sections, in README's order: each role's commands, as the manuals in docs/ teach them. */
export const HELP_SECTIONS: readonly { role: string; commands: readonly string[] }[] = [
  { role: 'everyone', commands: ['help', 'whoami', 'undo', 'yes', 'cancel'] },
  {
    role: 'leader',
    commands: ['coverage', 'rank', 'assess', 'lookup', 'export', 'overdue', 'approve', 'reject', 'assign', 'blacklist'],
  },
  {
    role: 'liaison',
    commands: [
      'report',
      'insure',
      'tasks',
      'ack',
      'feedback',
      'done',
      'extend',
      'snooze',
      'confirm',
      'handover',
      'inspect',
      'propose',
    ],
  },
  { role: 'insurer', commands: ['visit', 'visits', 'plan'] },
  { role: 'claims', commands: ['claim', 'pay', 'claims', 'dispute', 'settle'] },
  { role: 'agency', commands: ['finding'] },
  { role: 'admin', commands: ['bind', 'unbind', 'strangers', 'group', 'audit'] },
];

const word = (s: CommandSpec) => `/${s.aliases[0] ?? s.name}`;

/** `/帮助 简要`: the command words only, as a member entering the bot's single chat is welcomed. */
export const BRIEF = ['简要', 'brief'];

export default defineCommand({
  name: 'help',
  aliases: ['帮助', '?'],
  summary: 'help.summary',
  usage: 'help.usage',
  examples: ['/帮助', '/帮助 覆盖率', '/帮助 简要'],
  params: ['command'],
  args: z.object({ command: z.string().optional() }),
  roles: 'public',
  writes: false,
  async run({ t, commands, member }, { command }) {
    const sections = HELP_SECTIONS.map((section) => ({
      role: section.role,
      specs: section.commands.flatMap((name) => commands.filter((s) => s.name === name)),
    })).filter((section) => section.specs.length);
    // The short form: each section's command words on one line, small enough for a welcome message.
    if (command && BRIEF.includes(command)) {
      const lines = [t('help.title')];
      for (const { role, specs } of sections) lines.push(`${t(`help.section_${role}`)} ${specs.map(word).join(' ')}`);
      lines.push('', t(member ? 'help.brief_more' : 'help.unregistered'));
      return { text: lines.join('\n') };
    }
    if (command) {
      const spec = specNamed(commands, command);
      if (!spec) return { text: t('help.no_such', { word: command.replace(/^[/／]/, '') }) };
      return {
        text: [
          `${word(spec)} — ${t(spec.summary)}`,
          usageLine(spec, t),
          t('help.examples', { examples: spec.examples.join('  ') }),
        ].join('\n'),
      };
    }
    const lines = [t('help.title')];
    for (const { role, specs } of sections) {
      lines.push('', t(`help.section_${role}`));
      for (const s of specs) lines.push(`${word(s)} (/${s.name}) — ${t(s.summary)}`);
    }
    lines.push('', t(member ? 'help.more' : 'help.unregistered'));
    if (member) lines.push(t('help.manual'));
    return { text: lines.join('\n') };
  },
});
