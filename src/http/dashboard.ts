import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Router from '@koa/router';
import type { Context } from 'koa';
import { campaignFor } from '../domain/context.ts';
import type { Member } from '../core/roles.ts';
import { dayIn, minuteIn } from '../clock.ts';
import type { WorkCalendar } from '../domain/calendar.ts';
import { percent, percentFigure } from '../core/format.ts';
import { colour, sourcesText, type CoverageRow, type Figures } from '../domain/coverage.ts';
import {
  insurerBoard,
  overdueBoard,
  sectorBoard,
  townshipMatrix,
  trendBoard,
  unconfirmedVisits,
} from '../domain/dashboard.ts';
import { rankInspections } from '../domain/inspections.ts';
import { catalog, translator, type Locale } from '../i18n.ts';
import { besideSources } from '../paths.ts';
import { WeComError } from '../wecom/api.ts';
import { JsapiTickets } from '../wecom/jssdk.ts';
import { access, authRoutes, signInPath, type AuthOptions } from './auth.ts';
import { Signer, type Session } from './session.ts';

// The leaders' dashboard: one page (src/http/dashboard/index.html, plain JS, no build step) and the
// JSON it reads. Figures come from src/domain/dashboard.ts, which uses the chat commands' own
// functions; rates are formatted here with percent(), as /覆盖率 formats them.

export interface DashboardOptions extends AuthOptions {
  timeZone: string;
  calendar: WorkCalendar;
}

const pageFile = besideSources(new URL('./dashboard/index.html', import.meta.url));
const iconFile = besideSources(new URL('./dashboard/icon.png', import.meta.url));
/** The JS-SDK's browser build, served from our own origin: the page works on networks with no CDN. */
const jssdkFile = createRequire(import.meta.url).resolve('@wecom/jssdk/dist/wecom.global.prod.js');

/** Catalog keys the page uses: its own, and the shared words it shows as the chat does. */
const PAGE_KEYS = [/^dashboard\./, /^tasks\.status_/, /^coverage\.(target|target_passed)$/, /^demo\.data$/];

/** The page with its words for one locale, and the CSP hash of its one inline script. */
function page(locale: Locale): { html: string; scriptHash: string } {
  const template = readFileSync(pageFile, 'utf8');
  const script = /<script>([\s\S]*?)<\/script>/.exec(template)?.[1] ?? '';
  const strings = Object.fromEntries(
    Object.entries({ ...catalog('zh-CN'), ...catalog(locale) }).filter(([k]) => PAGE_KEYS.some((re) => re.test(k))),
  );
  // A JSON data block is not executed, so the CSP needs no hash for it; '<' is escaped so it cannot end the block.
  const data = `<script type="application/json" id="strings">${JSON.stringify(strings).replace(/</g, '\\u003c')}</script>`;
  return {
    html: template.replace('<!--STRINGS-->', data).replace('<html lang="zh-CN">', `<html lang="${locale}">`),
    scriptHash: createHash('sha256').update(script).digest('base64'),
  };
}

/** Whether a page URL is under our public address (same origin, same path prefix): we sign only our own pages. */
export function underBase(raw: string, base: string): boolean {
  let u: URL;
  let b: URL;
  try {
    u = new URL(raw);
    b = new URL(base);
  } catch {
    return false;
  }
  if (raw.length > 2048 || u.origin !== b.origin || u.username || u.password) return false;
  const prefix = b.pathname.replace(/\/+$/, '');
  return u.pathname === prefix || u.pathname.startsWith(`${prefix}/`);
}

/** A row's figures as the page shows them: rate text as /覆盖率 prints it, colour mark, change since last week. */
function figures(f: Figures & Partial<Pick<CoverageRow, 'gap' | 'lastWeek' | 'target'>>, target = f.target ?? null) {
  return {
    enterprises: f.enterprises,
    insured: f.insured,
    rate: f.rate,
    rateText: percent(f.rate),
    /** The same figure without its sign, for the heat map's cells and the bar's width: the page computes no rate itself. */
    rateFigure: percentFigure(f.rate),
    employees: f.employees,
    insuredPersons: f.insuredPersons,
    headcountRateText: f.headcountRate === null ? null : percent(f.headcountRate),
    mark: colour(f.rate, target),
    gap: f.gap ?? null,
    /** Enterprises insured since a week ago; null when there were no figures then (shown as 新). */
    change: f.lastWeek === undefined || f.lastWeek === null ? null : f.insured - f.lastWeek,
    sources: f.sources,
    asOf: f.asOf?.toISOString() ?? null,
    demo: f.demo,
  };
}

function target(t: { rateBp: number; dueOn: string; passed: boolean } | null) {
  return t && { rate: t.rateBp / 100, dueOn: t.dueOn, passed: t.passed };
}

export function dashboardRoutes(o: DashboardOptions): Router {
  const router = new Router();
  const tickets = o.app ? new JsapiTickets(o.app) : null;
  const pages = new Map<Locale, ReturnType<typeof page>>();

  const noStore = (ctx: Context) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
  };

  /** The data endpoints: a signed-in member allowed on the dashboard, else 401 (with where to sign in) or 403. */
  const data =
    (
      handler: (
        ctx: Context,
        a: { member: Member; session: Session },
        env: { campaignId: number; today: string; now: Date },
      ) => Promise<unknown>,
    ) =>
    async (ctx: Context) => {
      noStore(ctx);
      const a = await access(ctx, o);
      if ('status' in a) {
        ctx.status = a.status;
        ctx.body = { error: a.error, signIn: signInPath(o) };
        return;
      }
      const campaign = await campaignFor(o.db, a.member);
      if (!campaign) {
        ctx.status = 404;
        ctx.body = { error: 'no_campaign' };
        return;
      }
      const now = o.clock.now();
      ctx.body = await handler(ctx, a, { campaignId: campaign.id, today: dayIn(now, o.timeZone), now });
    };

  router.get('/dashboard', async (ctx) => {
    const a = await access(ctx, o);
    const locale = 'member' in a ? a.member.locale : o.locale;
    let p = pages.get(locale);
    if (!p) pages.set(locale, (p = page(locale)));
    noStore(ctx);
    ctx.set(
      'Content-Security-Policy',
      `default-src 'self'; script-src 'self' 'sha256-${p.scriptHash}'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'`,
    );
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = p.html;
  });

  router.get('/dashboard/wecom.js', (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = readFileSync(jssdkFile);
  });

  router.get('/dashboard/icon.png', (ctx) => {
    ctx.type = 'image/png';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = readFileSync(iconFile);
  });

  router.get(
    '/api/me',
    data(async (_ctx, { member: m, session }, { campaignId, now }) => {
      const campaign = await o.db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
      return {
        userId: m.userId,
        name: m.name,
        roles: m.roles,
        unit: m.unit?.name ?? null,
        locale: m.locale,
        demoSignIn: session.demo,
        sandbox: o.sandbox,
        county: campaign.countyName,
        campaign: campaign.name,
        docNumber: campaign.docNumber,
        asOf: minuteIn(now, o.timeZone),
        publicBaseUrl: o.publicBaseUrl ?? null,
      };
    }),
  );

  router.get(
    '/api/coverage',
    data(async (_ctx, _m, { campaignId, today, now }) => {
      const b = await sectorBoard(o.db, campaignId, today, now);
      return {
        target: target(b.target),
        sectors: b.rows.map(({ row, sector, leads }) => ({
          id: sector.id,
          code: sector.code,
          name: sector.name,
          highRisk: sector.highRisk,
          ...figures(row),
          target: target(row.target),
          leads,
        })),
        highRisk: figures(b.highRisk),
        weakest: b.weakest,
        /** The week-earlier figures count the earliest roster known (the day is before the roster's history). */
        lastWeekEarliestRoster: b.lastWeekEarliestRoster,
      };
    }),
  );

  router.get(
    '/api/coverage/townships',
    data(async (_ctx, _m, { campaignId, today, now }) => {
      const m = await townshipMatrix(o.db, campaignId, today, now);
      return {
        target: target(m.target),
        sectors: m.sectors.map((s) => ({
          id: s.id,
          code: s.code,
          name: s.name,
          short: s.short,
          target: target(s.target),
        })),
        townships: m.rows.map(({ row, liaisons, cells }) => ({
          id: row.key,
          name: row.name,
          ...figures(row),
          liaisons,
          cells: cells.map((c, i) => (c ? figures(c, m.sectors[i]!.target) : null)),
        })),
        total: figures(m.total),
        countyWideOnly: m.countyWideOnly,
      };
    }),
  );

  // The trend: the high-risk sectors every week since the campaign took effect, against the target
  // line and its date, with the words under it (how each week is counted, its source and time).
  router.get(
    '/api/coverage/trend',
    data(async (_ctx, { member }, { campaignId, today, now }) => {
      const t = translator(member.locale);
      const trend = await trendBoard(o.db, campaignId, today, now);
      const last = trend.points.at(-1)!;
      const earliest = trend.points.filter((p) => p.earliestRoster).at(-1);
      const minute = (at: Date) => minuteIn(at, o.timeZone);
      return {
        from: trend.from,
        target: target(trend.target),
        points: trend.points.map((p) => ({
          day: p.day,
          insured: p.insured,
          enterprises: p.enterprises,
          rate: p.rate,
          rateText: percent(p.rate),
          rateFigure: percentFigure(p.rate),
          earliestRoster: p.earliestRoster,
        })),
        /** Where the last week's figure comes from, and when: as /覆盖率 says it. */
        source: t('dashboard.trend_source', {
          sources: last.sources.length
            ? sourcesText(t, last, minute(last.asOf ?? now).slice(5))
            : t('dashboard.no_data'),
          time: minute(now),
        }),
        asOf: now.toISOString(),
        weekly: t('chart.trend_weekly', { from: trend.from }),
        note: earliest ? t('chart.trend_earliest_roster', { day: earliest.day }) : null,
        demo: trend.points.some((p) => p.demo),
      };
    }),
  );

  router.get(
    '/api/overdue',
    data(async (_ctx, _m, { campaignId, today }) => overdueBoard(o.db, campaignId, today, o.calendar)),
  );

  // The October inspection as /排名 ranks it.
  router.get(
    '/api/inspections',
    data(async (_ctx, _m, { campaignId, today }) => {
      const r = await rankInspections(o.db, campaignId, today);
      return r && { ...r, ranked: r.ranked.map((x) => ({ ...x, rateText: percent(x.item.rate) })) };
    }),
  );

  router.get(
    '/api/visits/unconfirmed',
    data(async (_ctx, { member }, { campaignId, today }) => {
      const t = translator(member.locale);
      const v = await unconfirmedVisits(o.db, campaignId, today, o.calendar);
      return {
        dueAfter: v.dueAfter,
        visits: v.visits.map((x) => ({ ...x, service: t(`visit.type.${x.serviceType}`) })),
      };
    }),
  );

  router.get(
    '/api/insurers',
    data(async (_ctx, _m, { campaignId, today }) => insurerBoard(o.db, campaignId, today)),
  );

  // Before sign-in the page needs this to register the JS-SDK; it signs only our own pages, so it is no signing service for others.
  router.get('/api/jssdk/config', async (ctx) => {
    noStore(ctx);
    const url = typeof ctx.query.url === 'string' ? ctx.query.url : '';
    if (!tickets || !o.publicBaseUrl) {
      ctx.status = 503;
      ctx.body = { error: 'jssdk_unavailable' };
    } else if (!underBase(url, o.publicBaseUrl)) {
      ctx.status = 400;
      ctx.body = { error: 'foreign_url', allowed: o.publicBaseUrl };
    } else {
      try {
        ctx.body = await tickets.sign(url, Math.floor(o.clock.now().getTime() / 1000));
      } catch (e) {
        if (!(e instanceof WeComError)) throw e;
        o.log(`jssdk tickets: ${e.message}`);
        ctx.status = 502;
        ctx.body = { error: 'wecom', errcode: e.errcode };
      }
    }
  });
  return router;
}

/** The sign-in routes, the page and its APIs, sharing one session signer. */
export function dashboard(o: Omit<DashboardOptions, 'signer'> & { sessionSecret?: string | undefined }): Router[] {
  const full: DashboardOptions = { ...o, signer: new Signer(o.sessionSecret, o.clock) };
  return [authRoutes(full), dashboardRoutes(full)];
}
