import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bot/bus.ts';
import { Registry } from '../../src/bot/registry.ts';
import { fixedClock } from '../../src/clock.ts';
import type { Config } from '../../src/config.ts';
import { startService, type Service } from '../../src/service.ts';
import { testConfig, testDb, TZ, type TestDb } from '../support/db.ts';
import { coverageReply, say, seedVisits, totalLine } from '../support/dashboard.ts';

// The dashboard as a leader sees it: Debian's Chromium, headless, on a phone-sized screen, against
// the service on loopback in sandbox mode with the demo county. CI installs chromium (.ci/run);
// elsewhere a missing browser skips this file, saying so.

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const ci = process.env.CI === 'true';
if (!present && !ci) console.warn(`dashboard browser test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(!present && !ci)(
  'the dashboard in headless Chromium',
  () => {
    let t: TestDb;
    let bus: Bus;
    let service: Service;
    let context: BrowserContext;
    let page: Page;
    let profile: string;
    const problems: string[] = [];
    const shots = mkdtempSync(join(tmpdir(), 'anze-dashboard-'));

    beforeAll(async () => {
      if (!present) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium package`);
      t = await testDb({ demo: true });
      bus = new Bus({ db: t.db, clock: t.clock, timeZone: TZ, locale: 'zh-CN', registry: await Registry.load() });
      await seedVisits(t, bus);
      const config: Config = { ...testConfig(t), sandbox: true };
      service = await startService(config, fixedClock('2026-11-29T08:00:00+08:00'), () => {});
      profile = mkdtempSync(join(tmpdir(), 'anze-chromium-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        locale: 'zh-CN',
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      // Before sign-in /api/me answers 401, which Chromium logs; anything else is a problem (a CSP refusal, a script error).
      page.on(
        'console',
        (m) => void (m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(`console: ${m.text()}`)),
      );
    }, 60_000);

    afterAll(async () => {
      await context?.close();
      await service?.close();
      await t?.close();
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    it('signs in through the demo sign-in and shows the figures of /覆盖率', async () => {
      await page.goto(`${service.url}/dashboard`);
      // No session yet: the page offers the marked demo sign-in.
      await expect.poll(() => page.locator('#banner').textContent()).toBe('演示登录 · 本地沙箱，数据仅供试用');
      await page.getByText('演示登录（演示·县领导）').click();
      await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
      expect(page.url()).toBe(`${service.url}/dashboard`);
      expect(await page.locator('#banner').isVisible()).toBe(true);
      expect(await page.locator('h1').textContent()).toBe('安化县安责险工作看板');

      const api = (path: string) => page.evaluate((p) => fetch(p).then((r) => r.json()), path);
      const coverage = (await api('api/coverage')) as {
        sectors: { code: string; name: string; insured: number; enterprises: number; rateText: string }[];
      };
      const reply = coverageReply(await say(bus, 'demo-leader', '/覆盖率'));
      const shown = await page.locator('[data-sector]').evaluateAll((rows) =>
        rows.map((r) => ({
          code: r.getAttribute('data-sector'),
          name: r.querySelector('.name')!.textContent,
          count: r.querySelector('.count')!.textContent,
          rate: r.querySelector('.rate')!.textContent,
        })),
      );
      expect(shown.map((s) => s.code)).toEqual(coverage.sectors.map((s) => s.code));
      for (const [i, s] of shown.entries()) {
        const fromApi = coverage.sectors[i]!;
        const fromChat = reply.get(s.name!)!;
        expect(s, s.name!).toEqual({
          code: fromApi.code,
          name: fromApi.name,
          count: `${fromApi.insured}/${fromApi.enterprises} 家`,
          rate: fromApi.rateText,
        });
        expect(`${s.count} ${s.rate}`).toBe(`${fromChat.insured}/${fromChat.enterprises} 家 ${fromChat.rate}`);
      }
      const text = await say(bus, 'demo-leader', '/覆盖率');
      const total = totalLine(text, '八大高危行业')!;
      expect(await page.locator('#sectors .weak').textContent()).toBe(`最弱：${/^最弱五个：(.+)$/m.exec(text)![1]}`);
      expect(await page.locator('[data-total="high_risk"] .count').textContent()).toBe(
        `${total.insured}/${total.enterprises} 家`,
      );
      expect(await page.locator('[data-total="high_risk"] .rate').textContent()).toBe(total.rate);
      expect(await page.locator('#summary [data-tile="high_risk"] b').textContent()).toBe(total.rate);
    });

    it('draws the heat map weakest township first, with the figures of /覆盖率 乡镇', async () => {
      const text = await say(bus, 'demo-leader', '/覆盖率 乡镇');
      const reply = coverageReply(text);
      const rows = await page
        .locator('#heatmap g[data-township]')
        .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-township')));
      expect(rows).toEqual([...reply.keys()]);
      // Tapping the weakest township shows its line as the chat gives it.
      const weakest = rows[0]!;
      await page.locator(`#heatmap g[data-township="${weakest}"] rect`).first().click();
      const detail = page.locator(`[data-detail="${weakest}"]`);
      const w = reply.get(weakest)!;
      expect(`${await detail.locator('.count').textContent()} ${await detail.locator('.rate').textContent()}`).toBe(
        `${w.insured}/${w.enterprises} 家 ${w.rate}`,
      );
      // Its total cell shows the chat's figure: the page rounds nothing itself.
      const figures = await page
        .locator(`#heatmap g[data-township="${weakest}"] text[font-weight="600"]`)
        .allTextContents();
      expect(figures.at(-1)).toBe(w.rate.replace('%', ''));
      expect(await page.locator('#heatmap h2 small').textContent()).toContain(
        `${totalLine(text, '各乡镇')!.insured}/${totalLine(text, '各乡镇')!.enterprises} 家`,
      );
    });

    it("draws the trend against the target line and its date, its last week /覆盖率's total, with its source", async () => {
      await page.waitForSelector('body[data-trend="1"]', { timeout: 30_000 });
      const trend = (await page.evaluate(() => fetch('api/coverage/trend').then((r) => r.json()))) as {
        target: { rate: number; dueOn: string };
        points: { day: string; rate: number | null; rateText: string }[];
        source: string;
        note: string | null;
      };
      const section = page.locator('#trend');
      // One point per week with figures, the last labelled with /覆盖率's high-risk total.
      expect(await section.locator('circle[data-day]').count()).toBe(
        trend.points.filter((p) => p.rate !== null).length,
      );
      expect(await section.locator('polyline').count()).toBeGreaterThan(0);
      const total = totalLine(await say(bus, 'demo-leader', '/覆盖率'), '八大高危行业')!;
      expect(await section.locator('text[data-last]').textContent()).toBe(total.rate);
      expect(await section.locator('text[data-last]').getAttribute('data-last')).toBe('2026-11-29');
      // The target line at the target's rate, its words above; the source and time under the chart.
      expect(await section.locator('line[data-target]').getAttribute('data-target')).toBe(String(trend.target.rate));
      expect(await section.locator('[data-trend-target]').textContent()).toContain(`${trend.target.rate}%`);
      expect(await section.locator('[data-trend-source]').textContent()).toBe(trend.source);
      expect(trend.source).toContain('截至 2026-11-29 08:00');
      expect(await section.locator('[data-trend-note]').textContent()).toBe(trend.note);
      // The target's date, where it falls within the weeks drawn.
      if (trend.target.dueOn >= trend.points[0]!.day)
        expect(await section.locator('line[data-due]').getAttribute('data-due')).toBe(trend.target.dueOn);
      await section.scrollIntoViewIfNeeded();
      await section.screenshot({ path: join(shots, 'dashboard-390-trend.png') });
      expect(problems).toEqual([]);
    });

    it('lists the overdue obligations and the visits awaiting confirmation, and saves a screenshot', async () => {
      const overdue = (await page.evaluate(() => fetch('api/overdue').then((r) => r.json()))) as {
        obligations: { id: number }[];
      };
      const shownIds = await page
        .locator('[data-obligation]')
        .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-obligation'))));
      expect(shownIds).toEqual(overdue.obligations.map((o) => o.id));
      const visits = (await page.evaluate(() => fetch('api/visits/unconfirmed').then((r) => r.json()))) as {
        visits: { id: number }[];
      };
      expect(await page.locator('[data-visit]').count()).toBe(visits.visits.length);
      expect(visits.visits.length).toBe(2);
      // The insurers' service, one row each, as /api/insurers ranks them.
      const insurers = (await page.evaluate(() => fetch('api/insurers').then((r) => r.json()))) as {
        insurers: { insurer: { id: number } }[];
      };
      const shownInsurers = await page
        .locator('[data-insurer]')
        .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-insurer'))));
      expect(shownInsurers).toEqual(insurers.insurers.map((x) => x.insurer.id));
      expect(shownInsurers.length).toBe(2);
      expect(await page.locator('#insurers h2').textContent()).toContain('保险机构服务');
      await page.evaluate('window.scrollTo(0, 0)');
      const file = join(shots, 'dashboard-390.png');
      await page.screenshot({ path: file, fullPage: true });
      await page.screenshot({ path: join(shots, 'dashboard-390-first-screen.png') });
      console.log(`dashboard screenshots: ${shots}`);
      expect(existsSync(file)).toBe(true);
      // Outside WeCom a chat cannot be opened: the page says so and names the liaison.
      await page.locator('[data-sector="transport"] button', { hasText: '找联络员' }).click();
      await expect.poll(() => page.locator('#toast').textContent()).toContain('演示·交通局联络员');
      expect(problems).toEqual([]);
    });
  },
  90_000,
);
