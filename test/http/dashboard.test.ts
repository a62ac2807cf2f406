import { createHash, createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getSignature } from '@wecom/jssdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { dayIn, fixedClock } from '../../src/clock.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { percent } from '../../src/core/format.ts';
import { coverageBySector, coverageTrend } from '../../src/domain/coverage.ts';
import { policyGaps } from '../../src/domain/obligations.ts';
import { createHttpApp } from '../../src/http/app.ts';
import { dashboard, underBase } from '../../src/http/dashboard.ts';
import { catalog } from '../../src/i18n.ts';
import { startService, type Service } from '../../src/service.ts';
import { AppApi } from '../../src/wecom/api.ts';
import { jsapiSignature, JsapiTickets } from '../../src/wecom/jssdk.ts';
import { pinganDongping, testConfig, testDb, TZ, type TestDb } from '../support/db.ts';
import { changeWord, coverageReply, say, seedVisits, totalLine } from '../support/dashboard.ts';
import { FakeWeComApi } from '../support/fake-wecom.ts';

const CORP = 'ww1436e0e65a779aee';
const SECRET = 'app-secret';
const BASE = 'https://anze.example.gov.cn';
const SESSION_SECRET = 'a-session-secret-of-at-least-32-characters';
const DATA = [
  '/api/me',
  '/api/coverage',
  '/api/coverage/townships',
  '/api/coverage/trend',
  '/api/overdue',
  '/api/inspections',
  '/api/visits/unconfirmed',
  '/api/insurers',
];

let t: TestDb;
let api: FakeWeComApi;
let service: Service;
let bus: Bus;
let visits: Awaited<ReturnType<typeof seedVisits>>;
const clock = fixedClock('2026-11-29T08:00:00+08:00');

const get = (path: string, cookie?: string) =>
  fetch(`${service.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
/** `name=value` of a Set-Cookie header, and the header itself. */
function cookieOf(res: Response, name: string): { pair: string; header: string } | null {
  const header = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return header ? { pair: header.split(';')[0]!, header } : null;
}
/** Signs a ticket the way doc 90506 says, written out here rather than taken from the code under test. */
const sha1Sign = (ticket: string, nonceStr: string, timestamp: number, url: string) =>
  createHash('sha1')
    .update(`jsapi_ticket=${ticket}&noncestr=${nonceStr}&timestamp=${timestamp}&url=${url}`)
    .digest('hex');

/** A full OAuth round trip for a userid: /auth/wecom, WeCom's code, the callback. Returns the callback's answer and the state. */
async function signInAs(userId: string, member = true) {
  const start = await get('/auth/wecom');
  const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
  const stateCookie = cookieOf(start, 'anze_oauth_state')!.pair;
  const res = await get(
    `/auth/wecom/callback?code=${api.issueCode(userId, member)}&state=${encodeURIComponent(state)}`,
    stateCookie,
  );
  return { res, state, stateCookie, session: cookieOf(res, 'anze_session') };
}

beforeAll(async () => {
  t = await testDb({ demo: true });
  bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
  visits = await seedVisits(t, bus);
  api = new FakeWeComApi(CORP, SECRET);
  api.ticketDelayMs = 40; // long enough that 20 concurrent requests all find the first fetch in flight
  const config: Config = {
    ...testConfig(t, await api.start()),
    publicBaseUrl: BASE,
    sessionSecret: SESSION_SECRET,
    app: {
      corpId: CORP,
      agentId: '1000002',
      secret: SECRET,
      token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
      encodingAesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
    },
  };
  service = await startService(config, clock, () => {});
});

afterAll(async () => {
  await service?.close();
  await api?.stop();
  await t?.close();
});

describe('JS-SDK signatures', () => {
  it('match the official vector (doc 96909) and the official package', () => {
    const vector = {
      ticket: 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg',
      nonceStr: 'Wm3WZYTPz0wzccnW',
      timestamp: 1414587457,
      url: 'http://mp.weixin.qq.com?params=value',
    };
    expect(jsapiSignature(vector)).toBe('0f9de62fce790f9a083d5c99e95740ceb90c27ed');
    // The #fragment is not signed.
    expect(jsapiSignature({ ...vector, url: `${vector.url}#top` })).toBe('0f9de62fce790f9a083d5c99e95740ceb90c27ed');
    const other = {
      ticket: 'kgt8ON7yVITDhtdwci0qeQ',
      nonceStr: 'n0nce',
      timestamp: 1764374400,
      url: `${BASE}/dashboard?a=1&b=%E4%B8%AD`,
    };
    expect(jsapiSignature({ ...other, url: `${other.url}#x` })).toBe(getSignature(other).signature);
  });

  it('signs only pages under PUBLIC_BASE_URL', () => {
    expect(underBase(`${BASE}/dashboard`, BASE)).toBe(true);
    expect(underBase(`${BASE}/`, BASE)).toBe(true);
    expect(underBase('https://h.cn/anze/dashboard?x=1#y', 'https://h.cn/anze')).toBe(true);
    for (const url of [
      'https://h.cn/anzeevil/dashboard',
      'https://h.cn/anze/../x',
      'https://h.cn/',
      'http://h.cn/anze/',
      'https://h.cn:8443/anze/',
      'https://u@h.cn/anze/',
    ])
      expect(underBase(url, 'https://h.cn/anze'), url).toBe(false);
  });

  it('fetches each ticket once under 20 concurrent requests, without a session', async () => {
    const url = `${BASE}/dashboard?from=workbench`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => get(`/api/jssdk/config?url=${encodeURIComponent(url)}#frag`)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(api.tickets.corp).toHaveLength(1);
    expect(api.tickets.agent).toHaveLength(1);
    const body = (await answers[7]!.json()) as {
      corpId: string;
      agentId: string;
      config: { timestamp: number; nonceStr: string; signature: string };
      agentConfig: { timestamp: number; nonceStr: string; signature: string };
    };
    expect(body).toMatchObject({ corpId: CORP, agentId: '1000002' });
    expect(body.config.timestamp).toBe(Math.floor(clock.now().getTime() / 1000));
    expect(body.config.signature).toBe(
      sha1Sign(api.tickets.corp[0]!, body.config.nonceStr, body.config.timestamp, url),
    );
    expect(body.agentConfig.signature).toBe(
      sha1Sign(api.tickets.agent[0]!, body.agentConfig.nonceStr, body.agentConfig.timestamp, url),
    );
    expect(body.config.nonceStr).not.toBe(body.agentConfig.nonceStr);
  });

  it('refuses foreign URLs with 400 and fetches nothing for them', async () => {
    const ticketCalls = () => api.calls.filter((c) => c.path.includes('ticket')).length;
    const before = ticketCalls();
    for (const url of [
      'https://evil.example.com/dashboard',
      `${BASE}.evil.com/dashboard`,
      'http://anze.example.gov.cn/dashboard',
      'https://x@anze.example.gov.cn/',
      'not a url',
      '',
    ]) {
      const res = await get(`/api/jssdk/config?url=${encodeURIComponent(url)}`);
      expect(res.status, url).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'foreign_url' });
    }
    expect(ticketCalls()).toBe(before);
  });

  describe('with a WeCom of their own', () => {
    let own: FakeWeComApi;
    let now: number;
    let tickets: JsapiTickets;
    const sign = () => tickets.sign(`${BASE}/dashboard`, Math.floor(now / 1000));
    const issued = () => [own.tickets.corp.length, own.tickets.agent.length];
    beforeAll(async () => {
      own = new FakeWeComApi(CORP, SECRET);
      const base = await own.start();
      now = clock.now().getTime();
      tickets = new JsapiTickets(
        new AppApi({ apiBase: base, corpId: CORP, secret: SECRET, agentId: '1000002' }, () => now),
      );
    });
    afterAll(() => own.stop());

    it('holds a failed fetch for a few seconds instead of asking WeCom again at once', async () => {
      own.failNext.push(60020); // caller IP not trusted
      await expect(sign()).rejects.toMatchObject({ errcode: 60020 });
      const calls = own.calls.length;
      await expect(sign()).rejects.toMatchObject({ errcode: 60020 });
      expect(own.calls.length).toBe(calls);
      now += 10_001;
      await sign();
      expect(issued()).toEqual([1, 1]);
    });

    it('renews a ticket five minutes before it expires, not earlier', async () => {
      now += (7200 - 301) * 1000;
      await sign();
      expect(issued()).toEqual([1, 1]);
      now += 2000;
      const renewed = await sign();
      expect(issued()).toEqual([2, 2]);
      expect(renewed.config.signature).toBe(
        sha1Sign(own.tickets.corp[1]!, renewed.config.nonceStr, renewed.config.timestamp, `${BASE}/dashboard`),
      );
      expect(renewed.agentConfig.signature).toBe(
        sha1Sign(
          own.tickets.agent[1]!,
          renewed.agentConfig.nonceStr,
          renewed.agentConfig.timestamp,
          `${BASE}/dashboard`,
        ),
      );
    });
  });
});

describe('WeCom sign-in', () => {
  it('sends the member to WeCom with a signed state bound to the browser', async () => {
    const res = await get('/auth/wecom');
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe('https://open.weixin.qq.com/connect/oauth2/authorize');
    expect(to.hash).toBe('#wechat_redirect');
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      appid: CORP,
      agentid: '1000002',
      redirect_uri: `${BASE}/auth/wecom/callback`,
      response_type: 'code',
      scope: 'snsapi_base',
    });
    const cookie = cookieOf(res, 'anze_oauth_state')!;
    expect(cookie.pair).toBe(`anze_oauth_state=${to.searchParams.get('state')}`);
    expect(cookie.header).toMatch(/HttpOnly/);
    expect(cookie.header).toMatch(/SameSite=Lax/);
    expect(cookie.header).toMatch(/Secure/);
  });

  it('turns the code into a session for a leader, and the session opens the data', async () => {
    const { res, session } = await signInAs('demo-leader');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${BASE}/dashboard`);
    expect(session!.header).toMatch(/HttpOnly/);
    expect(session!.header).toMatch(/SameSite=Lax/);
    expect(session!.header).toMatch(/Max-Age=28800/);
    const me = await get('/api/me', session!.pair);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      userId: 'demo-leader',
      roles: ['leader'],
      demoSignIn: false,
      sandbox: false,
      county: '安化县',
    });
  });

  it('refuses a forged, foreign or expired state before asking WeCom', async () => {
    const start = await get('/auth/wecom');
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const forged = state.slice(0, -2) + (state.endsWith('AA') ? 'BB' : 'AA');
    const infoCalls = () => api.calls.filter((c) => c.path === '/cgi-bin/auth/getuserinfo').length;
    const before = infoCalls();
    const code = api.issueCode('demo-leader');
    const attempts = [
      get(`/auth/wecom/callback?code=${code}&state=${encodeURIComponent(forged)}`, `anze_oauth_state=${forged}`), // signature broken
      get(`/auth/wecom/callback?code=${code}&state=${encodeURIComponent(state)}`), // not this browser's
      get(`/auth/wecom/callback?code=${code}`, `anze_oauth_state=${state}`), // none
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(400);
      expect(cookieOf(res, 'anze_session')).toBeNull();
      expect(await res.text()).toContain('登录链接无效或已过期');
    }
    clock.advance(11 * 60_000);
    try {
      const late = await get(
        `/auth/wecom/callback?code=${code}&state=${encodeURIComponent(state)}`,
        `anze_oauth_state=${state}`,
      );
      expect(late.status).toBe(400);
    } finally {
      clock.set('2026-11-29T08:00:00+08:00');
    }
    expect(infoCalls()).toBe(before);
  });

  it('refuses people who may not see the dashboard, saying why and whom to ask', async () => {
    const liaison = await signInAs('demo-liaison-jtj');
    expect(liaison.res.status).toBe(403);
    expect(liaison.session).toBeNull();
    const page = await liaison.res.text();
    expect(page).toContain('演示·交通局联络员（联络员）没有查看看板的权限');
    expect(page).toContain('/绑定');
    const stranger = await signInAs('zhangsan');
    expect(stranger.res.status).toBe(403);
    expect(await stranger.res.text()).toContain('企业微信账号 zhangsan 还不是安责险助手的成员');
    const outsider = await signInAs('o-wechat-openid', false);
    expect(outsider.res.status).toBe(403);
    expect(outsider.session).toBeNull();
    // A code is good once: WeCom answers 40029 to a second use, and the member is told to start again.
    const code = api.issueCode('demo-admin');
    const callback = async () => {
      const start = await get('/auth/wecom');
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      return get(
        `/auth/wecom/callback?code=${code}&state=${encodeURIComponent(state)}`,
        cookieOf(start, 'anze_oauth_state')!.pair,
      );
    };
    expect((await callback()).status).toBe(302);
    const again = await callback();
    expect(again.status).toBe(400);
    expect(cookieOf(again, 'anze_session')).toBeNull();
    expect(await again.text()).toContain('登录码无效或已用过');
  });

  it('has no demo sign-in outside sandbox mode', async () => {
    const res = await get('/auth/demo?as=demo-leader');
    expect(res.status).toBe(404);
    expect(cookieOf(res, 'anze_session')).toBeNull();
  });
});

describe('sessions', () => {
  it('data endpoints answer 401 without a session, and say where to sign in', async () => {
    for (const path of DATA) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toEqual({ error: 'unauthenticated', signIn: '/auth/wecom' });
    }
  });

  it('refuses altered, foreign-keyed, misused and expired cookies', async () => {
    const { session } = await signInAs('demo-leader');
    const token = session!.pair.slice('anze_session='.length);
    const [, payload, mac] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const admin = Buffer.from(JSON.stringify({ ...claims, userId: 'demo-admin' })).toString('base64url');
    const macWith = (key: string, p: string) => createHmac('sha256', key).update(`session.${p}`).digest('base64url');
    const longer = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400_000 })).toString('base64url');
    const state = new URL((await get('/auth/wecom')).headers.get('location')!).searchParams.get('state')!;
    const bad = [
      `session.${admin}.${mac}`, // another member under the leader's MAC
      `session.${longer}.${mac}`, // a longer life under the same MAC
      `session.${admin}.${macWith('some-other-secret-of-32-characters!!', admin)}`, // signed with another key
      `session.${payload}.${mac!.slice(0, -1)}`, // truncated MAC
      state, // an OAuth state is no session
      'garbage',
    ];
    for (const value of bad) expect((await get('/api/coverage', `anze_session=${value}`)).status, value).toBe(401);
    expect((await get('/api/coverage', session!.pair)).status).toBe(200);
    clock.advance(8 * 3600_000 + 1000);
    try {
      expect((await get('/api/coverage', session!.pair)).status).toBe(401);
    } finally {
      clock.set('2026-11-29T08:00:00+08:00');
    }
  });

  it('ends the access of a member unbound after signing in', async () => {
    const { session } = await signInAs('demo-admin');
    expect((await get('/api/overdue', session!.pair)).status).toBe(200);
    await t.db.member.update({ where: { userId: 'demo-admin' }, data: { active: false } });
    try {
      expect((await get('/api/overdue', session!.pair)).status).toBe(403);
    } finally {
      await t.db.member.update({ where: { userId: 'demo-admin' }, data: { active: true } });
    }
  });
});

describe('the figures', () => {
  let cookie: string;
  const json = async <T>(path: string) => {
    const res = await get(path, cookie);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  type F = {
    name: string;
    enterprises: number;
    insured: number;
    rate: number | null;
    rateText: string;
    rateFigure: string | null;
    gap: number;
    change: number | null;
    mark: string;
  };
  beforeAll(async () => {
    cookie = (await signInAs('demo-leader')).session!.pair;
  });

  it('per sector equal coverageBySector and the /覆盖率 reply', async () => {
    const body = await json<{
      sectors: (F & { code: string; leads: { name: string; liaisons: { userId: string }[] }[] })[];
      highRisk: F;
      lastWeekEarliestRoster: boolean;
    }>('/api/coverage');
    const now = clock.now();
    const rows = await coverageBySector(t.db, t.campaignId, dayIn(now, TZ), now);
    expect(body.sectors.map((s) => s.code)).toEqual(rows.map((r) => r.sector.code));
    const reply = await say(bus, 'demo-leader', '/覆盖率');
    const lines = coverageReply(reply);
    expect(lines.size).toBe(9);
    // The demo roster's history starts today: a week back counts the earliest roster, and both say so.
    expect(body.lastWeekEarliestRoster).toBe(true);
    expect(reply).toContain('（按最早登记的名录计）');
    body.sectors.forEach((s, i) => {
      const r = rows[i]!;
      expect([s.insured, s.enterprises, s.gap, s.rateText, s.change]).toEqual([
        r.insured,
        r.enterprises,
        r.gap,
        percent(r.rate),
        r.lastWeek === null ? null : r.insured - r.lastWeek,
      ]);
      expect(lines.get(s.name), s.name).toEqual({
        mark: s.mark,
        insured: s.insured,
        enterprises: s.enterprises,
        rate: s.rateText,
        gap: s.gap,
        change: changeWord(s.change),
      });
    });
    expect(totalLine(reply, '八大高危行业')).toEqual({
      insured: body.highRisk.insured,
      enterprises: body.highRisk.enterprises,
      rate: body.highRisk.rateText,
      gap: body.highRisk.gap,
      change: changeWord(body.highRisk.change),
    });
    // A lagging sector names its lead department and that department's liaison to chat with.
    expect(body.sectors.find((s) => s.code === 'transport')!.leads).toEqual([
      {
        unitId: expect.any(Number),
        name: '县交通运输局',
        liaisons: [{ userId: 'demo-liaison-jtj', name: '演示·交通局联络员' }],
      },
    ]);
  });

  it('per township equal /覆盖率 乡镇, and each heat-map column adds up to its sector', async () => {
    const body = await json<{
      sectors: { code: string; name: string }[];
      townships: (F & { cells: (F | null)[] })[];
      total: F;
      countyWideOnly: string[];
    }>('/api/coverage/townships');
    const reply = await say(bus, 'demo-leader', '/覆盖率 乡镇');
    const lines = coverageReply(reply);
    expect(body.townships.map((r) => r.name)).toEqual([...lines.keys()]);
    for (const r of body.townships) {
      expect(lines.get(r.name)).toEqual({
        mark: r.mark,
        insured: r.insured,
        enterprises: r.enterprises,
        rate: r.rateText,
        gap: r.gap,
        change: changeWord(r.change),
      });
      const cells = r.cells.filter((c): c is F => c !== null);
      // The heat map's cells and bars show the server's figure: the page rounds nothing itself.
      for (const c of [r, ...cells]) expect(c.rate === null ? '—' : `${c.rateFigure}%`).toBe(c.rateText);
      expect([cells.reduce((n, c) => n + c.insured, 0), cells.reduce((n, c) => n + c.enterprises, 0)]).toEqual([
        r.insured,
        r.enterprises,
      ]);
    }
    expect(totalLine(reply, '各乡镇')).toMatchObject({
      insured: body.total.insured,
      enterprises: body.total.enterprises,
      rate: body.total.rateText,
    });
    expect(body.countyWideOnly).toEqual(['民用爆炸物品']);
    const bySector = await json<{ sectors: F[] }>('/api/coverage');
    body.sectors.forEach((s, i) => {
      if (body.countyWideOnly.includes(s.name))
        return expect(body.townships.every((r) => r.cells[i] === null)).toBe(true);
      const column = body.townships.map((r) => r.cells[i]).filter((c): c is F => c !== null);
      expect(
        [column.reduce((n, c) => n + c.insured, 0), column.reduce((n, c) => n + c.enterprises, 0)],
        s.name,
      ).toEqual([bySector.sectors[i]!.insured, bySector.sectors[i]!.enterprises]);
    });
  });

  it("the trend is /覆盖率 趋势's, every week since the campaign took effect, its last week /覆盖率's total", async () => {
    const body = await json<{
      from: string;
      target: { rate: number; dueOn: string; passed: boolean } | null;
      points: { day: string; insured: number; enterprises: number; rateText: string; earliestRoster: boolean }[];
      source: string;
      asOf: string;
      weekly: string;
      note: string | null;
    }>('/api/coverage/trend');
    const campaign = await t.db.campaign.findUniqueOrThrow({ where: { id: t.campaignId } });
    const now = clock.now();
    const trend = await coverageTrend(t.db, campaign, { by: 'high_risk' }, campaign.effectiveOn, '2026-11-29', now);
    expect(body.from).toBe(campaign.effectiveOn);
    expect(body.points).toEqual(
      trend.points.map((p) => ({
        day: p.day,
        insured: p.insured,
        enterprises: p.enterprises,
        rate: p.rate,
        rateText: percent(p.rate),
        rateFigure: p.rate === null ? null : percent(p.rate).replace('%', ''),
        earliestRoster: p.earliestRoster,
      })),
    );
    expect(body.points.length).toBeGreaterThan(100);
    expect(body.target).toEqual({
      rate: trend.target!.rateBp / 100,
      dueOn: trend.target!.dueOn,
      passed: trend.target!.passed,
    });
    const total = totalLine(await say(bus, 'demo-leader', '/覆盖率'), '八大高危行业')!;
    expect(body.points.at(-1)).toMatchObject({
      day: '2026-11-29',
      insured: total.insured,
      enterprises: total.enterprises,
      rateText: total.rate,
    });
    // Its source and time, as /覆盖率 words them; the weeks before the demo roster's history say so.
    expect(body.source).toBe('来源：台账 + 上报 11-24 08:00（最近一周） · 截至 2026-11-29 08:00');
    expect(body.weekly).toBe(`自 ${campaign.effectiveOn} 起每周一点，按当日台账、名录和当时已有上报计算`);
    expect(body.note).toBe('注：2026-11-22 及以前各周名录历史尚未开始，按已知最早名录计算。');
  });

  it('overdue obligations are those of /逾期, and the gaps those of policyGaps', async () => {
    const body = await json<{
      obligations: {
        id: number;
        urgency: string;
        daysOverdue: number;
        unit: { name: string; liaisons: { userId: string }[] };
      }[];
      gaps: { sector: { name: string }; uninsured: number; lapsed: number; expiring: number }[];
    }>('/api/overdue');
    const reply = await say(bus, 'demo-leader', '/逾期');
    const inReply = [...reply.matchAll(/^(?:🔴|🟡) #(\d+) /gmu)].map((m) => Number(m[1]));
    expect(body.obligations.map((o) => o.id).sort()).toEqual(inReply.sort());
    expect(body.obligations.length).toBeGreaterThan(0);
    const jtj = body.obligations.find((o) => o.unit.name === '县交通运输局')!;
    expect(jtj).toMatchObject({
      urgency: 'overdue',
      daysOverdue: 29,
      unit: { liaisons: [{ userId: 'demo-liaison-jtj' }] },
    });
    const gaps = (await policyGaps(t.db, t.campaignId, '2026-11-29', 'all')).filter(
      (g) => g.uninsured.length || g.lapsed.length || g.expiring.length,
    );
    expect(body.gaps).toEqual(
      gaps.map((g) => ({
        sector: g.sector,
        uninsured: g.uninsured.length,
        lapsed: g.lapsed.length,
        expiring: g.expiring.length,
        demo: true,
      })),
    );
  });

  it('the October inspection is as /排名 ranks it', async () => {
    const body = await json<{
      period: string;
      dueOn: string;
      ranked: {
        rank: number;
        item: { unit: { name: string }; inspected: number; inScope: number };
        rateText: string;
      }[];
    }>('/api/inspections');
    expect(body).toMatchObject({ period: '2026', dueOn: '2026-10-31' });
    expect(body.ranked.length).toBeGreaterThan(0);
    const reply = await say(bus, 'demo-leader', '/排名');
    for (const { rank, item, rateText } of body.ranked)
      expect(reply).toContain(`${rank}. ${item.unit.name}  已检查 ${item.inspected}/${item.inScope} 家（${rateText}）`);
  });

  it('unconfirmed visits are the ones the enterprise side has not confirmed, oldest first', async () => {
    const body = await json<{
      dueAfter: number;
      visits: {
        id: number;
        visitedOn: string;
        waitedWorkingDays: number;
        late: boolean;
        service: string;
        contacts: { userId: string }[];
      }[];
    }>('/api/visits/unconfirmed');
    expect(body.dueAfter).toBe(3);
    expect(body.visits.map((v) => v.id)).toEqual(visits.unconfirmed);
    const [first, second] = body.visits;
    expect(first).toMatchObject({
      visitedOn: '2026-11-20',
      waitedWorkingDays: service.calendar.workingDaysBetween('2026-11-20', '2026-11-29'),
      late: true,
      service: '隐患排查',
    });
    expect(second).toMatchObject({ visitedOn: '2026-11-27', waitedWorkingDays: 0, late: false });
    // 东坪镇's liaison confirms on the enterprise's behalf.
    expect(first!.contacts).toEqual([{ userId: 'demo-liaison-dongping', name: '演示·东坪镇联络员' }]);
  });
});

describe('the insurers', () => {
  it('are those of /排名: claims, the median days to payment, open disputes, findings, and the limit with its source', async () => {
    const insured = await pinganDongping(t.db, '2026-11-01');
    expect(await say(bus, 'demo-insurer-pingan', `/理赔 ${insured.creditCode} 11月10日 11月12日 20000`)).toContain(
      '✅',
    );
    const claim = await t.db.claim.findFirstOrThrow({ where: { enterpriseId: insured.id }, orderBy: { id: 'desc' } });
    expect(await say(bus, 'demo-insurer-pingan', `/赔付 ${claim.id} 20000 11月17日`)).toContain('✅');
    const cookie = (await signInAs('demo-leader')).session!.pair;
    const res = await get('/api/insurers', cookie);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      limit: { value: number; source: string };
      insurers: { rank: number; insurer: { name: string }; claims: number; paid: number; medianDays: number | null }[];
    };
    expect(body.limit).toMatchObject({ value: 30 });
    expect(body.limit.source).toContain('县安委办设定');
    const pingan = body.insurers.find((x) => x.insurer.name === '中国平安财险安化支公司');
    expect(pingan).toMatchObject({ claims: 1, paid: 1, medianDays: 5 });
    const rank = await say(bus, 'demo-leader', '/排名');
    expect(rank.split('\n').find((l) => l.includes('中国平安财险安化支公司') && l.includes('理赔'))).toContain(
      `${pingan!.rank}. 中国平安财险安化支公司  理赔 1 件 · 已赔 1 · 逾期未赔 0 · 报案至赔付中位 5 天`,
    );
  });
});

describe('the page', () => {
  it('is served with a CSP that allows only its own script, and its words exist in both locales', async () => {
    const res = await get('/dashboard');
    expect(res.status).toBe(200);
    const html = await res.text();
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const csp = res.headers
      .get('content-security-policy')!
      .split(';')
      .map((d) => d.trim());
    // Scripts: our own origin (the JS-SDK) and the page's one inline script by its hash; nothing injected runs.
    expect(csp).toContain(`script-src 'self' 'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(csp).toContain("connect-src 'self'");
    const strings = JSON.parse(
      /<script type="application\/json" id="strings">([\s\S]*?)<\/script>/.exec(html)![1]!,
    ) as Record<string, string>;
    expect(strings['dashboard.demo_banner']).toBe('演示登录 · 本地沙箱，数据仅供试用');
    const used = new Set([...script.matchAll(/\bt\('([a-z_.]+)'/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(30);
    for (const locale of ['zh-CN', 'en'] as const)
      expect(
        [...used].filter((k) => !(k in catalog(locale))),
        locale,
      ).toEqual([]);
    for (const k of used) expect(strings, k).toHaveProperty(k);
  });

  it('serves the JS-SDK from our own origin', async () => {
    const res = await get('/dashboard/wecom.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(await res.text()).toContain('var ww=');
    expect((await get('/dashboard/icon.png')).headers.get('content-type')).toBe('image/png');
  });
});

describe('sandbox mode', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const app = createHttpApp({
      db: t.db,
      version: 'test',
      mode: 'sandbox',
      channels: { bot: false, app: false },
      role: () => 'leader',
      log: () => {},
      routers: dashboard({
        db: t.db,
        clock,
        timeZone: TZ,
        locale: 'zh-CN',
        calendar: service.calendar,
        sandbox: true,
        log: () => {},
      }),
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('signs in as a demo member, marked as such; others are refused', async () => {
    const res = await fetch(`${url}/auth/demo?as=demo-leader`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const session = cookieOf(res, 'anze_session')!;
    expect(session.header).not.toMatch(/Secure/);
    const me = await fetch(`${url}/api/me`, { headers: { cookie: session.pair } });
    expect(await me.json()).toMatchObject({ userId: 'demo-leader', demoSignIn: true, sandbox: true });
    // The sandbox's random secret is not the deployment's: its session opens nothing there.
    expect((await get('/api/me', session.pair)).status).toBe(401);
    expect(await fetch(`${url}/api/me`).then((r) => r.json())).toEqual({
      error: 'unauthenticated',
      signIn: '/auth/demo?as=demo-leader',
    });
    for (const who of ['demo-liaison-jtj', 'zhangsan']) {
      const refused = await fetch(`${url}/auth/demo?as=${who}`, { redirect: 'manual' });
      expect(refused.status, who).toBe(403);
      expect(cookieOf(refused, 'anze_session')).toBeNull();
    }
    expect((await fetch(`${url}/api/jssdk/config?url=${encodeURIComponent(`${url}/dashboard`)}`)).status).toBe(503);
    expect((await fetch(`${url}/auth/wecom`)).status).toBe(503);
  });
});

describe('configuration', () => {
  const app = {
    WECOM_CORP_ID: CORP,
    WECOM_AGENT_ID: '1000002',
    WECOM_APP_SECRET: SECRET,
    WECOM_APP_TOKEN: 'tok',
    WECOM_APP_AES_KEY: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
  };
  it('needs SESSION_SECRET with the app channel, and a clean PUBLIC_BASE_URL', () => {
    expect(() => loadConfig(app)).toThrow(/^SESSION_SECRET: required/);
    expect(() => loadConfig({ ...app, SESSION_SECRET: 'short' })).toThrow(/^SESSION_SECRET: /);
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'ftp://x.cn' })).toThrow(/^PUBLIC_BASE_URL: /);
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'https://x.cn/?a=1' })).toThrow(/^PUBLIC_BASE_URL: /);
    expect(loadConfig({ ...app, SESSION_SECRET, PUBLIC_BASE_URL: 'https://x.cn/anze/' })).toMatchObject({
      publicBaseUrl: 'https://x.cn/anze',
      sessionSecret: SESSION_SECRET,
    });
    expect(loadConfig({})).not.toHaveProperty('sessionSecret');
  });
});
