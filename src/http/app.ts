import Koa from 'koa';
import Router from '@koa/router';
import type { Db } from '../db/client.ts';

export interface HttpOptions {
  db: Db;
  version: string;
  mode: 'sandbox' | 'wecom';
  channels: { bot: boolean; app: boolean };
  /** Among replicas: whether this instance holds the leader lease now (src/db/lease.ts). */
  role: () => 'leader' | 'follower';
  routers: Router[];
  log: (m: string) => void;
}

/** The Koa app: health, and whatever routers the service mounts (the WeCom callbacks). */
export function createHttpApp(o: HttpOptions): Koa {
  const app = new Koa();
  app.proxy = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      o.log(`${ctx.method} ${ctx.path} failed: ${(e as Error).stack ?? e}`);
      ctx.status = 500;
      ctx.body = 'internal error';
    }
  });
  const health = new Router();
  health.get('/healthz', async (ctx) => {
    let database = 'ok';
    try {
      await o.db.$queryRaw`SELECT 1`;
    } catch (e) {
      database = `error: ${(e as Error).message}`;
      ctx.status = 503;
    }
    ctx.body = {
      ok: database === 'ok',
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
