// The WeCom server API: access tokens and JSON calls. WeCom answers HTTP 200 with the error
// inside, so every response's errcode is read here and turned into a WeComError.

export class WeComError extends Error {
  constructor(readonly errcode: number, readonly errmsg: string) {
    super(`WeCom errcode ${errcode}: ${errmsg}`);
  }
}

const TOKEN_EXPIRED = new Set([40014, 42001]);
const TIMEOUT_MS = 10_000;

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS),
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

/** A group robot's webhook (群机器人): send only, keyed by the robot's key. */
export function sendWebhook(apiBase: string, key: string, payload: unknown): Promise<Record<string, unknown>> {
  return postJson(`${apiBase}/cgi-bin/webhook/send?key=${encodeURIComponent(key)}`, payload);
}

/** An AI bot message's response_url: usable once, within an hour, for an answer that took longer. */
export function sendResponseUrl(url: string, payload: unknown): Promise<Record<string, unknown>> {
  return postJson(url, payload);
}

export interface AppCredentials { apiBase: string; corpId: string; secret: string; agentId: string }

/** A self-built app's API client, with its access token cached and refreshed one at a time. */
export class AppApi {
  private token: { value: string; expiresAt: number } | null = null;
  private refreshing: Promise<string> | null = null;

  constructor(private readonly c: AppCredentials, private readonly now: () => number = Date.now) {}

  get agentId(): string {
    return this.c.agentId;
  }

  /** The cached token, or one refresh shared by every caller that needs it (no stampede). */
  private accessToken(force = false): Promise<string> {
    if (!force && this.token && this.token.expiresAt > this.now()) return Promise.resolve(this.token.value);
    this.refreshing ??= (async () => {
      try {
        const url = `${this.c.apiBase}/cgi-bin/gettoken?corpid=${encodeURIComponent(this.c.corpId)}&corpsecret=${encodeURIComponent(this.c.secret)}`;
        const json = await readReply(await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) }));
        // Renew five minutes early: WeCom may invalidate a token before it says.
        this.token = { value: String(json.access_token), expiresAt: this.now() + (Number(json.expires_in ?? 7200) - 300) * 1000 };
        return this.token.value;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** POSTs to an API path with the token; refreshes the token and retries once when WeCom says it expired. */
  async call(path: string, body: unknown): Promise<Record<string, unknown>> {
    const attempt = async (force: boolean) => postJson(`${this.c.apiBase}${path}?access_token=${encodeURIComponent(await this.accessToken(force))}`, body);
    try {
      return await attempt(false);
    } catch (e) {
      if (!(e instanceof WeComError && TOKEN_EXPIRED.has(e.errcode))) throw e;
      this.token = null;
      return attempt(true);
    }
  }

  /** message/send with WeCom's duplicate check on, so a resend after a crash does not repeat. */
  sendMessage(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.call('/cgi-bin/message/send', {
      ...payload, agentid: Number(this.c.agentId), enable_duplicate_check: 1, duplicate_check_interval: 1800,
    });
  }
}
