// The self-built app (自建应用): members' messages by callback (/wecom/app), the bot's messages to
// members through message/send with the app's access token.
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { AppApi } from '../wecom/api.ts';
import { RATE_LIMITS } from '../wecom/messages.ts';
import { callbackRoutes } from './callbacks.ts';
import type { ChannelState } from '../ops/readiness.ts';
import type { OpenChannel } from './channel.ts';

/** The self-built app's API client, when configured: one per process, so its token and tickets are cached once. */
export function appApi(config: Config, clock?: Clock): AppApi | undefined {
  const now = clock ? () => clock.now().getTime() : Date.now;
  return (
    config.app &&
    new AppApi(
      {
        apiBase: config.wecomApiBase,
        corpId: config.app.corpId,
        secret: config.app.secret,
        agentId: config.app.agentId,
      },
      now,
    )
  );
}

export const selfBuiltApp: OpenChannel = (deps) => {
  const { config } = deps;
  const api = deps.api ?? appApi(config, deps.clock);
  if (!config.app || !api) return null;
  return {
    name: 'app',
    ...callbackRoutes(deps, { app: config.app }),
    senders: { app: async (row) => (await api.deliver(JSON.parse(row.payload)), 'sent') },
    perMinute: { app: RATE_LIMITS.app },
    // Up while its access token can be had; down once fetching it fails.
    health: ({ downFor, maxDownMs, scrub }) => {
      const f = api.lastTokenFetch;
      if (!f) return { state: { status: 'unknown', lastTokenFetch: null } };
      const lastTokenFetch = {
        at: new Date(f.at).toISOString(),
        ok: f.ok,
        ...(f.error ? { error: scrub(f.error).slice(0, 200) } : {}),
      };
      if (f.ok) return { state: { status: 'up', lastTokenFetch } };
      const down = downFor(f.failingSince ?? f.at);
      const state: ChannelState = { status: 'down', lastTokenFetch, downSeconds: Math.round(down / 1000) };
      return down >= maxDownMs
        ? { state, problem: `self-built app: access token failing for ${Math.round(down / 1000)} s` }
        : { state };
    },
  };
};
