import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../clock.ts';
import { dayIn } from '../clock.ts';
import { UserError } from '../core/errors.ts';
import type { Db, Tx } from '../db/client.ts';
import { tell } from '../delivery/audience.ts';
import type { GroupReach } from '../delivery/groups.ts';
import type { Campaign } from '../domain/context.ts';
import { holdsDemoData } from '../domain/demo.ts';
import { isLocale, translator, type Locale, type Translate } from '../i18n.ts';
import { sendToAsker, type Attachment } from './attachments.ts';
import type { Registry } from './registry.ts';
import type { Channel, CommandContext, Reply } from './spec.ts';
import { robotsOnly } from '../wecom/messages.ts';
import { STREAM_IMAGE_BYTES } from '../wecom/cards.ts';

// Slow work off the message lane. A command whose work takes long at a county's real size (the
// /导出 workbook, the /覆盖率 图 chart) stores it as a job and answers at once; the runner makes
// the result a few at a time, then delivers it to the asker through the outbox. A job is stored
// (table Job), so it survives a restart: one found running at start is run again, one found ready
// is delivered. Delivery and the job's last state change commit together, so a result is
// delivered exactly once, even if its work was done twice.
//
// Asked over the AI bot, the job may finish the stream reply that said it was under way: the
// result (its text, a picture as the stream's msg_item) is given in the reply itself while WeCom
// still takes it, else as the follow-up message through the outbox. In callback mode WeCom's
// refresh callbacks ask for the stream (JobStreams.refresh, on any replica); over the long
// connection the runner pushes the finishing frame under the callback's req_id (`pushStream`).
// Which of the two happens is decided by a fenced state change on the Job row, so it is one.

/** How long after a member's message its stream may still be finished: WeCom asks for at most 6 minutes from the message; half a minute is kept in hand. */
export const STREAM_WINDOW_MS = 330_000;
/** A stream reply as WeCom is to show it: under way, or finished with the result (and its picture). */
export interface StreamAnswer {
  finish: boolean;
  text: string;
  /** The picture (PNG bytes) the finished stream shows. */
  image?: Buffer;
}

/** Pushes a finished stream under a long connection's callback req_id; resolves once WeCom acknowledged it, else throws. */
export type StreamPusher = (stream: { id: string; reqId: string }, answer: StreamAnswer) => Promise<void>;

/** What a command's background work sees. */
export interface JobContext {
  db: Tx;
  /** For work run in a process of its own (the export). */
  databaseUrl: string;
  campaign: Campaign;
  clock: Clock;
  timeZone: string;
  today: string;
  locale: Locale;
  t: Translate;
  /** The configured CJK font file for charts (BOT_CJK_FONT), if any. */
  cjkFont?: string | undefined;
}

/** What a job delivers: a text, and the file or picture it made. */
export interface JobResult {
  text: string;
  attachment?: { type: Attachment['type']; path: string; name: string };
}

/**
 * Stores the command's slow work as a job; the reply that says it is under way (naming the job,
 * so a stream reply stays open for its result).
 */
export async function startJob(ctx: CommandContext, kind: string, args: Record<string, unknown>): Promise<Reply> {
  const now = ctx.clock.now();
  const job = await ctx.db.job.create({
    data: {
      kind,
      args: JSON.stringify(args),
      campaignId: ctx.campaign.id,
      userId: ctx.userId,
      chatId: ctx.chatId,
      channel: ctx.channel,
      locale: ctx.locale,
      createdAt: now,
      ...(ctx.stream
        ? {
            streamId: ctx.stream.id,
            streamReqId: ctx.stream.reqId ?? null,
            streamUntil: new Date(now.getTime() + STREAM_WINDOW_MS),
          }
        : {}),
    },
  });
  return { text: ctx.t('jobs.started'), job: job.id };
}

export interface JobRunnerOptions {
  db: Db;
  registry: Registry;
  clock: Clock;
  timeZone: string;
  databaseUrl: string;
  reach?: GroupReach;
  /** The configured CJK font file for charts, if any. */
  cjkFont?: string | undefined;
  log?: (m: string) => void;
  /** Jobs run at once (default 2: the machine's other core serves the messages). */
  concurrency?: number;
  /** How often the table is looked at for new jobs. */
  pollMs?: number;
  /** Told each delivered text (the sandbox chat prints it). */
  delivered?: (text: string) => void;
  /** The long connection's finishing frame, when the deployment has one (this instance holds it while it leads). */
  pushStream?: StreamPusher | undefined;
}

/** Tries of a job whose work fails unexpectedly, before the asker is told it failed. */
export const JOB_ATTEMPTS = 3;

type JobRow = NonNullable<Awaited<ReturnType<Db['job']['findFirst']>>>;
type Stored = JobResult & { failed?: boolean };
const localeOf = (job: JobRow): Locale => (isLocale(job.locale) ? job.locale : 'zh-CN');
/** Whether the job's stream may still be finished at `now`. */
const streamOpen = (job: JobRow, now: Date): boolean =>
  job.streamId !== null && job.streamUntil !== null && job.streamUntil > now;

/**
 * The streams of jobs: what a refresh of one shows (on any instance: the state is the Job row's),
 * and the finished answer a result makes.
 */
export class JobStreams {
  constructor(private readonly o: { db: Db; clock: Clock }) {}

  /**
   * The answer to WeCom's refresh of a stream (callback mode): under way while the job is; its
   * result once ready (taken for the stream here, fenced, so the runner does not also send it);
   * the same again to a later refresh; a short "sent apart" once it went as a follow-up. Null for
   * a stream no job has.
   */
  async refresh(streamId: string): Promise<StreamAnswer | null> {
    const { db, clock } = this.o;
    const job = await db.job.findFirst({ where: { streamId }, orderBy: { id: 'desc' } });
    if (!job) return null;
    const t = translator(localeOf(job));
    if (job.state === 'done' || job.state === 'failed') {
      if (job.deliveredVia !== 'stream') return { finish: true, text: t('jobs.sent_apart') };
      return (await this.finished(job, { stored: true })) ?? { finish: true, text: t('jobs.sent_apart') };
    }
    const now = clock.now();
    if (job.state === 'ready' && job.streamReqId === null && streamOpen(job, now)) {
      const answer = await this.finished(job);
      if (answer) {
        const taken = await db.job.updateMany({
          where: { id: job.id, state: 'ready', streamUntil: { gt: now } },
          data: { state: failedOf(job) ? 'failed' : 'done', deliveredVia: 'stream', finishedAt: now },
        });
        return taken.count ? answer : this.refresh(streamId);
      }
    }
    return { finish: false, text: t('jobs.started') };
  }

  /**
   * The finished stream a job's result makes: its text (with the demo line, as the follow-up has
   * it) and its picture. Null when a stream cannot carry it: a file, a picture over WeCom's limit
   * or no longer on disk (`stored`: a stream given before keeps its text).
   */
  async finished(job: JobRow, o: { stored?: boolean } = {}): Promise<StreamAnswer | null> {
    const result = JSON.parse(job.result ?? '{}') as Stored;
    const a = result.attachment;
    if (a && a.type !== 'image') return null;
    const png = a ? await readFile(a.path).catch(() => null) : null;
    if (a && (!png || png.length > STREAM_IMAGE_BYTES) && !o.stored) return null;
    const t = translator(localeOf(job));
    const campaign = await this.o.db.campaign.findUniqueOrThrow({ where: { id: job.campaignId } });
    const demo = !result.failed && (await holdsDemoData(this.o.db, campaign)) ? [t('demo.data')] : [];
    return {
      finish: true,
      text: [result.text, ...demo].join('\n'),
      ...(png && png.length <= STREAM_IMAGE_BYTES ? { image: png } : {}),
    };
  }
}

const failedOf = (job: JobRow): boolean => (JSON.parse(job.result ?? '{}') as Stored).failed === true;

export class JobRunner {
  private readonly streams: JobStreams;
  private readonly active = new Set<Promise<void>>();
  /** The jobs those are running or delivering (never more than the limit). */
  private readonly inFlight = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: JobRunnerOptions) {
    this.streams = new JobStreams(o);
  }

  /**
   * Jobs a stopped process left running are run again; then the table is watched. A long
   * connection's streams went with the connection that took their messages (a req_id holds on its
   * connection only): their results go as follow-ups, and one a stopped process was pushing is
   * delivered again that way.
   */
  async start(): Promise<void> {
    this.stopped = false;
    const { db } = this.o;
    await db.job.updateMany({
      where: { state: { in: ['pending', 'running', 'ready', 'streaming'] }, streamReqId: { not: null } },
      data: { streamUntil: null },
    });
    await db.job.updateMany({ where: { state: 'streaming' }, data: { state: 'ready' } });
    const { count } = await db.job.updateMany({ where: { state: 'running' }, data: { state: 'pending' } });
    if (count) this.o.log?.(`${count} job(s) left unfinished by a stop: run again`);
    this.timer = setInterval(() => void this.pump(), this.o.pollMs ?? 500);
    this.timer.unref();
    void this.pump();
  }

  /** Starts waiting jobs up to the limit (one pump at a time). */
  pump(): Promise<void> {
    this.pumping ??= this.fill().finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  /** Runs every waiting job to its end (tests, and a clean stop). */
  async drain(): Promise<void> {
    for (;;) {
      await this.pump();
      if (!this.active.size) return;
      await Promise.race(this.active);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all(this.active);
  }

  private async fill(): Promise<void> {
    while (!this.stopped && this.active.size < (this.o.concurrency ?? 2)) {
      const job = await this.claim();
      if (!job) return;
      this.inFlight.add(job.id);
      const run: Promise<void> = this.run(job)
        .catch((e: unknown) => this.o.log?.(`job ${job.id} (${job.kind}): ${(e as Error).stack ?? e}`))
        .finally(() => {
          this.active.delete(run);
          this.inFlight.delete(job.id);
        });
      this.active.add(run);
    }
  }

  /**
   * The oldest job waiting: a pending one taken (fenced on its state), or a ready one to deliver
   * (one whose stream WeCom's refreshes may still take is left to them until its window passes).
   */
  private async claim(): Promise<JobRow | null> {
    const { db, clock } = this.o;
    for (;;) {
      const job = await db.job.findFirst({
        where: {
          OR: [
            { state: 'pending' },
            {
              state: 'ready',
              OR: [{ streamUntil: null }, { streamUntil: { lte: clock.now() } }, { streamReqId: { not: null } }],
            },
          ],
          id: { notIn: [...this.inFlight] },
        },
        orderBy: { id: 'asc' },
      });
      if (!job || job.state === 'ready') return job;
      const taken = await db.job.updateMany({
        where: { id: job.id, state: 'pending' },
        data: { state: 'running', attempts: { increment: 1 }, startedAt: clock.now() },
      });
      if (taken.count) return { ...job, state: 'running', attempts: job.attempts + 1 };
    }
  }

  private async run(job: JobRow): Promise<void> {
    const { db, clock, timeZone } = this.o;
    const locale = localeOf(job);
    const t = translator(locale);
    if (job.state === 'running') {
      let result: Stored;
      try {
        const spec = this.o.registry.find(job.kind);
        if (!spec?.background) throw new Error(`no background work for ${job.kind}`);
        const campaign = await db.campaign.findUniqueOrThrow({
          where: { id: job.campaignId },
          select: { id: true, key: true, name: true, docNumber: true, countyCode: true, countyName: true },
        });
        const context = {
          db,
          databaseUrl: this.o.databaseUrl,
          campaign,
          clock,
          timeZone,
          locale,
          t,
          cjkFont: this.o.cjkFont,
        };
        result = await spec.background({ ...context, today: dayIn(clock.now(), timeZone) }, JSON.parse(job.args));
      } catch (e) {
        if (e instanceof UserError) result = { text: t(e.key, e.params) };
        else {
          this.o.log?.(`job ${job.id} (${job.kind}) failed, attempt ${job.attempts}: ${(e as Error).stack ?? e}`);
          if (job.attempts < JOB_ATTEMPTS) {
            await db.job.updateMany({ where: { id: job.id, state: 'running' }, data: { state: 'pending' } });
            return;
          }
          result = { text: t('jobs.failed', { ref: job.id }), failed: true };
        }
      }
      // Fenced on the attempt: a job run again meanwhile (a restart beside a live replica) stores one result.
      const stored = await db.job.updateMany({
        where: { id: job.id, state: 'running', attempts: job.attempts },
        data: { state: 'ready', result: JSON.stringify(result) },
      });
      if (!stored.count) return;
    }
    await this.settle(job.id);
  }

  /**
   * A ready result: given in its stream while WeCom takes it (callback mode: left for the next
   * refresh; long connection: pushed under the req_id), else delivered as the follow-up.
   */
  private async settle(id: number): Promise<void> {
    const { db, clock } = this.o;
    const job = await db.job.findUniqueOrThrow({ where: { id } });
    if (job.state !== 'ready') return;
    const answer = streamOpen(job, clock.now()) ? await this.streams.finished(job) : null;
    if (answer && job.streamReqId === null) return;
    if (answer && job.streamReqId !== null && (await this.push(job, answer))) return;
    await this.deliver(id);
  }

  /**
   * The finishing frame under the long connection's req_id, the job taken for it first (fenced); a
   * frame WeCom did not take (connection down or changed, window passed) leaves the result to the
   * follow-up. False then.
   */
  private async push(job: JobRow, answer: StreamAnswer): Promise<boolean> {
    const { db, clock, pushStream } = this.o;
    if (!pushStream) return false;
    const taken = await db.job.updateMany({ where: { id: job.id, state: 'ready' }, data: { state: 'streaming' } });
    if (!taken.count) return true;
    try {
      await pushStream({ id: job.streamId!, reqId: job.streamReqId! }, answer);
    } catch (e) {
      this.o.log?.(`job ${job.id}: not given in its stream (${(e as Error).message}): sent as a follow-up`);
      await db.job.updateMany({
        where: { id: job.id, state: 'streaming' },
        data: { state: 'ready', streamUntil: null },
      });
      return false;
    }
    await db.job.updateMany({
      where: { id: job.id, state: 'streaming' },
      data: { state: failedOf(job) ? 'failed' : 'done', deliveredVia: 'stream', finishedAt: clock.now() },
    });
    this.o.delivered?.(answer.text);
    return true;
  }

  /** The result to the asker and the job done, in one transaction. */
  private async deliver(id: number): Promise<void> {
    const { db, clock } = this.o;
    const text = await db.$transaction(async (tx) => {
      const job = await tx.job.findUniqueOrThrow({ where: { id } });
      const result = JSON.parse(job.result!) as Stored;
      const done = await tx.job.updateMany({
        where: { id, state: 'ready' },
        data: { state: result.failed ? 'failed' : 'done', deliveredVia: 'outbox', finishedAt: clock.now() },
      });
      if (!done.count) return null;
      const t = translator(localeOf(job));
      const campaign = await tx.campaign.findUniqueOrThrow({ where: { id: job.campaignId } });
      const asker = {
        t,
        channel: job.channel as Channel,
        chatId: job.chatId,
        tell: (to: 'asker', notice: Parameters<typeof tell>[3]) =>
          tell(
            {
              db: tx,
              reach: this.o.reach ?? robotsOnly,
              countyCode: campaign.countyCode,
              asker: { userId: job.userId, chatId: job.chatId, overBot: job.channel === 'bot' },
            },
            clock,
            to,
            notice,
          ),
      };
      const a = result.attachment;
      const lines = a
        ? await sendToAsker(
            asker,
            a.type === 'image' ? { ...a, type: 'image', png: readFileSync(a.path) } : { ...a, type: 'file' },
          )
        : [];
      const demo = !result.failed && (await holdsDemoData(tx, campaign)) ? [t('demo.data')] : [];
      const text = [result.text, ...lines, ...demo].join('\n');
      await asker.tell('asker', { markdown: text });
      return text;
    });
    if (text !== null) this.o.delivered?.(text);
  }
}
