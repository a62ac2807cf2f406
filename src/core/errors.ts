import type { Params } from './translate.ts';

/** A failure the caller can fix: it becomes a localized reply, and nothing is written. */
export class UserError extends Error {
  constructor(
    readonly key: string,
    readonly params?: Params,
  ) {
    super(key);
  }
}
