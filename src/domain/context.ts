import type { Clock } from '../clock.ts';
import type { Member } from '../core/roles.ts';
import type { UndoOp } from '../core/undo.ts';
import type { Audience, Notice, Told } from '../core/notice.ts';
import type { Tx } from '../db/client.ts';
import type { Translate } from '../i18n.ts';
import type { WorkCalendar } from './calendar.ts';

// What the domain needs of a request, whoever makes it (a command, a rule, an import): the
// command context of the bus extends these, so the domain never depends on the bus.

export interface Campaign {
  id: number;
  key: string;
  name: string;
  docNumber: string;
  countyCode: string;
  countyName: string;
}

/** Who acts, in which campaign, on what day: enough to read and to write with undo. */
export interface Actor {
  /** The database; inside a writing command, its transaction. */
  db: Tx;
  clock: Clock;
  timeZone: string;
  /** Today in the campaign's time zone, 'YYYY-MM-DD'. */
  today: string;
  campaign: Campaign;
  /** The caller, or null for someone the bot does not know. */
  member: Member | null;
  userId: string;
  calendar: WorkCalendar;
  /** The caller's language. */
  t: Translate;
  /** The deployment's language (BOT_LOCALE), for messages to groups rather than to the caller. */
  groupT: Translate;
  /** Records how to revert a write, so the member can /撤销 it within 10 minutes. */
  undoable(op: UndoOp): void;
  /**
   * Tells an audience (a unit, the leaders, the admins, a member, the asker, a group), in this
   * request's transaction: the audience router picks the destinations and says who was reached.
   */
  tell(to: Audience, notice: Notice): Promise<Told>;
}
