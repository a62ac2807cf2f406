import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UserError } from '../src/core/errors.ts';

/** /执行: runs the caller's latest previewed command, within 5 minutes of the preview. */
export default defineCommand({
  name: 'yes',
  aliases: ['执行'],
  summary: 'yes.summary',
  examples: ['/执行'],
  params: [],
  args: z.object({}),
  roles: 'member',
  writes: false,
  async run({ db, userId, chatId, clock, runConfirmed }) {
    const pending = await db.pendingAction.findFirst({ where: { userId, state: 'pending' }, orderBy: { id: 'desc' } });
    if (!pending) throw new UserError('confirm.nothing');
    if (pending.expiresAt < clock.now()) {
      await db.pendingAction.update({ where: { id: pending.id }, data: { state: 'expired' } });
      throw new UserError('confirm.expired');
    }
    // A preview is confirmed where it was shown, before the people who saw it.
    if (pending.chatId !== chatId) {
      const chat = pending.chatId && (await db.groupChat.findUnique({ where: { chatId: pending.chatId } }));
      throw new UserError(pending.chatId ? 'confirm.elsewhere' : 'confirm.elsewhere_direct', {
        chat: chat ? chat.name : (pending.chatId ?? ''),
        preview: pending.preview.split('\n')[0]!,
      });
    }
    return runConfirmed(pending.text, pending.id);
  },
});
