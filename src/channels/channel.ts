// A way members reach the bot and the bot reaches them: the AI bot by callback or by long
// connection, the self-built app, the groups' webhook robots, the sandbox. Each is one module of
// src/channels/, built from the configuration, and the service loops over them (src/service.ts):
// their routes are served, their senders given to the dispatcher with their rate limits, their
// connections started and stopped with the lead, their health shown by /readyz.
import type Router from '@koa/router';
import type { Inbox } from '../bot/inbox.ts';
import type { JobStreams, StreamPusher } from '../bot/jobs.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { OutboxChannel } from '../core/outbound.ts';
import type { Db } from '../db/client.ts';
import type { Sender } from '../delivery/dispatcher.ts';
import type { ChannelState, HealthCheck } from '../ops/readiness.ts';
import type { AppApi } from '../wecom/api.ts';
import type { LongConnTuning } from './longconn-bot.ts';

export interface Channel {
  /** Its name in /readyz. */
  name: string;
  /** The HTTP routes WeCom calls, for a channel in callback mode. */
  routes?: Router;
  /** The outbox channels it sends, each with its sender. */
  senders: Partial<Record<OutboxChannel, Sender>>;
  /** Messages per destination and minute, for the outbox channels it sends that have a limit. */
  perMinute: Partial<Record<OutboxChannel, number>>;
  /** Finishes a job's stream reply under its req_id (the long connection), for the job runner. */
  pushStream?: StreamPusher;
  /** Whether its sends must wait now, spending no attempt (the long connection is down). */
  paused?(): boolean;
  /** What only the leader holds (the AI bot's long connection), started and stopped with the lead. */
  start?(): void;
  stop?(): Promise<void>;
  /** Its state for /readyz, and the problem that makes the instance not ready, once it has lasted. */
  health?(check: HealthCheck): { state: ChannelState; problem?: string };
}

/** What channels are built from besides the configuration. */
export interface ChannelDeps {
  config: Config;
  clock: Clock;
  /** A logger by component. */
  log: (component: string) => (m: string) => void;
  /**
   * Where inbound messages go. Without an inbox (a dispatcher on its own: tests, tools) a channel
   * only sends: no routes, and no long connection, whose sender needs one.
   */
  inbox?: Inbox;
  /** The service's database: where the long connection keeps its media ids across restarts (in memory without it). */
  db?: Db;
  /**
   * The jobs' streams: a slow command's reply is left open for its result and WeCom's refresh
   * callbacks are answered from them. Without them every reply is finished at once.
   */
  streams?: Pick<JobStreams, 'refresh'>;
  /** The self-built app's API client, one per process (the dashboard shares its tokens). */
  api?: AppApi;
  /** The long connection's timings (tests). */
  tuning?: LongConnTuning;
  /** Told of each callback refused by its checks (the metrics). */
  onRefused?: (channel: 'bot' | 'app') => void;
}

/** A channel module: the channel the configuration asks for, or null when it asks for none. */
export type OpenChannel = (deps: ChannelDeps) => Channel | null;

/** The senders of all the channels, by outbox channel. */
export const sendersOf = (channels: readonly Channel[]): Partial<Record<OutboxChannel, Sender>> =>
  Object.assign({}, ...channels.map((c) => c.senders));

/** The rate limits of all the channels, by outbox channel. */
export const perMinuteOf = (channels: readonly Channel[]): Partial<Record<OutboxChannel, number>> =>
  Object.assign({}, ...channels.map((c) => c.perMinute));
