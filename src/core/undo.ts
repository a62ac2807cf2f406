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
  'servicePlan',
  'member',
  'groupChat',
] as const;
export type UndoModel = (typeof UNDO_MODELS)[number];

export type UndoOp =
  | { model: UndoModel; action: 'delete'; where: { id: number } }
  | { model: UndoModel; action: 'update'; where: { id: number }; data: Record<string, unknown> }
  | { model: UndoModel; action: 'create'; data: Record<string, unknown> };
