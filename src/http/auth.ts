import Router from '@koa/router';
import type { Context } from 'koa';
import { loadMember } from '../domain/context.ts';
import type { Member, Role } from '../core/roles.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { translator, type Locale, type Translate } from '../i18n.ts';
import { WeComError, type AppApi } from '../wecom/api.ts';
import { authorizeUrl, userIdFromCode } from '../wecom/oauth.ts';
import {
  readCookie,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  setCookie,
  Signer,
  STATE_COOKIE,
  STATE_TTL_MS,
  type Session,
} from './session.ts';

// Sign-in to the dashboard: WeCom OAuth (/auth/wecom → WeCom → /auth/wecom/callback) or, in
// sandbox mode only, a marked local sign-in as a demo member (/auth/demo). Either ends in a signed
// session cookie naming the member; every request then re-reads the member, so unbinding someone
// ends their access at once.

const INVALID_CODE = 40029;

/** Who may see the dashboard: the county's leaders, the commission office's admins, and viewers. */
export const DASHBOARD_ROLES: readonly Role[] = ['leader', 'admin', 'viewer'];

export interface AuthOptions {
  db: Db;
  clock: Clock;
  locale: Locale;
  sandbox: boolean;
  /** The bot's public address (PUBLIC_BASE_URL): where WeCom sends the member back to. */
  publicBaseUrl?: string;
  /** WeCom's sign-in host (WECOM_OAUTH_BASE); open.weixin.qq.com unless given. */
  oauthBase?: string | undefined;
  /** The self-built app: its corp id and agent id for the authorize page, its token for getuserinfo. */
  app?: AppApi;
  signer: Signer;
  log: (m: string) => void;
}

export type Access =
  { member: Member; session: Session } | { status: 401 | 403; error: 'unauthenticated' | 'forbidden' };

/** The signed-in member allowed on the dashboard, or why not. */
export async function access(ctx: Context, o: AuthOptions): Promise<Access> {
  const session = o.signer.readSession(readCookie(ctx, SESSION_COOKIE));
  if (!session) return { status: 401, error: 'unauthenticated' };
  const member = await loadMember(o.db, session.userId, o.locale);
  if (!member || !mayView(member)) return { status: 403, error: 'forbidden' };
  return { member, session };
}

export function mayView(member: Member): boolean {
  return member.roles.some((r) => DASHBOARD_ROLES.includes(r));
}

/** Where the page sends someone without a session: WeCom sign-in, the demo sign-in, or nowhere (not set up). */
export function signInPath(o: AuthOptions): string | null {
  if (o.sandbox) return '/auth/demo?as=demo-leader';
  return o.app && o.publicBaseUrl ? '/auth/wecom' : null;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small page for the moments there is no dashboard to show: refusals and setup problems. */
export function messagePage(ctx: Context, t: Translate, status: number, title: string, lines: string[]): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.body =
    `<!doctype html><html lang="${escape(t('dashboard.lang'))}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escape(title)}</title><style>body{font:16px/1.6 system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;padding:24px;color:#1f2933;background:#f5f7fa}` +
    `main{max-width:520px;margin:auto;background:#fff;border-radius:12px;padding:20px 22px;box-shadow:0 1px 3px #0002}h1{font-size:20px;margin:0 0 12px}</style></head>` +
    `<body><main><h1>${escape(title)}</h1>${lines.map((l) => `<p>${escape(l)}</p>`).join('')}</main></body></html>`;
}

export function authRoutes(o: AuthOptions): Router {
  const router = new Router();
  const t = translator(o.locale);
  const secure = o.publicBaseUrl?.startsWith('https:') ?? false;
  // Behind a proxy that serves the bot under a path, only the public address knows the way back.
  const home = `${o.publicBaseUrl ?? ''}/dashboard`;
  const refuse = (ctx: Context, status: number, ...lines: string[]) =>
    messagePage(ctx, t, status, t('dashboard.refused_title'), lines);

  /** The member may see the dashboard: a session cookie, then the dashboard. Otherwise a page saying why not and whom to ask. */
  const signIn = async (ctx: Context, userId: string, demo: boolean) => {
    const member = await loadMember(o.db, userId, o.locale);
    if (!member) return refuse(ctx, 403, t('dashboard.not_member', { userId }), t('dashboard.ask_admin'));
    if (!mayView(member))
      return refuse(
        ctx,
        403,
        t('dashboard.wrong_role', {
          name: member.name,
          roles: member.roles.map((r) => t(`dashboard.role_${r}`)).join('、') || '—',
        }),
        t('dashboard.ask_admin'),
      );
    setCookie(ctx, SESSION_COOKIE, o.signer.session(member.userId, demo), { maxAgeMs: SESSION_TTL_MS, secure });
    o.log(`dashboard: ${member.userId} signed in${demo ? ' (demo)' : ''}`);
    ctx.redirect(home);
  };

  router.get('/auth/wecom', (ctx) => {
    if (!o.app || !o.publicBaseUrl)
      return refuse(ctx, 503, t(o.sandbox ? 'dashboard.wecom_off_sandbox' : 'dashboard.wecom_off'));
    const state = o.signer.state();
    setCookie(ctx, STATE_COOKIE, state, { maxAgeMs: STATE_TTL_MS, secure, path: '/auth' });
    ctx.redirect(
      authorizeUrl({
        corpId: o.app.corpId,
        agentId: o.app.agentId,
        redirectUri: `${o.publicBaseUrl}/auth/wecom/callback`,
        state,
        ...(o.oauthBase ? { oauthBase: o.oauthBase } : {}),
      }),
    );
  });

  router.get('/auth/wecom/callback', async (ctx) => {
    if (!o.app || !o.publicBaseUrl) return refuse(ctx, 503, t('dashboard.wecom_off'));
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : undefined;
    const ok = o.signer.checkState(state, readCookie(ctx, STATE_COOKIE));
    setCookie(ctx, STATE_COOKIE, '', { maxAgeMs: 0, secure, path: '/auth' }); // a state is good for one try
    if (!ok) return refuse(ctx, 400, t('dashboard.bad_state'));
    if (!code) return refuse(ctx, 400, t('dashboard.no_code'));
    let userId: string | null;
    try {
      userId = await userIdFromCode(o.app, code);
    } catch (e) {
      if (!(e instanceof WeComError)) throw e;
      o.log(`dashboard sign-in: ${e.message}`);
      // 40029: the code was used already or is older than 5 minutes (a reload of the callback page).
      if (e.errcode === INVALID_CODE) return refuse(ctx, 400, t('dashboard.bad_code'));
      return refuse(ctx, 502, t('dashboard.wecom_failed', { errcode: e.errcode }));
    }
    if (!userId) return refuse(ctx, 403, t('dashboard.not_in_corp'), t('dashboard.ask_admin'));
    return signIn(ctx, userId, false);
  });

  router.get('/auth/demo', async (ctx) => {
    // Sandbox mode only: a deployment with WeCom settings never has this door.
    if (!o.sandbox) return refuse(ctx, 404, t('dashboard.demo_off'));
    const userId = typeof ctx.query.as === 'string' && ctx.query.as ? ctx.query.as : 'demo-leader';
    const row = await o.db.member.findUnique({ where: { userId } });
    if (!row?.isDemo) return refuse(ctx, 403, t('dashboard.demo_only', { userId }));
    return signIn(ctx, userId, true);
  });

  router.get('/auth/logout', (ctx) => {
    setCookie(ctx, SESSION_COOKIE, '', { maxAgeMs: 0, secure });
    ctx.redirect(home);
  });
  return router;
}
