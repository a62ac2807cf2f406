import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';
import { trusted } from '../src/core/neutral.ts';

/** /取消: drops the caller's previewed command. */
export default defineCommand({
  name: 'cancel',
  aliases: ['取消'],
  summary: 'cancel.summary',
  examples: ['/取消'],
  params: [],
  args: z.object({}),
  roles: 'member',
  writes: true,
  async run({ db, userId, t }) {
    const pending = await db.pendingAction.findFirst({ where: { userId, state: 'pending' }, orderBy: { id: 'desc' } });
    if (!pending) throw new UserError('confirm.nothing');
    await db.pendingAction.update({ where: { id: pending.id }, data: { state: 'cancelled' } });
    return { text: t('confirm.cancelled', { preview: trusted(pending.preview) }) };
  },
});
