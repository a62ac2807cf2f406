import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { providerOfClient } from '../db/dialect.ts';
import { enqueue } from '../delivery/outbox.ts';
import { appCard, appText, responseUrlMarkdown } from '../wecom/messages.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { Superseded, type Bus } from './bus.ts';
import type { Channel, Reply } from './spec.ts';

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
}

/** The stored payload: the message, and once handled, the buttons its reply carried. */
type Stored = Accepted & { replyButtons?: Reply['buttons'] };

type Row = { id: number; dedupeKey: string; payload: string; state: string; reply: string | null };

/**
 * Inbound messages are stored once, under their WeCom message id, before anything else happens:
 * a retry finds the stored reply instead of running the command again, and a service killed
 * mid-way finishes the stored messages when it starts (`resume`).
 */
export class Inbox {
  private readonly inFlight = new Map<string, Promise<Reply>>();
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
  process(row: Row): Promise<Reply> {
    if (row.state === 'handled') {
      const { replyButtons } = JSON.parse(row.payload) as Stored;
      return Promise.resolve({ text: row.reply ?? '', ...(replyButtons ? { buttons: replyButtons } : {}) });
    }
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
  async receive(m: Accepted): Promise<{ reply: string; buttons?: Reply['buttons']; duplicate: boolean }> {
    const { row, fresh } = await this.accept(m);
    const { text, buttons } = await this.process(row);
    return { reply: text, ...(buttons ? { buttons } : {}), duplicate: !fresh };
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

  private async run(row: Row): Promise<Reply> {
    try {
      return await this.runOnce(row);
    } catch (e) {
      if (!(e instanceof Superseded)) throw e;
      // Another instance (or an earlier run here) handled it first: its stored answer is the answer.
      return this.process(await this.o.db.inboundMessage.findUniqueOrThrow({ where: { id: row.id } }));
    }
  }

  private async runOnce(row: Row): Promise<Reply> {
    const m = JSON.parse(row.payload) as Accepted;
    const { clock } = this.o;
    const out = await this.o.bus.handle(m, async (tx, out) => {
      const stored: Stored | null =
        out.redacted || out.buttons
          ? {
              ...m,
              ...(out.redacted ? { text: out.redacted } : {}),
              ...(out.buttons ? { replyButtons: out.buttons } : {}),
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
        const card = out.buttons?.length ? appCard(m.userId, out.text, out.buttons) : null;
        if (card) await enqueue(tx, card, clock);
      }
      // The answer to a card press: a card's passive reply may only update that card (doc 101031).
      if (m.replyVia === 'response_url' && m.responseUrl)
        await enqueue(tx, responseUrlMarkdown(m.responseUrl, out.text), clock);
    });
    return { text: out.text, ...(out.buttons ? { buttons: out.buttons } : {}) };
  }
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
