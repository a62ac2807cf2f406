import { readFileSync } from 'node:fs';
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
import type { Channel, CommandContext } from './spec.ts';
import { robotsOnly } from '../wecom/messages.ts';

// Slow work off the message lane. A command whose work takes long at a county's real size (the
// /导出 workbook, the /覆盖率 图 chart) stores it as a job and answers at once; the runner makes
// the result a few at a time, then delivers it to the asker through the outbox. A job is stored
// (table Job), so it survives a restart: one found running at start is run again, one found ready
// is delivered. Delivery and the job's last state change commit together, so a result is
// delivered exactly once, even if its work was done twice.

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

/** Stores the command's slow work as a job; the reply that says it is under way. */
export async function startJob(ctx: CommandContext, kind: string, args: Record<string, unknown>): Promise<string> {
  await ctx.db.job.create({
    data: {
      kind,
      args: JSON.stringify(args),
      campaignId: ctx.campaign.id,
      userId: ctx.userId,
      chatId: ctx.chatId,
      channel: ctx.channel,
      locale: ctx.locale,
      createdAt: ctx.clock.now(),
    },
  });
  return ctx.t('jobs.started');
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
}

/** Tries of a job whose work fails unexpectedly, before the asker is told it failed. */
export const JOB_ATTEMPTS = 3;

type JobRow = NonNullable<Awaited<ReturnType<Db['job']['findFirst']>>>;
const localeOf = (job: JobRow): Locale => (isLocale(job.locale) ? job.locale : 'zh-CN');

export class JobRunner {
  private readonly active = new Set<Promise<void>>();
  /** The jobs those are running or delivering (never more than the limit). */
  private readonly inFlight = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: JobRunnerOptions) {}

  /** Jobs a stopped process left running are run again; then the table is watched. */
  async start(): Promise<void> {
    this.stopped = false;
    const { count } = await this.o.db.job.updateMany({ where: { state: 'running' }, data: { state: 'pending' } });
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

  /** The oldest job waiting: a pending one taken (fenced on its state), or a ready one to deliver. */
  private async claim(): Promise<JobRow | null> {
    const { db, clock } = this.o;
    for (;;) {
      const job = await db.job.findFirst({
        where: { state: { in: ['pending', 'ready'] }, id: { notIn: [...this.inFlight] } },
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
      let result: JobResult & { failed?: boolean };
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
    await this.deliver(job.id);
  }

  /** The result to the asker and the job done, in one transaction. */
  private async deliver(id: number): Promise<void> {
    const { db, clock } = this.o;
    const text = await db.$transaction(async (tx) => {
      const job = await tx.job.findUniqueOrThrow({ where: { id } });
      const result = JSON.parse(job.result!) as JobResult & { failed?: boolean };
      const done = await tx.job.updateMany({
        where: { id, state: 'ready' },
        data: { state: result.failed ? 'failed' : 'done', finishedAt: clock.now() },
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
