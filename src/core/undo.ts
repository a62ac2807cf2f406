import type { Audience } from './notice.ts';

// What /撤销 may revert: each write records the operation that restores what it changed.

/** How long a member's last write can be undone with /撤销. */
export const UNDO_MINUTES = 10;

/** Models a command may revert through /撤销. */
export const UNDO_MODELS = [
  'progressReport',
  'policy',
  'obligation',
  'obligationEvent',
  'preventionVisit',
  'inspection',
  'blacklistProposal',
  'servicePlan',
  'member',
  'groupChat',
  'claim',
  'claimDispute',
  'agencyFinding',
] as const;
export type UndoModel = (typeof UNDO_MODELS)[number];

/**
 * `withdraw` marks a record withdrawn (withdrawnAt, withdrawnBy): it stays in the audit trail and
 * the export, and leaves figures, lists and reminders. Records are withdrawn, never deleted;
 * `delete` is for settings (a member's binding, a group, a service plan's first version).
 */
export type UndoOp =
  | { model: UndoModel; action: 'withdraw'; where: { id: number } }
  | { model: UndoModel; action: 'delete'; where: { id: number } }
  | { model: UndoModel; action: 'update'; where: { id: number }; data: Record<string, unknown> }
  | { model: UndoModel; action: 'create'; data: Record<string, unknown> };

/** The outbox rows a write queued for one audience: cancelled if still queued, retracted if sent. */
export interface UndoTold {
  to: Audience;
  outbox: number[];
}

/** What an audit event keeps for /撤销: the reverting operations, and the messages the write queued. */
export interface UndoEntry {
  ops: UndoOp[];
  told: UndoTold[];
}

/** An audit event's stored undo entry (older entries were a bare list of operations). */
export function readUndo(stored: string): UndoEntry {
  const parsed = JSON.parse(stored) as UndoEntry | UndoOp[];
  return Array.isArray(parsed) ? { ops: parsed, told: [] } : parsed;
}
