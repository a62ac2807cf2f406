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

/**
 * Whether the request came from this machine: over loopback (the socket's address, not a header)
 * and not relayed — a reverse proxy on the same machine connects over loopback too, on behalf of
 * anyone, and says so in X-Forwarded-For or Forwarded.
 */
export function fromLoopback(ctx: Context): boolean {
  const a = ctx.req.socket.remoteAddress ?? '';
  const loopback = a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
  const relayed = ctx.req.headers['x-forwarded-for'] !== undefined || ctx.req.headers.forwarded !== undefined;
  return loopback && !relayed;
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
