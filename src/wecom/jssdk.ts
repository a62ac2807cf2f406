// The JS-SDK (@wecom/jssdk) on the server side: the tickets its signatures need, cached like the
// access token, and the signature rule of doc 90506 / 96909.
import { createHash, randomBytes } from 'node:crypto';
import { AppApi, Expiring } from './api.ts';

/** sha1 of `jsapi_ticket=…&noncestr=…&timestamp=…&url=…`, in that order; the url without its #fragment, not encoded. */
export function jsapiSignature(p: {
  ticket: string;
  nonceStr: string;
  timestamp: number | string;
  url: string;
}): string {
  const url = p.url.split('#')[0]!;
  return createHash('sha1')
    .update(`jsapi_ticket=${p.ticket}&noncestr=${p.nonceStr}&timestamp=${p.timestamp}&url=${url}`)
    .digest('hex');
}

export interface Signature {
  timestamp: number;
  nonceStr: string;
  signature: string;
}

/** What `ww.register` needs: the corp's config signature and the app's agentConfig signature for one page URL. */
export interface JsapiConfig {
  corpId: string;
  agentId: string;
  config: Signature;
  agentConfig: Signature;
}

/** How long a failed ticket fetch is answered from memory: the signing endpoint is open, WeCom's quota is not. */
const HOLD_FAILURE_MS = 10_000;

/**
 * The corp ticket (get_jsapi_ticket, for ww.config) and the app's ticket (ticket/get?type=agent_config,
 * for ww.agentConfig): 7200 s each and rate-limited by WeCom (400/h per corp, 100/h per app), so
 * cached until shortly before expiry, with one shared fetch at a time, and a failure held briefly.
 */
export class JsapiTickets {
  private readonly corp: Expiring;
  private readonly agent: Expiring;

  constructor(private readonly api: AppApi) {
    const ticket = (json: Record<string, unknown>) => ({
      value: String(json.ticket),
      expiresIn: Number(json.expires_in ?? 7200),
    });
    this.corp = new Expiring(async () => ticket(await api.get('/cgi-bin/get_jsapi_ticket')), api.now, HOLD_FAILURE_MS);
    this.agent = new Expiring(
      async () => ticket(await api.get('/cgi-bin/ticket/get', { type: 'agent_config' })),
      api.now,
      HOLD_FAILURE_MS,
    );
  }

  /** Signs a page URL with both tickets, each with its own nonce. */
  async sign(url: string, nowSeconds: number): Promise<JsapiConfig> {
    const [corp, agent] = await Promise.all([this.corp.get(), this.agent.get()]);
    const one = (ticket: string): Signature => {
      const nonceStr = randomBytes(12).toString('base64url');
      return {
        timestamp: nowSeconds,
        nonceStr,
        signature: jsapiSignature({ ticket, nonceStr, timestamp: nowSeconds, url }),
      };
    };
    return { corpId: this.api.corpId, agentId: this.api.agentId, config: one(corp), agentConfig: one(agent) };
  }
}
