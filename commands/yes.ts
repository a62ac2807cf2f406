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
  async run({ db, userId, clock, runConfirmed }) {
    const pending = await db.pendingAction.findFirst({ where: { userId, state: 'pending' }, orderBy: { id: 'desc' } });
    if (!pending) throw new UserError('confirm.nothing');
    if (pending.expiresAt < clock.now()) {
      await db.pendingAction.update({ where: { id: pending.id }, data: { state: 'expired' } });
      throw new UserError('confirm.expired');
    }
    return runConfirmed(pending.text, pending.id);
  },
});
