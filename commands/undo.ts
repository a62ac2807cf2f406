import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { undoLast } from '../src/domain/undo.ts';

/** /撤销: takes back the caller's own last write, within 10 minutes, while it is still theirs; audited too. */
export default defineCommand({
  name: 'undo',
  aliases: ['撤销'],
  summary: 'undo.summary',
  examples: ['/撤销'],
  params: [],
  args: z.object({}),
  roles: 'member',
  writes: true,
  async run(ctx) {
    return { text: (await undoLast(ctx)).join('\n') };
  },
});
