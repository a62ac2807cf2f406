// Signed, expiring tokens for the dashboard: the session cookie and the OAuth state. A token is
// `<purpose>.<payload>.<mac>` with an HMAC-SHA256 over purpose and payload, so a state can never
// pass for a session; it is checked in constant time and carries its own expiry.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { Clock } from '../clock.ts';

export const SESSION_COOKIE = 'anze_session';
export const STATE_COOKIE = 'anze_oauth_state';
/** A working day: a leader signs in again the next morning. */
export const SESSION_TTL_MS = 8 * 3600_000;
/** Time to come back from WeCom's authorize page. */
export const STATE_TTL_MS = 10 * 60_000;

export interface Session {
  userId: string;
  demo: boolean;
  exp: number;
}

type Purpose = 'session' | 'state';

export class Signer {
  private readonly key: Buffer;

  /** Without a secret (sandbox mode) a random one per process: sessions end with the process. */
  constructor(
    secret: string | undefined,
    private readonly clock: Clock,
  ) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  private mac(purpose: Purpose, payload: string): string {
    return createHmac('sha256', this.key).update(`${purpose}.${payload}`).digest('base64url');
  }

  private sign(purpose: Purpose, data: object): string {
    const payload = Buffer.from(JSON.stringify(data)).toString('base64url');
    return `${purpose}.${payload}.${this.mac(purpose, payload)}`;
  }

  /** The payload of a token of this purpose, or null when forged, altered, of another purpose or expired. */
  private open(purpose: Purpose, token: string | undefined): Record<string, unknown> | null {
    const [p, payload, mac, extra] = (token ?? '').split('.');
    if (p !== purpose || !payload || !mac || extra !== undefined) return null;
    const want = Buffer.from(this.mac(purpose, payload));
    const got = Buffer.from(mac);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
    try {
      const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      return typeof data.exp === 'number' && data.exp > this.clock.now().getTime() ? data : null;
    } catch {
      return null;
    }
  }

  session(userId: string, demo: boolean): string {
    return this.sign('session', { userId, demo, exp: this.clock.now().getTime() + SESSION_TTL_MS } satisfies Session);
  }

  readSession(token: string | undefined): Session | null {
    const d = this.open('session', token);
    return d && typeof d.userId === 'string' ? { userId: d.userId, demo: d.demo === true, exp: d.exp as number } : null;
  }

  /** A signed nonce for the OAuth round trip. */
  state(): string {
    return this.sign('state', {
      nonce: randomBytes(16).toString('base64url'),
      exp: this.clock.now().getTime() + STATE_TTL_MS,
    });
  }

  /** The state came back signed, unexpired, and equal to the one this browser was given (no login CSRF). */
  checkState(state: string | undefined, cookie: string | undefined): boolean {
    if (!state || !cookie || !this.open('state', state)) return false;
    const a = Buffer.from(state);
    const b = Buffer.from(cookie);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/**
 * Sets a cookie by hand: HttpOnly, SameSite=Lax, Max-Age only (the browser's clock may differ from
 * ours), Secure when the public address is https even if a proxy ends TLS in front of us.
 */
export function setCookie(
  ctx: Context,
  name: string,
  value: string,
  o: { maxAgeMs: number; secure: boolean; path?: string },
): void {
  const attrs = [
    `${name}=${value}`,
    `Path=${o.path ?? '/'}`,
    `Max-Age=${Math.floor(o.maxAgeMs / 1000)}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (o.secure) attrs.push('Secure');
  ctx.append('Set-Cookie', attrs.join('; '));
}

export function readCookie(ctx: Context, name: string): string | undefined {
  return ctx.cookies.get(name) ?? undefined;
}
