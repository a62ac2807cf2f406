// A notice and who it is for, as the domain says it; the audience router (src/delivery/audience.ts)
// turns it into outbox messages and answers who was reached, who was not, and why.

/**
 * Who is told: a unit (its groups, else its liaisons through the app), the unit's 责任人 or 分管领导
 * (each through the app), the county's leaders' or admins' groups, the county office (县安委办: its
 * unit's groups or liaisons, else the leaders), one member, the member who asked
 * (in the chat they asked in), or one group chat.
 */
export type Audience =
  | { unit: number }
  | { unit: number; people: 'responsible' | 'in_charge' }
  | 'leaders'
  | 'admins'
  | 'office'
  | { member: string }
  | 'asker'
  | { group: string };

/**
 * A button under a message, where the channel has template cards. Pressing it runs `command`
 * exactly as if the presser had typed it: same parsing, permissions and checks, as the presser.
 */
export interface Button {
  label: string;
  command: string;
  style?: 'primary' | 'danger';
  /**
   * What pressing it decides, when other buttons of the card decide the same (批准 and 驳回 of one
   * proposal): once one of them went through, the card shows the outcome and closes them all.
   * Without it a button decides its own command line.
   */
  decides?: string;
}

/** A decision taken by pressing a card's button: who, when (a minute in the campaign's zone), and the result's first line. */
export interface Pressed {
  decides: string;
  by: string;
  at: string;
  result: string;
}

/** What a pressed button decides (src/core/notice.ts Button.decides). */
export const decisionOf = (b: Button): string => b.decides ?? b.command;

/** WeCom's button_interaction cards hold at most six buttons. */
export const MAX_BUTTONS = 6;

export type Notice =
  /**
   * Markdown for groups; members reached through the app get it as plain text, with `buttons` as a
   * card. `mention` @-mentions, in a unit's groups, the liaisons who would otherwise be told.
   */
  | { markdown: string; mention?: boolean; buttons?: Button[] }
  /** A picture; `path` is where it was written, for a channel that uploads files. */
  | { image: Buffer; path: string; name: string }
  | { file: string; name: string }
  /** A chart of the campaign's figures on a day, drawn when it is sent (by robot inline, over the long connection uploaded). */
  | { chart: ChartRef };

/**
 * Which chart a queued chart row draws: the coverage chart of the day (by sector and township;
 * rows queued before `kind` existed say nothing and are this one), or the trend of the eight
 * high-risk sectors every week since the campaign took effect up to the day.
 */
export interface ChartRef {
  campaignId: number;
  day: string;
  kind?: 'coverage' | 'trend';
}

/** A destination reached: a group chat, or a member through the app. */
export interface Reached {
  via: 'group' | 'member';
  name: string;
}

/** Whom a notice could not reach, and why (a locale key under notice.why_*). */
export interface Missed {
  who: string;
  why: 'no_destination' | 'no_group' | 'unknown_member' | 'unreachable_chat' | 'no_responsible' | 'no_in_charge';
}

export interface Told {
  reached: Reached[];
  missed: Missed[];
}

/** Told results of several notices, as one. */
export const merged = (all: Told[]): Told => ({
  reached: all.flatMap((x) => x.reached),
  missed: all.flatMap((x) => x.missed),
});
