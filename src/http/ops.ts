// The routes for the IT office and for WeCom's console rather than for members: /readyz,
// /metrics, and WeCom's domain verification file.
import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Registry } from 'prom-client';
import type { Readiness } from '../ops/readiness.ts';

export interface OpsRoutes {
  readiness: () => Promise<Readiness>;
  /** /metrics; absent when off (METRICS unset). */
  metrics?: { registry: Registry; token?: string };
  verifyFile?: { name: string; content: string };
}

/** Whether the request came over loopback, from this machine: the socket's address, never a forwarded header. */
export function fromLoopback(ctx: Context): boolean {
  const a = ctx.req.socket.remoteAddress ?? '';
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function opsRoutes(o: OpsRoutes): Router {
  const router = new Router();
  router.get('/readyz', async (ctx) => {
    const r = await o.readiness();
    ctx.status = r.ready ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = r;
  });
  if (o.metrics) {
    const { registry, token } = o.metrics;
    router.get('/metrics', async (ctx) => {
      // With a token, anyone who has it (a Prometheus elsewhere); without, this machine only.
      const auth = /^Bearer (.+)$/.exec(ctx.get('Authorization'))?.[1];
      const allowed = token ? auth !== undefined && sameSecret(auth, token) : fromLoopback(ctx);
      if (!allowed) {
        ctx.status = token ? 401 : 403;
        if (token) ctx.set('WWW-Authenticate', 'Bearer');
        ctx.body = token ? 'a bearer token is required' : 'metrics are served on loopback only (or set METRICS_TOKEN)';
        return;
      }
      ctx.type = registry.contentType;
      ctx.body = await registry.metrics();
    });
  }
  if (o.verifyFile) {
    const { name, content } = o.verifyFile;
    router.get(`/${name}`, (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = content;
    });
  }
  return router;
}
