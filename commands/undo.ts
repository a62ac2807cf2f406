import { z } from 'zod';
import { defineCommand } from '../src/bot/spec.ts';
import { UNDO_MINUTES, UNDO_MODELS, type UndoOp } from '../src/core/undo.ts';
import { UserError } from '../src/core/errors.ts';
import type { Tx } from '../src/db/client.ts';
import { refreshCover } from '../src/domain/cover.ts';

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
  async run({ db, userId, clock, t, today }) {
    const since = new Date(clock.now().getTime() - UNDO_MINUTES * 60_000);
    const last = await db.auditEvent.findFirst({
      where: { actorUserId: userId, outcome: 'ok', undo: { not: null }, undoneAt: null, at: { gte: since } },
      orderBy: { id: 'desc' },
    });
    if (!last) throw new UserError('undo.nothing', { minutes: UNDO_MINUTES });
    // Only the latest write is undoable: undoing an older one could clobber what came after it.
    const newer = await db.auditEvent.count({
      where: { actorUserId: userId, outcome: 'ok', undo: { not: null }, undoneAt: null, id: { gt: last.id } },
    });
    if (newer) throw new UserError('undo.nothing', { minutes: UNDO_MINUTES });
    const ops = JSON.parse(last.undo!) as UndoOp[];
    for (const op of ops.reverse()) await revert(db, op, today);
    await db.auditEvent.update({ where: { id: last.id }, data: { undoneAt: clock.now() } });
    return { text: t('undo.done', { command: last.command ?? '' }) };
  },
});

async function revert(db: Tx, op: UndoOp, today: string): Promise<void> {
  if (!(UNDO_MODELS as readonly string[]).includes(op.model)) throw new Error(`cannot undo ${op.model}`);
  // An enterprise's kept cover follows its policies (src/domain/cover.ts): the owners before and after.
  const owner = async () =>
    'where' in op
      ? (await db.policy.findUnique({ where: op.where, select: { enterpriseId: true } }))?.enterpriseId
      : op.data.enterpriseId;
  const before = op.model === 'policy' ? await owner() : undefined;
  // One delegate shape for every model the spec allows: create, update and delete by id.
  const delegate = (
    db as unknown as Record<
      string,
      {
        create(a: unknown): Promise<unknown>;
        update(a: unknown): Promise<unknown>;
        delete(a: unknown): Promise<unknown>;
      }
    >
  )[op.model]!;
  if (op.action === 'delete') await delegate.delete({ where: op.where });
  else if (op.action === 'update') await delegate.update({ where: op.where, data: op.data });
  else await delegate.create({ data: op.data });
  if (op.model === 'policy')
    await refreshCover(
      db,
      [before, await owner()].filter((id): id is number => typeof id === 'number'),
      today,
    );
}
