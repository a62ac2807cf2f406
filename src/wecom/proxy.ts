// Government networks often reach WeCom only through an HTTP proxy. HTTPS_PROXY, HTTP_PROXY and
// NO_PROXY (as curl reads them) apply to every call to WeCom's API (undici's ProxyAgent) and to
// the AI bot's long connection (https-proxy-agent for ws): both tunnel with CONNECT.
// Both are loaded when a proxy first applies (most deployments have none): undici alone is about a
// hundred modules, a tenth of what start-up under tsx loads.
import type { Agent } from 'node:http';
import { createRequire } from 'node:module';
import type { ProxyAgent } from 'undici';
import type { ProxyConfig } from '../config.ts';

const load = createRequire(import.meta.url);
const undici = () => load('undici') as typeof import('undici');
const httpsProxyAgent = () => load('https-proxy-agent') as typeof import('https-proxy-agent');

let configured: ProxyConfig | undefined;
/** One agent per proxy, so connections to it are kept and reused. */
const agents = new Map<string, ProxyAgent>();

/** Routes the WeCom API calls of this process through the proxies (none: direct). */
export function useProxy(proxy: ProxyConfig | undefined): void {
  configured = proxy;
}

/**
 * fetch for WeCom's API: through the proxy that applies to the URL (undici's ProxyAgent, a CONNECT
 * tunnel), or direct. The same rule as the long connection's, NO_PROXY included.
 */
export function wecomFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const through = proxyFor(url, configured);
  if (!through) return fetch(url, init);
  const { fetch: undiciFetch, ProxyAgent } = undici();
  let dispatcher = agents.get(through);
  if (!dispatcher) agents.set(through, (dispatcher = new ProxyAgent(through)));
  return undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}

/** The proxy a URL goes through, or undefined when it goes direct (NO_PROXY, or none configured). */
export function proxyFor(url: string, proxy: ProxyConfig | undefined): string | undefined {
  if (!proxy) return undefined;
  const u = new URL(url);
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  const through = secure ? (proxy.httpsProxy ?? proxy.httpProxy) : proxy.httpProxy;
  if (!through || bypassed(u, proxy.noProxy)) return undefined;
  return through;
}

/** NO_PROXY as curl reads it: `*`, host names (a leading dot or not: the domain and its subdomains), IPs, each with an optional :port. */
export function bypassed(u: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === '*') return true;
      const lower = entry.toLowerCase();
      // A bare IPv6 address has colons of its own; a port needs the brackets.
      const m =
        !lower.startsWith('[') && lower.split(':').length > 2
          ? [lower, lower, undefined]
          : /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(lower);
      if (!m) return false;
      const name = m[1]!.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
      if (m[2] && m[2] !== port) return false;
      return host === name || host.endsWith(`.${name}`);
    });
}

/** The agent for the long connection's socket: a CONNECT tunnel through the proxy, when one applies. */
export function wsAgent(url: string, proxy: ProxyConfig | undefined): Agent | undefined {
  const through = proxyFor(url, proxy);
  return through ? new (httpsProxyAgent().HttpsProxyAgent)(through) : undefined;
}
