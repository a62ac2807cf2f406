import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { addDays, dayIn } from '../../src/clock.ts';
import { findCjkFont } from '../../src/domain/raster.ts';
import { TZ } from '../support/db.ts';
import {
  at,
  calendar,
  campaignId,
  content,
  drainFor,
  KEYS,
  obligation,
  queued,
  reminderWorlds,
  runDay,
  unitId,
  world,
} from '../support/reminders.ts';

// The reminder schedule on copies of the demo data, with an injected clock and the fake WeCom.
reminderWorlds();

describe('a week across 国庆 and 中秋 2025, with two 调休 weekend working days', () => {
  it('runs on working days only, the make-up Sunday and Saturday included, counting working days across the holiday', async () => {
    // chinese-days: 10-01..08 holidays; Sunday 09-28 and Saturday 10-11 working days (调休).
    expect([
      calendar.isWorkingDay('2025-09-28'),
      calendar.isWorkingDay('2025-10-11'),
      calendar.isWorkingDay('2025-10-08'),
      calendar.isWorkingDay('2025-10-12'),
    ]).toEqual([true, true, false, false]);
    const w = await world();
    const o = await obligation(w, 'jtj', '节前报送交通运输企业参保台账', '2025-10-10');
    const states: Record<string, string> = {};
    for (let day = '2025-09-27'; day <= '2025-10-12'; day = addDays(day, 1)) states[day] = (await runDay(w, day)).state;
    const ran = Object.keys(states).filter((d) => states[d] === 'ran');
    expect(ran).toEqual(['2025-09-28', '2025-09-29', '2025-09-30', '2025-10-09', '2025-10-10', '2025-10-11']);
    expect(Object.values(states).filter((s) => s !== 'ran')).toEqual(Array(10).fill('not-working-day'));
    // Nothing at all was queued or recorded on the days off.
    const rows = await w.db.outboxMessage.findMany();
    expect([...new Set(rows.map((r) => dayIn(r.createdAt, TZ)))].filter((d) => !ran.includes(d))).toEqual([]);
    const runs = await w.db.reminderLedger.findMany({ where: { rule: 'run' } });
    expect(runs.map((r) => r.slot).sort()).toEqual(ran);

    // The item to 交通局's group, on the ladder: the countdown at 7 on the make-up Sunday; yellow
    // (the first notice, with the countdown at 3); the countdown at 1; due today, three working days
    // after the first notice; overdue on Saturday is not told again within the window.
    const told = (await queued(w.db, KEYS.jtj)).filter((m) => m.text.includes(`#${o.id} `));
    expect(told.map((m) => m.day)).toEqual(['2025-09-28', '2025-09-29', '2025-10-09', '2025-10-10']);
    const line = (text: string) =>
      text.split('\n')[text.split('\n').findIndex((l) => l.includes(`#${o.id} `)) + 1]!.trim();
    expect(told.map((m) => line(m.text))).toEqual([
      '截止 2025-10-10，还剩 4 个工作日 · 待签收',
      '截止 2025-10-10，还剩 3 个工作日 · 待签收',
      '截止 2025-10-10，还剩 1 个工作日 · 待签收',
      '今天（2025-10-10）到期 · 待签收',
    ]);
    expect(told[0]!.text).toContain(`🔵 #${o.id} `);
    expect(told.at(-1)!.text).toContain(`🟡 #${o.id} `);
    expect(
      (await w.db.reminderLedger.findMany({ where: { rule: 'ladder-unit', target: `obligation:${o.id}` } })).map(
        (r) => [r.slot, dayIn(r.createdAt, TZ)],
      ),
    ).toEqual([
      ['0', '2025-09-29'],
      ['1', '2025-10-10'],
    ]);
    expect(
      await w.db.reminderLedger.findUnique({
        where: { rule_target_slot: { rule: 'countdown', target: `obligation:${o.id}`, slot: '7' } },
      }),
    ).toMatchObject({ state: 'queued' });
    // The weekly digest: Monday 09-29; in the holiday week, its first working day, Thursday 10-09.
    expect((await queued(w.db, KEYS.leaders)).filter((m) => m.text.includes('周报')).map((m) => m.day)).toEqual([
      '2025-09-29',
      '2025-10-09',
    ]);
  });
});

describe('the weekly digest', () => {
  // Drawing needs a CJK font: skipped on a developer's machine without one, never in CI.
  it.skipIf(!findCjkFont() && process.env.CI !== 'true')(
    'brings the trend chart to the leaders’ robot as an image right after its text, drawn when sent',
    async () => {
      const w = await world();
      expect((await runDay(w, '2026-11-30')).state).toBe('ran');
      const rows = await w.db.outboxMessage.findMany({ where: { target: KEYS.leaders }, orderBy: { id: 'asc' } });
      const digest = rows.findIndex((r) => content(r.payload).includes('周报'));
      expect(digest).toBeGreaterThanOrEqual(0);
      // The sweep only names the chart: drawing it would hold up the morning's run.
      expect(JSON.parse(rows[digest + 1]!.payload)).toEqual({
        msgtype: 'image',
        chart: { campaignId: campaignId(), day: '2026-11-30', kind: 'trend' },
      });
      await drainFor(w, 12);
      // The fake WeCom checks base64 and md5 as WeCom does, and took both, the text first.
      const delivered = w.api.delivered.filter((d) => d.target === KEYS.leaders);
      const at = delivered.findIndex((d) => d.body.msgtype === 'image');
      expect(at).toBeGreaterThan(0);
      expect((delivered[at - 1]!.body.markdown as { content: string }).content).toContain('周报');
      const png = Buffer.from((delivered[at]!.body.image as { base64: string }).base64, 'base64');
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(await w.db.outboxMessage.findUniqueOrThrow({ where: { id: rows[digest + 1]!.id } })).toMatchObject({
        state: 'sent',
        attempts: 1,
      });
    },
  );
});

describe('each (rule, target, slot) once', () => {
  it('a second run of the same morning, or a restarted scheduler catching up, queues nothing', async () => {
    const w = await world();
    const first = await runDay(w, '2026-11-30');
    expect(first.state).toBe('ran');
    expect(first.reminders.length).toBeGreaterThan(3);
    const count = async () => [await w.db.outboxMessage.count(), await w.db.reminderLedger.count()];
    const after = await count();
    expect((await runDay(w, '2026-11-30')).state).toBe('already');
    expect((await runDay(w, '2026-11-30', '10:30')).state).toBe('already');
    w.clock.set(at('2026-11-30', '11:00'));
    expect((await w.restart().scheduler.catchUp()).map((r) => [r.day, r.state])).toEqual([['2026-11-30', 'already']]);
    expect(await count()).toEqual(after);
  });
});

describe('the ladder: one message per audience and item within a window', () => {
  it('the unit hears an item first, again 3 working days on, then weekly; the leaders likewise once it escalates (3 working days overdue), whatever reactions', async () => {
    const w = await world();
    const ignored = await obligation(w, 'jtj', '报送货运企业参保名单', '2026-12-09');
    const answered = await obligation(w, 'jtj', '报送客运企业参保名单', '2026-12-09');
    const say = (text: string, hhmm: string, day: string) => {
      w.clock.set(at(day, hhmm));
      return w.bus.handle({ channel: 'sandbox', userId: 'demo-liaison-jtj', chatId: 'demo-chat-jtj', text });
    };
    const escalated: Record<string, string[]> = {};
    const unit: Record<string, string[]> = {};
    const mine = (text: string) =>
      text.split('\n').filter((l) => l.includes(`#${ignored.id} `) || l.includes(`#${answered.id} `));
    for (let day = '2026-12-07'; day <= '2026-12-25'; day = addDays(day, 1)) {
      if (!calendar.isWorkingDay(day)) continue;
      expect((await runDay(w, day)).state).toBe('ran');
      // A second run the same evening (late, or by hand) tells nobody anything again.
      w.clock.set(at(day, '21:00'));
      expect((await w.scheduler.runAt(w.clock.now()))[0]!.state).toBe('already');
      const today = (target: string) => queued(w.db, target).then((ms) => ms.filter((m) => m.day === day));
      const leaders = mine((await today(KEYS.leaders)).map((m) => m.text).join('\n'));
      if (leaders.length) escalated[day] = leaders;
      const own = (await today(KEYS.jtj)).map((m) => m.text).join('\n');
      if (mine(own).length)
        unit[day] = [ignored, answered].filter((o) => own.includes(`#${o.id} `)).map((o) => o.title);
      if (day === '2026-12-08') expect((await say(`/签收 ${answered.id}`, '10:00', day)).outcome).toBe('ok');
      if (day === '2026-12-11')
        expect((await say(`/反馈 ${answered.id} 已收集 12 家`, '10:00', day)).outcome).toBe('ok');
    }
    const both = [ignored.title, answered.title];
    // 交通局: due soon on Monday (the first notice); the countdown's last day; 3 working days on;
    // then a week of working days each time.
    expect(unit).toEqual({
      '2026-12-07': both,
      '2026-12-08': both,
      '2026-12-10': both,
      '2026-12-17': both,
      '2026-12-24': both,
    });
    const I = `🔴 县交通运输局 #${ignored.id} 报送货运企业参保名单 — 已逾期`;
    const A = `🔴 县交通运输局 #${answered.id} 报送客运企业参保名单 — 已逾期`;
    // The leaders: from 4 working days overdue, then 3 working days on, then weekly; the reminders
    // the unit left unanswered since its last reaction are counted.
    expect(escalated).toEqual({
      '2026-12-15': [`${I} 6 天，已提醒 2 次未回应`, `${A} 6 天`],
      '2026-12-18': [`${I} 9 天，已提醒 3 次未回应`, `${A} 9 天，已提醒 1 次未回应`],
      '2026-12-25': [`${I} 16 天，已提醒 4 次未回应`, `${A} 16 天，已提醒 2 次未回应`],
    });
    // The unit's messages mention its liaison.
    const told = (await queued(w.db, KEYS.jtj)).filter((m) => m.text.includes(`#${answered.id} `));
    expect(told.every((m) => m.text.endsWith('<@demo-liaison-jtj>'))).toBe(true);
  });
});

describe('catch-up after downtime', () => {
  it('2 hours after 09:00 sends the day’s reminders marked late; 13 hours after records the run as skipped and sends nothing', async () => {
    const w = await world();
    w.clock.set(at('2026-12-01', '11:00'));
    const results = await w.scheduler.catchUp();
    // Monday's run is a day old: skipped. Tuesday's is 2 hours old: sent late.
    expect(results.map((r) => [r.day, r.state])).toEqual([
      ['2026-11-30', 'skipped'],
      ['2026-12-01', 'late'],
    ]);
    const late = await w.db.outboxMessage.findMany();
    expect(late.length).toBeGreaterThan(0);
    // Each reminder's message says so (a long one split in parts, in its first part).
    const firsts = new Set(
      (await w.db.reminderLedger.findMany({ where: { outboxId: { not: null } } })).map((r) => r.outboxId),
    );
    expect(
      late.filter((m) => content(m.payload).startsWith('（服务中断后补发，原定 2026-12-01 09:00）\n')).map((m) => m.id),
    ).toEqual([...firsts].sort((a, b) => a! - b!));
    expect(
      new Set((await w.db.reminderLedger.findMany({ where: { rule: { not: 'run' } } })).map((r) => r.state)),
    ).toEqual(new Set(['late']));
    await drainFor(w, 10);
    expect(w.api.delivered).toHaveLength(late.length);
    expect(JSON.stringify(w.api.delivered.find((d) => d.target === KEYS.jtj)!.body)).toContain('服务中断后补发');

    w.clock.set(at('2026-12-02', '22:00'));
    const before = await w.db.outboxMessage.count();
    expect((await w.scheduler.catchUp()).map((r) => [r.day, r.state])).toEqual([
      ['2026-12-01', 'already'],
      ['2026-12-02', 'skipped'],
    ]);
    expect(await w.db.outboxMessage.count()).toBe(before);
    expect(
      await w.db.reminderLedger.findUnique({
        where: { rule_target_slot: { rule: 'run', target: `campaign:${campaignId()}`, slot: '2026-12-02' } },
      }),
    ).toMatchObject({ state: 'skipped' });
    expect((await runDay(w, '2026-12-02')).state).toBe('already');
    // Exactly 12 hours is not "less than 12 hours old".
    w.clock.set(at('2026-12-03', '21:00'));
    expect((await w.scheduler.catchUp()).map((r) => [r.day, r.state])).toEqual([
      ['2026-12-02', 'already'],
      ['2026-12-03', 'skipped'],
    ]);
  });
});

describe('policy expiry', () => {
  it('a policy 30 days from its end on a Saturday is told on Monday, once; 7 days before, once more', async () => {
    const w = await world();
    const dongping = await unitId(w.db, '430923121');
    const e = await w.db.enterprise.create({
      data: {
        countyCode: '430923',
        creditCode: 'TEST-EXPIRY',
        name: '东坪测试运输有限公司',
        sectorId: (await w.db.sector.findFirstOrThrow({ where: { code: 'transport' } })).id,
        townshipId: dongping,
        employees: 20,
      },
    });
    // 2026-12-05 (Saturday) + 30 days = 2027-01-04; 7 days before it is Monday 2026-12-28.
    await w.db.policy.create({
      data: {
        policyNo: 'PA-TEST-1',
        insurerId: await unitId(w.db, 'pingan-pc'),
        enterpriseId: e.id,
        startOn: '2026-01-05',
        endOn: '2027-01-04',
        insuredHeadcount: 20,
      },
    });
    const days = [
      '2026-12-04',
      '2026-12-05',
      '2026-12-06',
      '2026-12-07',
      '2026-12-08',
      '2026-12-25',
      '2026-12-26',
      '2026-12-27',
      '2026-12-28',
      '2026-12-29',
    ];
    for (const day of days) await runDay(w, day);
    const told = async (target: string) =>
      (await queued(w.db, target))
        .filter((m) => m.text.includes('PA-TEST-1'))
        .map((m) => [m.day, /还有 (\d+) 天/.exec(m.text.split('\n').find((l) => l.includes('PA-TEST-1'))!)![1]]);
    expect(await told(KEYS.dongping)).toEqual([
      ['2026-12-07', '28'],
      ['2026-12-28', '7'],
    ]);
    expect(await told('demo-insurer-pingan')).toEqual([
      ['2026-12-07', '28'],
      ['2026-12-28', '7'],
    ]);
  });
});

describe('quiet hours', () => {
  it('a run at 21:00, or a catch-up at 20:30, waits until after 08:00 the next morning, and the next run does not say it again', async () => {
    const w = await world();
    expect((await runDay(w, '2026-12-01', '21:00')).state).toBe('ran');
    w.clock.set(at('2026-12-02', '20:30'));
    expect((await w.scheduler.catchUp()).map((r) => [r.day, r.state])).toEqual([
      ['2026-12-01', 'already'],
      ['2026-12-02', 'late'],
    ]);
    const rows = await w.db.outboxMessage.findMany();
    for (const day of ['2026-12-01', '2026-12-02']) {
      const morning = at(addDays(day, 1), '08:00').getTime();
      for (const r of rows.filter((r) => dayIn(r.createdAt, TZ) === day)) {
        expect(r.nextAttemptAt.getTime()).toBeGreaterThan(morning);
        expect(r.nextAttemptAt.getTime()).toBeLessThan(morning + 10 * 60_000);
      }
    }
    // The items told on the evening of the 1st (sent the next morning) are not told again by the
    // run of the 2nd: the ladder's window, not the day, decides.
    const items = (day: string) =>
      rows
        .filter((r) => dayIn(r.createdAt, TZ) === day)
        .map((r) => content(r.payload))
        .filter((text) => text.includes('督办提醒') || text.includes('逾期升级'));
    expect(items('2026-12-01').length).toBeGreaterThan(0);
    expect(items('2026-12-02')).toEqual([]);
    w.clock.set(at('2026-12-02', '07:59'));
    await w.dispatcher.drain();
    expect(w.api.delivered.length).toBe(0);
  });
});

describe('Done when: `npm run remind` on fresh demo data', () => {
  it('on a working day at 09:00 queues the overdue items to their units, the expiring policies, the escalation; nothing on a Sunday or 国庆', async () => {
    const w = await world();
    expect((await runDay(w, '2026-11-29')).state).toBe('not-working-day');
    expect((await runDay(w, '2026-10-01')).state).toBe('not-working-day');
    expect([await w.db.outboxMessage.count(), await w.db.reminderLedger.count()]).toEqual([0, 0]);

    expect((await runDay(w, '2026-11-30')).state).toBe('ran');
    const day = '2026-11-30';
    const overdue = await w.db.obligation.findMany({
      where: { status: { not: 'done' }, dueOn: { lt: day } },
      include: { unit: true },
    });
    expect(overdue.map((o) => o.unit.code).sort()).toEqual(['jtj', 'pingan-pc', 'zjj']);
    const id = (code: string) => overdue.find((o) => o.unit.code === code)!.id;
    const ids = (text: string) => [...text.matchAll(/#(\d+) /g)].map((m) => Number(m[1]));
    // 交通局's group gets its item, mentioning its liaison; 平安财险 (no group) through the app to its member.
    const [jtj] = await queued(w.db, KEYS.jtj);
    expect(ids(jtj!.text)).toEqual([id('jtj')]);
    expect(jtj!.text).toContain('🔴');
    expect(jtj!.text).toContain('<@demo-liaison-jtj>');
    const pingan = (await queued(w.db, 'demo-insurer-pingan')).map((m) => m.text);
    expect(ids(pingan.find((t) => t.includes('督办提醒'))!)).toEqual([id('pingan-pc')]);
    // All three overdue 30+ days: escalated to the leaders, 住建局's included though it has no group.
    const [escalation] = (await queued(w.db, KEYS.leaders)).filter((m) => m.text.includes('逾期升级'));
    expect(ids(escalation!.text).sort()).toEqual(overdue.map((o) => o.id).sort());

    // Policies ending within 30 days, not renewed, counted here independently of the rule.
    const ending = (
      await w.db.policy.findMany({
        where: { status: 'valid', endOn: { gte: day, lte: addDays(day, 30) }, enterprise: { status: 'operating' } },
        include: { insurer: true, enterprise: { include: { township: true, policies: true } } },
      })
    ).filter((p) => !p.enterprise.policies.some((q) => q.status === 'valid' && q.startOn > p.startOn));
    const nos = (text: string) => [...text.matchAll(/ (DEMO-\d+)）/g)].map((m) => m[1]).sort();
    const ofPingan = ending
      .filter((p) => p.insurer.code === 'pingan-pc')
      .map((p) => p.policyNo)
      .sort();
    const ofDongping = ending
      .filter((p) => p.enterprise.township.code === '430923121')
      .map((p) => p.policyNo)
      .sort();
    expect(ofPingan.length).toBeGreaterThan(5);
    expect(ofDongping.length).toBeGreaterThan(0);
    expect(nos(pingan.filter((t) => t.includes('保单即将到期')).join('\n'))).toEqual(ofPingan);
    expect(
      nos(
        (await queued(w.db, KEYS.dongping))
          .map((m) => m.text)
          .filter((t) => t.includes('保单即将到期'))
          .join('\n'),
      ),
    ).toEqual(ofDongping);
  });
});

describe('audiences nobody can reach', () => {
  it('are named by the run and by the dry run, rule by rule, instead of going unheard', async () => {
    const w = await world();
    const zjj = await w.db.unit.findFirstOrThrow({ where: { code: 'zjj' } });
    const [dry] = await w.scheduler.runAt(at('2026-11-30'), { dryRun: true });
    // 住建局 has an overdue item and neither a group nor a liaison.
    expect(dry!.unheard).toContainEqual({ rule: 'obligationReminders', who: zjj.name, why: 'no_destination' });
    const run = await runDay(w, '2026-11-30');
    expect(run.unheard).toEqual(dry!.unheard);
    // Units with a group, and the leaders, are heard.
    const heard = await w.db.groupChat.findMany({ where: { unitId: { not: null } }, include: { unit: true } });
    for (const g of heard) expect(run.unheard.map((u) => u.who)).not.toContain(g.unit!.name);
    expect(run.unheard.map((u) => u.who)).not.toContain('leaders');
  });

  it('are named by `npm run remind -- --dry-run`', async () => {
    const w = await world();
    const zjj = await w.db.unit.findFirstOrThrow({ where: { code: 'zjj' } });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/remind.ts', '--now', '2026-11-30 09:00', '--dry-run'],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: w.url }, timeout: 60_000 },
    );
    expect(stdout).toContain(`⚠️ obligationReminders: ${zjj.name} cannot be reached (no_destination)`);
    expect(await w.db.outboxMessage.count()).toBe(0);
  });
});

describe('technical notices', () => {
  it('next year’s missing holiday arrangement goes to the admins, never to the leaders’ group', async () => {
    const w = await world();
    // December of a year whose next the calendar cannot know.
    expect(calendar.knowsYear(2031)).toBe(false);
    expect((await runDay(w, '2030-12-02')).state).toBe('ran');
    const missing = (texts: { text: string }[]) => texts.filter((m) => m.text.includes('2031 年的节假日安排'));
    expect(missing(await queued(w.db, KEYS.leaders))).toEqual([]);
    expect(missing(await queued(w.db, 'demo-admin'))).toHaveLength(1);
  });
});
