import { z } from 'zod';
import { defineCommand, UNDO_MINUTES, UNDO_MODELS, UserError, type UndoOp } from '../src/bot/spec.ts';
import type { Tx } from '../src/db/client.ts';

/** /撤销: reverts the caller's own last write, within 10 minutes; the undo is audited too. */
export default defineCommand({
  name: 'undo',
  aliases: ['撤销'],
  summary: 'undo.summary',
  examples: ['/撤销'],
  params: [],
  args: z.object({}),
  roles: 'member',
  writes: true,
  async run({ db, userId, clock, t }) {
    const since = new Date(clock.now().getTime() - UNDO_MINUTES * 60_000);
    const last = await db.auditEvent.findFirst({
      where: { actorUserId: userId, outcome: 'ok', undo: { not: null }, undoneAt: null, at: { gte: since } },
      orderBy: { id: 'desc' },
    });
    if (!last) throw new UserError('undo.nothing', { minutes: UNDO_MINUTES });
    // Only the latest write is undoable: undoing an older one could clobber what came after it.
    const newer = await db.auditEvent.count({ where: { actorUserId: userId, outcome: 'ok', undo: { not: null }, undoneAt: null, id: { gt: last.id } } });
    if (newer) throw new UserError('undo.nothing', { minutes: UNDO_MINUTES });
    const ops = JSON.parse(last.undo!) as UndoOp[];
    for (const op of ops.reverse()) await revert(db, op);
    await db.auditEvent.update({ where: { id: last.id }, data: { undoneAt: clock.now() } });
    return { text: t('undo.done', { command: last.command ?? '' }) };
  },
});

async function revert(db: Tx, op: UndoOp): Promise<void> {
  if (!(UNDO_MODELS as readonly string[]).includes(op.model)) throw new Error(`cannot undo ${op.model}`);
  // One delegate shape for every model the spec allows: create, update and delete by id.
  const delegate = (db as unknown as Record<string, { create(a: unknown): Promise<unknown>; update(a: unknown): Promise<unknown>; delete(a: unknown): Promise<unknown> }>)[op.model]!;
  if (op.action === 'delete') await delegate.delete({ where: op.where });
  else if (op.action === 'update') await delegate.update({ where: op.where, data: op.data });
  else await delegate.create({ data: op.data });
}
