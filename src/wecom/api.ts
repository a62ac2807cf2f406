// The WeCom server API: access tokens and JSON calls. WeCom answers HTTP 200 with the error
// inside, so every response's errcode is read here and turned into a WeComError.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { wecomFetch } from './proxy.ts';

export class WeComError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`WeCom errcode ${errcode}: ${errmsg}`);
  }
}

/** A message no retry can deliver, found before WeCom is asked: a missing or oversized file. */
export class PermanentError extends Error {}

/** WeCom's limit on a file message, whichever channel uploads it (robot, app, long connection). */
export const FILE_BYTES = 20 * 1024 * 1024;

/** WeCom's limit on an image uploaded as temporary media (app, long connection); a larger one goes as a file. */
export const MEDIA_IMAGE_BYTES = 10 * 1024 * 1024;

const TOKEN_EXPIRED = new Set([40014, 42001]);
/** How long one WeCom call may take before it counts as failed (and is retried); tests shorten it. */
export const apiTimeout = { ms: 10_000 };

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await wecomFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(apiTimeout.ms),
  });
  return readReply(res);
}

async function readReply(res: Response): Promise<Record<string, unknown>> {
  if (!res.ok) throw new WeComError(-res.status, `HTTP ${res.status}`);
  const json = (await res.json()) as Record<string, unknown>;
  const errcode = Number(json.errcode ?? 0);
  if (errcode !== 0) throw new WeComError(errcode, String(json.errmsg ?? ''));
  return json;
}

/**
 * A group robot's webhook (群机器人): send only, keyed by the robot's key. A file message as the
 * outbox stores it ({ path, name }) is uploaded first, at each attempt: a media_id lasts 3 days.
 */
export async function sendWebhook(apiBase: string, key: string, payload: unknown): Promise<Record<string, unknown>> {
  const file = (payload as { msgtype?: string; file?: { path?: string; name?: string } }).file;
  if ((payload as { msgtype?: string }).msgtype === 'file' && file?.path)
    payload = { msgtype: 'file', file: { media_id: await uploadWebhookFile(apiBase, key, file.path, file.name) } };
  return postJson(`${apiBase}/cgi-bin/webhook/send?key=${encodeURIComponent(key)}`, payload);
}

/** A file as WeCom's upload endpoints take it: multipart, part "media", with its length. */
async function multipartFile(
  path: string,
  name: string,
  maxBytes: number,
): Promise<{ body: Buffer; contentType: string }> {
  const data = await readFile(path).catch((e: Error) => {
    throw new PermanentError(`file ${name}: ${e.message}`);
  });
  if (data.length < 5 || data.length > maxBytes)
    throw new PermanentError(`file ${name}: ${data.length} bytes; WeCom takes 5 B to ${maxBytes} B`);
  const boundary = `----anze${randomBytes(12).toString('hex')}`;
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="media"; filename="${name.replace(/["\r\n]/g, '_')}"; filelength=${data.length}\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  return {
    body: Buffer.concat([Buffer.from(head), data, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

async function upload(url: string, file: { body: Buffer; contentType: string }): Promise<string> {
  const res = await wecomFetch(url, {
    method: 'POST',
    headers: { 'content-type': file.contentType },
    body: file.body,
    signal: AbortSignal.timeout(apiTimeout.ms),
  });
  return String((await readReply(res)).media_id);
}

/** webhook/upload_media: a file of 5 B to 20 MB; returns its media_id. */
export async function uploadWebhookFile(
  apiBase: string,
  key: string,
  path: string,
  name = basename(path),
): Promise<string> {
  return upload(
    `${apiBase}/cgi-bin/webhook/upload_media?key=${encodeURIComponent(key)}&type=file`,
    await multipartFile(path, name, FILE_BYTES),
  );
}

/** An AI bot message's response_url: usable once, within an hour, for an answer that took longer. */
export function sendResponseUrl(url: string, payload: unknown): Promise<Record<string, unknown>> {
  return postJson(url, payload);
}

export interface AppCredentials {
  apiBase: string;
  corpId: string;
  secret: string;
  agentId: string;
}

/**
 * A value WeCom hands out with a lifetime (access token, JS-SDK ticket), cached until five minutes
 * before it ends (WeCom may invalidate it a little early); every caller that finds it stale shares
 * one refresh, so there is never a stampede of fetches.
 */
export class Expiring {
  private cached: { value: string; expiresAt: number } | null = null;
  private refreshing: Promise<string> | null = null;
  private failed: { error: unknown; until: number } | null = null;

  /** `holdFailureMs`: after a failed fetch, callers get that failure for a while instead of a new fetch each. */
  constructor(
    private readonly fetchValue: () => Promise<{ value: string; expiresIn: number }>,
    private readonly now: () => number = Date.now,
    private readonly holdFailureMs = 0,
  ) {}

  /** The value; `stale` is one WeCom refused, which is replaced unless a newer one already has been. */
  get(stale?: string): Promise<string> {
    if (this.cached && this.cached.expiresAt > this.now() && this.cached.value !== stale)
      return Promise.resolve(this.cached.value);
    if (this.failed && this.failed.until > this.now()) return Promise.reject(this.failed.error);
    this.refreshing ??= (async () => {
      try {
        const { value, expiresIn } = await this.fetchValue();
        this.cached = { value, expiresAt: this.now() + Math.max(expiresIn / 2, expiresIn - 300) * 1000 };
        this.failed = null;
        return value;
      } catch (e) {
        if (this.holdFailureMs > 0) this.failed = { error: e, until: this.now() + this.holdFailureMs };
        throw e;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}

/** A self-built app's API client, with its access token cached and refreshed one at a time. */
export class AppApi {
  private readonly token: Expiring;
  /** The last access-token fetch, for /readyz: when, whether it worked, and since when it has been failing. */
  lastTokenFetch: { at: number; ok: boolean; error?: string; failingSince?: number } | null = null;

  constructor(
    private readonly c: AppCredentials,
    readonly now: () => number = Date.now,
  ) {
    this.token = new Expiring(async () => {
      const url = `${c.apiBase}/cgi-bin/gettoken?corpid=${encodeURIComponent(c.corpId)}&corpsecret=${encodeURIComponent(c.secret)}`;
      try {
        const json = await readReply(await wecomFetch(url, { signal: AbortSignal.timeout(apiTimeout.ms) }));
        this.lastTokenFetch = { at: now(), ok: true };
        return { value: String(json.access_token), expiresIn: Number(json.expires_in ?? 7200) };
      } catch (e) {
        const failingSince = this.lastTokenFetch?.ok === false ? this.lastTokenFetch.failingSince : now();
        this.lastTokenFetch = { at: now(), ok: false, error: (e as Error).message, failingSince };
        throw e;
      }
    }, now);
  }

  get agentId(): string {
    return this.c.agentId;
  }

  get corpId(): string {
    return this.c.corpId;
  }

  /** Runs a request with the token; refreshes the token and retries once when WeCom says it expired. */
  private async withToken(
    request: (token: string) => Promise<Record<string, unknown>>,
  ): Promise<Record<string, unknown>> {
    const token = await this.token.get();
    try {
      return await request(token);
    } catch (e) {
      if (!(e instanceof WeComError && TOKEN_EXPIRED.has(e.errcode))) throw e;
      return request(await this.token.get(token));
    }
  }

  /** POSTs to an API path with the token. */
  call(path: string, body: unknown): Promise<Record<string, unknown>> {
    return this.withToken((token) =>
      postJson(`${this.c.apiBase}${path}?access_token=${encodeURIComponent(token)}`, body),
    );
  }

  /** GETs an API path with the token and query parameters (tickets, OAuth user info). */
  get(path: string, query: Record<string, string> = {}): Promise<Record<string, unknown>> {
    return this.withToken(async (token) => {
      const q = new URLSearchParams({ ...query, access_token: token });
      return readReply(
        await wecomFetch(`${this.c.apiBase}${path}?${q}`, { signal: AbortSignal.timeout(apiTimeout.ms) }),
      );
    });
  }

  /**
   * message/send with WeCom's duplicate check on, so a resend after a crash does not repeat. An
   * image or file as the outbox stores it ({ path, name }) is uploaded first (media/upload).
   */
  async sendMessage(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const type = String(payload.msgtype);
    const media = payload[type] as { path?: string; name?: string } | undefined;
    if ((type === 'image' || type === 'file') && media?.path) {
      const file = await multipartFile(
        media.path,
        media.name ?? basename(media.path),
        type === 'image' ? MEDIA_IMAGE_BYTES : FILE_BYTES,
      );
      const uploaded = await this.withToken(async (token) => ({
        media_id: await upload(
          `${this.c.apiBase}/cgi-bin/media/upload?access_token=${encodeURIComponent(token)}&type=${type}`,
          file,
        ),
      }));
      payload = { ...payload, [type]: uploaded };
    }
    return this.call('/cgi-bin/message/send', {
      ...payload,
      agentid: Number(this.c.agentId),
      enable_duplicate_check: 1,
      duplicate_check_interval: 1800,
    });
  }

  /** message/update_template_card (doc 94888): replaces a pressed card, with the press's response_code. */
  updateTemplateCard(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.call('/cgi-bin/message/update_template_card', { ...payload, agentid: Number(this.c.agentId) });
  }

  /** What the outbox's app channel holds: a card update (it carries a response_code) or a message. */
  deliver(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    return 'response_code' in payload ? this.updateTemplateCard(payload) : this.sendMessage(payload);
  }
}
