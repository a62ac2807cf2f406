import Koa from 'koa';
import Router from '@koa/router';
import type { Db } from '../db/client.ts';
import { systemClock } from '../clock.ts';
import { functionLogger, redactor, since, type Logger } from '../log.ts';

export interface HttpOptions {
  db: Db;
  version: string;
  mode: 'sandbox' | 'wecom';
  channels: { bot: boolean; app: boolean };
  /** Among replicas: whether this instance holds the leader lease now (src/db/lease.ts). */
  role: () => 'leader' | 'follower';
  routers: Router[];
  /** The service's logger; or `log`, a function given the text of each line. */
  logger?: Logger;
  log?: (m: string) => void;
}

/** The Koa app: health, and whatever routers the service mounts (the WeCom callbacks). */
export function createHttpApp(o: HttpOptions): Koa {
  const logger = o.logger ?? functionLogger(o.log ?? (() => {}), systemClock);
  const app = new Koa();
  app.proxy = true;
  app.use(async (ctx, next) => {
    const start = performance.now();
    try {
      await next();
    } catch (e) {
      logger.error({ err: e, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = 'internal error';
    }
    // The path only: a query may carry a signature or a one-time code.
    logger.debug({ method: ctx.method, path: ctx.path, status: ctx.status, durationMs: since(start) }, 'request');
  });
  const health = new Router();
  // Alive: the process serves. It says how the database answers, but only /readyz judges readiness.
  health.get('/healthz', async (ctx) => {
    let database = 'ok';
    try {
      await o.db.$queryRaw`SELECT 1`;
    } catch (e) {
      database = `error: ${redactor([])((e as Error).message.split('\n')[0]!).slice(0, 200)}`;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      ok: true,
      version: o.version,
      mode: o.mode,
      channels: o.channels,
      role: o.role(),
      database,
    };
  });
  for (const r of [health, ...o.routers]) app.use(r.routes()).use(r.allowedMethods());
  return app;
}
