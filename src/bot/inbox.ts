import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { appText, enqueue } from '../delivery/outbox.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Bus } from './bus.ts';
import type { Channel } from './spec.ts';

/** A message accepted from WeCom (or the sandbox), as the bus needs it. */
export interface Accepted {
  dedupeKey: string;
  channel: Channel;
  userId: string;
  chatId: string | null;
  text: string;
  /** 'passive': the reply goes back in the HTTP answer; 'app': to the member through the outbox. */
  replyVia: 'passive' | 'app';
}

type Row = { id: number; dedupeKey: string; payload: string; state: string; reply: string | null };

/**
 * Inbound messages are stored once, under their WeCom message id, before anything else happens:
 * a retry finds the stored reply instead of running the command again, and a service killed
 * mid-way finishes the stored messages when it starts (`resume`).
 */
export class Inbox {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly o: { db: Db; bus: Bus; clock: Clock; log?: (m: string) => void }) {}

  /** Stores the message; `fresh` is false for a message seen before. */
  async accept(m: Accepted): Promise<{ row: Row; fresh: boolean }> {
    const { db, clock } = this.o;
    try {
      const row = await db.inboundMessage.create({
        data: { dedupeKey: m.dedupeKey, channel: m.channel, fromUser: m.userId, chatId: m.chatId, payload: JSON.stringify(m), receivedAt: clock.now() },
      });
      return { row, fresh: true };
    } catch (e) {
      if (!(e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002')) throw e;
      return { row: await db.inboundMessage.findUniqueOrThrow({ where: { dedupeKey: m.dedupeKey } }), fresh: false };
    }
  }

  /** Runs a stored message through the bus once; concurrent callers share the one run. */
  process(row: Row): Promise<string> {
    if (row.state === 'handled') return Promise.resolve(row.reply ?? '');
    let run = this.inFlight.get(row.dedupeKey);
    if (!run) {
      run = this.run(row).finally(() => this.inFlight.delete(row.dedupeKey));
      this.inFlight.set(row.dedupeKey, run);
    }
    return run;
  }

  /** Accepts and processes; the reply, whether this is the first delivery or a retry. */
  async receive(m: Accepted): Promise<{ reply: string; duplicate: boolean }> {
    const { row, fresh } = await this.accept(m);
    return { reply: await this.process(row), duplicate: !fresh };
  }

  /** Finishes what was accepted but not handled before the last stop. */
  async resume(): Promise<number> {
    const rows = await this.o.db.inboundMessage.findMany({ where: { state: 'received' }, orderBy: { id: 'asc' } });
    for (const row of rows) await this.process(row);
    return rows.length;
  }

  private async run(row: Row): Promise<string> {
    const m = JSON.parse(row.payload) as Accepted;
    const out = await this.o.bus.handle(m, async (tx, out) => {
      const claimed = await tx.inboundMessage.updateMany({
        where: { id: row.id, state: 'received' },
        data: {
          state: 'handled', reply: out.text, handledAt: this.o.clock.now(),
          ...(out.redacted ? { payload: JSON.stringify({ ...m, text: out.redacted }) } : {}),
        },
      });
      // Another instance finished it first: roll back so the command's effects are not doubled.
      if (claimed.count === 0) throw new Error(`inbound ${row.dedupeKey} was handled elsewhere`);
      if (m.replyVia === 'app') await enqueue(tx, appText(m.userId, out.text), this.o.clock);
    });
    return out.text;
  }
}
