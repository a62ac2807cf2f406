// anze purge: records older than their retention period go, younger ones stay — on a real SQLite
// database, at the edges of each period, with periods that may be lengthened but not shortened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { monthsBefore, purge, purgeCutoffs } from '../../src/domain/retention.ts';
import { testDb, type TestDb } from '../support/db.ts';

const NOW = '2032-06-15T00:00:00.000Z'; // visits before 2027-06-15 may go; logs before 2031-12-15
const at = (iso: string) => new Date(iso);
let t: TestDb;
let visit: Record<string, number>;
const ids = async () => ({
  visits: (await t.db.preventionVisit.findMany({ select: { id: true } })).map((r) => r.id),
  audit: (await t.db.auditEvent.findMany({ select: { id: true, at: true } })).map((r) => [r.id, r.at] as const),
  inbound: (await t.db.inboundMessage.findMany({ select: { dedupeKey: true } })).map((r) => r.dedupeKey).sort(),
  outbox: (await t.db.outboxMessage.findMany({ select: { target: true } })).map((r) => r.target).sort(),
  pending: (await t.db.pendingAction.findMany({ select: { text: true } })).map((r) => r.text).sort(),
  media: (await t.db.longConnMedia.findMany({ select: { key: true } })).map((r) => r.key).sort(),
});

beforeAll(async () => {
  t = await testDb({ demo: true, provider: 'sqlite' });
  await t.db.preventionVisit.deleteMany({}); // only the visits below, whose dates are known
  const enterprise = await t.db.enterprise.findFirstOrThrow();
  const insurer = await t.db.unit.findFirstOrThrow();
  const row = (createdAt: string, more: object) =>
    t.db.preventionVisit.create({
      data: {
        enterpriseId: enterprise.id,
        insurerId: insurer.id,
        serviceType: 'training',
        recordedBy: 'insurer-a',
        createdAt: at(createdAt),
        ...more,
      },
    });
  visit = {
    old: (
      await row('2027-06-10T00:00:00Z', {
        visitedOn: '2027-06-10',
        insurerConfirmedAt: at('2027-06-11T00:00:00Z'),
        enterpriseConfirmedAt: at('2027-06-12T00:00:00Z'),
      })
    ).id,
    onCutoffDay: (await row('2027-06-10T00:00:00Z', { visitedOn: '2027-06-15' })).id,
    confirmedLater: (
      await row('2027-06-01T00:00:00Z', {
        visitedOn: '2027-06-01',
        enterpriseConfirmedAt: at('2027-07-01T00:00:00Z'),
      })
    ).id,
    recordedLater: (await row('2027-08-01T00:00:00Z', { visitedOn: '2027-01-01' })).id,
    plannedLater: (await row('2027-01-01T00:00:00Z', { plannedOn: '2028-01-01' })).id,
  };
  for (const when of ['2031-12-14T23:59:59Z', '2031-12-15T00:00:00Z', '2032-06-01T00:00:00Z'])
    await t.db.auditEvent.create({ data: { at: at(when), channel: 'test', action: 'test', outcome: 'ok' } });
  for (const [key, when] of [
    ['in-old', '2031-12-01T00:00:00Z'],
    ['in-young', '2032-01-01T00:00:00Z'],
  ])
    await t.db.inboundMessage.create({
      data: { dedupeKey: key!, channel: 'test', fromUser: 'u', payload: '{}', receivedAt: at(when!) },
    });
  for (const [target, when, state] of [
    ['out-old-sent', '2031-12-01T00:00:00Z', 'sent'],
    ['out-old-failed', '2031-12-01T00:00:00Z', 'failed'],
    ['out-old-pending', '2031-12-01T00:00:00Z', 'pending'],
    ['out-young-sent', '2032-01-01T00:00:00Z', 'sent'],
  ])
    await t.db.outboxMessage.create({
      data: {
        channel: 'app',
        target: target!,
        payload: '{}',
        state: state!,
        nextAttemptAt: at(when!),
        createdAt: at(when!),
      },
    });
  for (const [userId, when] of [
    ['stranger-old', '2031-12-01T00:00:00Z'],
    ['stranger-young', '2032-01-01T00:00:00Z'],
  ])
    await t.db.stranger.create({
      data: { userId: userId!, channel: 'bot', lastText: 'hi', firstAt: at(when!), lastAt: at(when!) },
    });
  for (const [text, when] of [
    ['pending-old', '2031-12-01T00:00:00Z'],
    ['pending-young', '2032-01-01T00:00:00Z'],
  ])
    await t.db.pendingAction.create({
      data: { userId: 'u', text: text!, preview: 'p', createdAt: at(when!), expiresAt: at(when!) },
    });
  // The long connection's media ids: gone once expired, whatever the periods.
  for (const [key, when] of [
    ['media-expired', '2032-06-14T23:00:00Z'],
    ['media-expiring-now', NOW],
    ['media-valid', '2032-06-15T00:00:01Z'],
  ])
    await t.db.longConnMedia.create({ data: { key: key!, mediaId: `id-${key}`, expiresAt: at(when!) } });
});
afterAll(() => t.close());

describe('retention', () => {
  it('computes cutoffs by calendar', () => {
    expect(purgeCutoffs(at(NOW))).toEqual({
      visits: at('2027-06-15T00:00:00Z'),
      audit: at('2031-12-15T00:00:00Z'),
      messages: at('2031-12-15T00:00:00Z'),
    });
    expect(monthsBefore(at('2032-03-31T08:00:00Z'), 1)).toEqual(at('2032-02-29T08:00:00Z'));
    expect(monthsBefore(at('2032-02-29T08:00:00Z'), 12)).toEqual(at('2031-02-28T08:00:00Z'));
  });

  it('refuses a configuration shorter than the legal minimum, naming the variable', () => {
    expect(loadConfig({}).retention).toEqual({ visitsYears: 5, auditMonths: 6, messagesMonths: 6 });
    expect(() => loadConfig({ BOT_RETAIN_VISITS_YEARS: '4' })).toThrow(/^BOT_RETAIN_VISITS_YEARS: .*AQ 9010/);
    expect(() => loadConfig({ BOT_RETAIN_AUDIT_MONTHS: '3' })).toThrow(/^BOT_RETAIN_AUDIT_MONTHS: /);
    expect(() => loadConfig({ BOT_RETAIN_MESSAGES_MONTHS: '5' })).toThrow(/^BOT_RETAIN_MESSAGES_MONTHS: /);
    expect(loadConfig({ BOT_RETAIN_VISITS_YEARS: '10' }).retention?.visitsYears).toBe(10);
  });

  it('deletes nothing younger than its period, even when told a shorter one, and counts first on --dry-run', async () => {
    const clock = fixedClock(NOW);
    const before = await ids();
    // Longer periods keep more: nothing of the visits goes with ten years.
    const longer = await purge(
      t.db,
      clock,
      { visitsYears: 10, auditMonths: 120, messagesMonths: 120 },
      { dryRun: true },
    );
    expect([longer.visits, longer.auditEvents, longer.inboundMessages, longer.outboxMessages]).toEqual([0, 0, 0, 0]);
    expect(longer.mediaIds).toBe(2);
    // A period below the minimum (past the configuration's check) counts as the minimum.
    const dry = await purge(t.db, clock, { visitsYears: 1, auditMonths: 1, messagesMonths: 1 }, { dryRun: true });
    expect(await ids()).toEqual(before);

    const r = await purge(t.db, clock, { visitsYears: 1, auditMonths: 1, messagesMonths: 1 });
    expect({ ...r, cutoffs: null }).toEqual({ ...dry, cutoffs: null });
    const after = await ids();
    expect(after.visits.sort()).toEqual(
      [visit.onCutoffDay, visit.confirmedLater, visit.recordedLater, visit.plannedLater].sort(),
    );
    expect(r.visits).toBe(1);
    const cutoff = at('2031-12-15T00:00:00Z');
    const kept = (rows: (typeof before)['audit']) => rows.filter(([, when]) => when >= cutoff).map(([id]) => id);
    // Every audit event from the cutoff on is still there, plus the one recording the purge; none older.
    expect(after.audit.filter(([, when]) => when < cutoff)).toEqual([]);
    expect(kept(after.audit)).toEqual(expect.arrayContaining(kept(before.audit)));
    expect(r.auditEvents).toBe(before.audit.length - kept(before.audit).length);
    expect(after.inbound).toEqual(['in-young']);
    expect(after.outbox).toEqual(['out-old-pending', 'out-young-sent']);
    expect(after.pending).toEqual(['pending-young']);
    expect((await t.db.stranger.findMany()).map((x) => x.userId)).toEqual(['stranger-young']);
    expect(r.strangers).toBe(1);
    expect(after.media).toEqual(['media-valid']);
    expect(r.mediaIds).toBe(2);
    const record = await t.db.auditEvent.findFirstOrThrow({ where: { action: 'retention_purge' } });
    expect(JSON.parse(record.detail!)).toMatchObject({ visits: 1, inboundMessages: 1, outboxMessages: 2 });
  });
});
