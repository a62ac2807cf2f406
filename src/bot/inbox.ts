import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { providerOfClient } from '../db/dialect.ts';
import { enqueue } from '../delivery/outbox.ts';
import { decisionOf, type Pressed } from '../core/notice.ts';
import { appButtonsDone, appCard, appCardUpdate, appText, responseUrlMarkdown } from '../wecom/messages.ts';
import { cardTitle, type ClosedCard } from '../wecom/cards.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { Superseded, type Bus } from './bus.ts';
import type { Channel, Reply, ReplyStream } from './spec.ts';

/** A message accepted from WeCom (or the sandbox), as the bus needs it. */
export interface Accepted {
  dedupeKey: string;
  channel: Channel;
  userId: string;
  chatId: string | null;
  text: string;
  /**
   * 'passive': the reply goes back in the HTTP answer; 'app': to the member through the outbox;
   * 'response_url': through the outbox to the callback's response_url (AI bot card presses).
   */
  replyVia: 'passive' | 'app' | 'response_url';
  responseUrl?: string;
  /** A button press: the card's task_id, and in the app the response_code that may update it once. */
  card?: { taskId: string; responseCode?: string };
  /** The AI bot's stream reply it is answered in (a retry finds the first one's, stored). */
  stream?: ReplyStream;
}

/** A decision taken on a card, with the card's words for it (in the groups' language). */
type CardDecision = Pressed & { line: string; done: string };

/**
 * The stored payload: the message, and once handled, the buttons its reply carried and the task_id
 * of the card they went out on; for that card, the decisions pressed on it so far; for a press,
 * the card that replaced the pressed one (given again to a retry).
 */
type Stored = Accepted & {
  replyButtons?: Reply['buttons'];
  job?: number;
  cardTaskId?: string;
  decisions?: CardDecision[];
  closedCard?: ClosedCard;
};

/**
 * A reply as the channels deliver it: its card's task_id, for a press the card that replaces the
 * pressed one, and the stream it is given in (with `job`: a job under way may finish it).
 */
export type Answer = Reply & { taskId?: string; closedCard?: ClosedCard; stream?: ReplyStream };

/**
 * A card's task_id names the inbound message whose reply carried it, so a press finds the card
 * (its title, buttons and decisions) there; the random tail keeps it unique for WeCom across
 * databases (a restored backup numbers messages again).
 */
const cardTaskId = (rowId: number) => `c${rowId}_${randomBytes(6).toString('hex')}`;
const rowOfTaskId = (taskId: string) => Number(/^c(\d+)_[0-9a-f]+$/.exec(taskId)?.[1] ?? NaN);

type Row = { id: number; dedupeKey: string; payload: string; state: string; reply: string | null };

/**
 * Inbound messages are stored once, under their WeCom message id, before anything else happens:
 * a retry finds the stored reply instead of running the command again, and a service killed
 * mid-way finishes the stored messages when it starts (`resume`).
 */
export class Inbox {
  private readonly inFlight = new Map<string, Promise<Answer>>();
  /**
   * Stored messages run through the bus in the order they came, each starting on a new turn of the
   * event loop. SQLite's queries are synchronous, so a run never lets the event loop turn: runs
   * started together would hold it for all of them, and Node reads requests, and accepts new
   * connections (one a turn), only between turns — under a burst some callers waited seconds while
   * others were answered many times. One at a time on SQLite (there is nothing to overlap); a few
   * on PostgreSQL, whose queries wait on the network.
   */
  private readonly turn: <T>(job: () => Promise<T>) => Promise<T>;

  constructor(private readonly o: { db: Db; bus: Bus; clock: Clock; log?: (m: string) => void }) {
    this.turn = inTurn(providerOfClient(o.db) === 'sqlite' ? 1 : 8);
  }

  /** Stores the message; `fresh` is false for a message seen before. */
  async accept(m: Accepted): Promise<{ row: Row; fresh: boolean }> {
    const { db, clock } = this.o;
    try {
      const row = await db.inboundMessage.create({
        data: {
          dedupeKey: m.dedupeKey,
          channel: m.channel,
          fromUser: m.userId,
          chatId: m.chatId,
          payload: JSON.stringify(m),
          receivedAt: clock.now(),
        },
      });
      return { row, fresh: true };
    } catch (e) {
      if (!(e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002')) throw e;
      return { row: await db.inboundMessage.findUniqueOrThrow({ where: { dedupeKey: m.dedupeKey } }), fresh: false };
    }
  }

  /** Runs a stored message through the bus once; concurrent callers share the one run. */
  process(row: Row): Promise<Answer> {
    if (row.state === 'handled') return Promise.resolve(answerOf(JSON.parse(row.payload) as Stored, row.reply ?? ''));
    let run = this.inFlight.get(row.dedupeKey);
    if (!run) {
      run = this.turn(() => this.run(row)).finally(() => this.inFlight.delete(row.dedupeKey));
      this.inFlight.set(row.dedupeKey, run);
    }
    return run;
  }

  /** Resolves once no run is in flight: every message this inbox was given to process so far is done with. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Accepts and processes; the reply (and its buttons), whether this is the first delivery or a retry. */
  async receive(m: Accepted): Promise<Omit<Answer, 'text'> & { reply: string; duplicate: boolean }> {
    const { row, fresh } = await this.accept(m);
    const { text, ...rest } = await this.process(row);
    return { reply: text, ...rest, duplicate: !fresh };
  }

  /** Finishes what was accepted but not handled before the last stop (or, with a time, before then: an instance that died). */
  async resume(receivedBefore?: Date): Promise<number> {
    const rows = await this.o.db.inboundMessage.findMany({
      where: { state: 'received', ...(receivedBefore ? { receivedAt: { lt: receivedBefore } } : {}) },
      orderBy: { id: 'asc' },
    });
    // One message that cannot be handled must not keep the service from starting: it stays
    // 'received' and is logged, and the others are handled.
    for (const row of rows)
      await this.process(row).catch((e) =>
        this.o.log?.(`inbound ${row.dedupeKey} not handled: ${(e as Error).message}`),
      );
    return rows.length;
  }

  private async run(row: Row): Promise<Answer> {
    try {
      return await this.runOnce(row);
    } catch (e) {
      if (!(e instanceof Superseded)) throw e;
      // Another instance (or an earlier run here) handled it first: its stored answer is the answer.
      return this.process(await this.o.db.inboundMessage.findUniqueOrThrow({ where: { id: row.id } }));
    }
  }

  private async runOnce(row: Row): Promise<Answer> {
    const m = JSON.parse(row.payload) as Accepted;
    const { clock } = this.o;
    const card = m.card ? await this.pressedCard(m.card.taskId, m.text) : null;
    // The same decision taken on this card before (by someone else, or by a stale view): say who, run nothing.
    const decided = card?.decisions.find((d) => d.decides === card.decides);
    let closedCard: ClosedCard | undefined;
    let taskId: string | undefined;
    const out = await this.o.bus.handle({ ...m, ...(decided ? { decided } : {}) }, async (tx, out) => {
      if (card && (decided || out.closes)) {
        // Read again in this transaction: another press of the card may have been recorded meanwhile.
        const origin = await tx.inboundMessage.findUniqueOrThrow({ where: { id: card.originId } });
        const stored = JSON.parse(origin.payload) as Stored;
        const decisions = [...(stored.decisions ?? [])];
        if (out.closes && !decisions.some((d) => d.decides === card.decides)) {
          decisions.push({ decides: card.decides, ...out.closes });
          await tx.inboundMessage.update({
            where: { id: origin.id },
            data: { payload: JSON.stringify({ ...stored, decisions } satisfies Stored) },
          });
        }
        const all = stored.replyButtons ?? [];
        closedCard = {
          taskId: card.taskId,
          title: cardTitle(origin.reply ?? ''),
          lines: decisions.map((d) => d.line),
          open: all.filter((b) => !decisions.some((d) => d.decides === decisionOf(b))),
          all,
          done: decisions.at(-1)!.done,
        };
      }
      if (out.buttons?.length && m.replyVia !== 'response_url') taskId = cardTaskId(row.id);
      const stored: Stored | null =
        out.redacted || out.buttons || closedCard || out.job
          ? {
              ...m,
              ...(out.redacted ? { text: out.redacted } : {}),
              ...(out.buttons ? { replyButtons: out.buttons } : {}),
              ...(out.job ? { job: out.job } : {}),
              ...(taskId ? { cardTaskId: taskId } : {}),
              ...(closedCard ? { closedCard } : {}),
            }
          : null;
      const claimed = await tx.inboundMessage.updateMany({
        where: { id: row.id, state: 'received' },
        data: {
          state: 'handled',
          reply: out.text,
          handledAt: clock.now(),
          ...(stored ? { payload: JSON.stringify(stored) } : {}),
        },
      });
      // Another instance finished it first: roll back so the command's effects are not doubled.
      if (claimed.count === 0) throw new Superseded(`inbound ${row.dedupeKey} was handled elsewhere`);
      if (m.replyVia === 'app') {
        await enqueue(tx, appText(m.userId, out.text), clock);
        const cardOut = out.buttons?.length ? appCard(m.userId, out.text, out.buttons, taskId) : null;
        if (cardOut) await enqueue(tx, cardOut, clock);
        // The pressed card, replaced with its outcome through the press's response_code.
        const code = m.card?.responseCode;
        if (code && closedCard) await enqueue(tx, appCardUpdate(m.userId, code, closedCard), clock);
        // A notice's card, not kept: its buttons greyed out under who decided.
        else if (code && !card && out.closes) await enqueue(tx, appButtonsDone(m.userId, code, out.closes.done), clock);
      }
      // The answer to a card press: a card's passive reply may only update that card (doc 101031).
      if (m.replyVia === 'response_url' && m.responseUrl)
        await enqueue(tx, responseUrlMarkdown(m.responseUrl, out.text), clock);
    });
    return {
      text: out.text,
      ...(out.buttons ? { buttons: out.buttons } : {}),
      ...(taskId ? { taskId } : {}),
      ...(closedCard ? { closedCard } : {}),
      ...(out.job ? { job: out.job } : {}),
      ...(m.stream ? { stream: m.stream } : {}),
    };
  }

  /**
   * The card a press was made on, when its reply came through this inbox: the decision the pressed
   * command takes there, and those taken before. Null for a card of ours not found (a notice's
   * card, sent without a message of its own) or a command the card does not carry.
   */
  private async pressedCard(taskId: string, command: string) {
    const originId = rowOfTaskId(taskId);
    if (!Number.isSafeInteger(originId)) return null;
    const origin = await this.o.db.inboundMessage.findUnique({ where: { id: originId } });
    const stored = origin && (JSON.parse(origin.payload) as Stored);
    const button = stored?.cardTaskId === taskId ? stored.replyButtons?.find((b) => b.command === command) : null;
    if (!stored || !button) return null;
    return { originId, taskId, decides: decisionOf(button), decisions: stored.decisions ?? [] };
  }
}

/** A handled message's answer, as stored. */
function answerOf(stored: Stored, text: string): Answer {
  return {
    text,
    ...(stored.replyButtons ? { buttons: stored.replyButtons } : {}),
    ...(stored.cardTaskId ? { taskId: stored.cardTaskId } : {}),
    ...(stored.closedCard ? { closedCard: stored.closedCard } : {}),
    ...(stored.job ? { job: stored.job } : {}),
    ...(stored.stream ? { stream: stored.stream } : {}),
  };
}

/** Runs at most `n` jobs at once, first come first served, each started on a later turn of the event loop. */
function inTurn(n: number): <T>(job: () => Promise<T>) => Promise<T> {
  const waiting: (() => void)[] = [];
  let running = 0;
  const next = () => {
    if (running >= n || !waiting.length) return;
    running++;
    setImmediate(waiting.shift()!);
  };
  return (job) =>
    new Promise((resolve, reject) => {
      waiting.push(
        () =>
          void job()
            .then(resolve, reject)
            .finally(() => {
              running--;
              next();
            }),
      );
      next();
    });
}
