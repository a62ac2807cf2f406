// WeCom web sign-in (网页授权, doc 91022 / 91023): the member is sent to WeCom's authorize page,
// which comes back to our callback with a one-time code; the code names the member's userid.
import type { AppApi } from './api.ts';

/** WeCom's sign-in host (WECOM_OAUTH_BASE); 政务微信 and private deployments have their own. */
export const OAUTH_BASE = 'https://open.weixin.qq.com';

/** WeCom's authorize page under `oauthBase`; inside the WeCom client it answers at once, without asking the member. */
export function authorizeUrl(o: {
  corpId: string;
  agentId: string;
  redirectUri: string;
  state: string;
  oauthBase?: string;
}): string {
  const q = new URLSearchParams({
    appid: o.corpId,
    redirect_uri: o.redirectUri,
    response_type: 'code',
    scope: 'snsapi_base',
    state: o.state,
    agentid: o.agentId,
  });
  return `${o.oauthBase ?? OAUTH_BASE}/connect/oauth2/authorize?${q}#wechat_redirect`;
}

/** The userid of the member a code was issued to; null for someone outside the corp (WeCom gives an openid instead). */
export async function userIdFromCode(api: AppApi, code: string): Promise<string | null> {
  const json = await api.get('/cgi-bin/auth/getuserinfo', { code });
  const userId = json.userid ?? json.UserId;
  return typeof userId === 'string' && userId ? userId : null;
}
