// Property-based tests (fast-check) on what strangers control: the text of a message, and the
// bytes of a callback. No input may throw anything but the refusals the code means to throw.
import fc from 'fast-check';
import { createHash, createCipheriv } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, Outcome } from '../../src/bot/bus.ts';
import { normalise, parse, tokenize } from '../../src/bot/parse.ts';
import { distance } from '../../src/core/names.ts';
import { MAX_COUNT, parseCount, parseDay, parseRatio, yearsLater, type DayField } from '../../src/core/words.ts';
import { addDays, isDay } from '../../src/clock.ts';
import { sqlitePath } from '../../src/db/client.ts';
import { coverAround, FIRST_DAY, headcountOn, LAST_DAY } from '../../src/domain/cover.ts';
import { CallbackRejected, WeComCipher } from '../../src/wecom/crypto.ts';
import { openAppEnvelope, openBotEnvelope } from '../../src/wecom/envelope.ts';
import { parseXml } from '../../src/wecom/xml.ts';
import { readAppMessage, readBotMessage } from '../../src/wecom/inbound.ts';
import { testBot, type TestDb } from '../support/db.ts';

const RUNS = { numRuns: Number(process.env.FUZZ_RUNS ?? 300) };
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    'toString',
    '__proto__',
    'constructor',
    'hasOwnProperty',
    '99999999999999999999',
    '2147483648',
    '1e3',
    '0x10',
    '十万万万',
  ),
);

/** 38 → 三十八, 10500 → 一万零五百: the way people write numbers, below 10^8. */
function chinese(n: number): string {
  const DIGITS = '零一二三四五六七八九';
  const below = (x: number): string => {
    let out = '';
    let zero = false;
    for (const [unit, name] of [
      [1000, '千'],
      [100, '百'],
      [10, '十'],
      [1, ''],
    ] as const) {
      const d = Math.floor(x / unit) % 10;
      if (d === 0) zero = out !== '';
      else {
        out += (zero ? '零' : '') + DIGITS[d] + name;
        zero = false;
      }
    }
    return out;
  };
  if (n === 0) return '零';
  const [wan, rest] = [Math.floor(n / 10000), n % 10000];
  return (wan ? `${below(wan)}万` : '') + (rest ? (wan && rest < 1000 ? '零' : '') + below(rest) : '');
}

const day = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

describe('the command parser', () => {
  it('never throws, and normalising twice changes nothing', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        expect(normalise(normalise(s))).toBe(normalise(s));
        const p = parse(s);
        if (p) {
          expect(p.word).toBe(p.word.toLowerCase());
          expect(p.word.startsWith('/')).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('tokens are words of the line, found where they say', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const line = normalise(s);
        for (const tok of tokenize(line)) {
          expect(tok.text.length > 0 || '"“「『\''.includes(line[tok.start]!)).toBe(true);
          const at = line.slice(tok.start);
          expect(at.startsWith(tok.text) || at.slice(1).startsWith(tok.text)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('parseCount reads back any number written in digits or in Chinese', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999 }), (n) => {
        expect(parseCount(String(n))).toBe(n);
        expect(parseCount(chinese(n))).toBe(n);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(anyText, (s) => {
        const n = parseCount(s);
        expect(n === null || (Number.isInteger(n) && n >= 0 && n <= MAX_COUNT)).toBe(true);
      }),
      RUNS,
    );
  });

  it('parseRatio never gives more insured than enterprises, and reads back a/b', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const r = parseRatio(s);
        if (r) expect(r.insured <= r.total && r.total > 0).toBe(true);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.nat(), (total, k) => {
        const insured = k % (total + 1);
        expect(parseRatio(`${insured}/${total}`)).toEqual({ insured, total });
        expect(parseRatio(`${chinese(insured)}／${chinese(total)}`)).toEqual({ insured, total });
        expect(parseRatio(`${total + 1}/${total}`)).toBeNull();
      }),
      RUNS,
    );
  });

  const field = fc.constantFrom<DayField>('forward', 'backward', 'nearest', { after: '2026-12-31' });

  it('parseDay reads back any day, and gives only real days', () => {
    fc.assert(
      fc.property(day, day, field, (d, today, f) => {
        expect(parseDay(d, today, f)).toBe(d);
        const [y, m, dd] = d.split('-').map(Number);
        expect(parseDay(`${y}年${m}月${dd}日`, today, f)).toBe(d);
        expect(parseDay(`${y}/${m}/${dd}`, today, f)).toBe(d);
        expect(parseDay(d.replaceAll('-', ''), today, f)).toBe(d);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(anyText, day, field, (s, today, f) => {
        const d = parseDay(s, today, f);
        if (d !== null) expect(isDay(d)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a day without its year lies where its field looks, within a year (for 29 February four, eight across 2100)', () => {
    fc.assert(
      fc.property(day, day, (d, today) => {
        const md = `${Number(d.slice(5, 7))}月${Number(d.slice(8, 10))}日`;
        const reach = d.endsWith('02-29') ? (Math.abs(Number(today.slice(0, 4)) - 2100) <= 4 ? 8 : 4) : 1;
        const forward = parseDay(md, today, 'forward')!;
        expect(forward >= today && forward <= yearsLater(today, reach)).toBe(true);
        const backward = parseDay(md, today, 'backward')!;
        expect(backward <= today && backward >= yearsLater(today, -reach)).toBe(true);
        const after = parseDay(md, today, { after: today })!;
        expect(after > today && after <= yearsLater(today, reach)).toBe(true);
        for (const placed of [forward, backward, after, parseDay(md, today, 'nearest')!])
          expect(placed.slice(5)).toBe(d.slice(5));
      }),
      RUNS,
    );
  });

  it('distance is a distance', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(distance(a, a)).toBe(0);
        expect(distance(a, b)).toBe(distance(b, a));
        expect(distance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
      RUNS,
    );
  });
});

describe('the callback decoder', () => {
  const cipher = new WeComCipher({
    token: 'tok',
    encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    receiveId: 'wwcorp',
  });
  const onlyRejections = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof CallbackRejected)) throw e;
    }
  };
  const xmlish = fc
    .array(
      fc.constantFrom(
        '<',
        '>',
        '/',
        '</',
        '<xml>',
        '</xml>',
        '<![CDATA[',
        ']]>',
        '<!DOCTYPE',
        '<?xml ?>',
        '&',
        '&amp;',
        '&#',
        'x;',
        ';',
        '&#x110000;',
        'Encrypt',
        'MsgType',
        ' ',
        '=',
        '"',
        'a',
        '中',
        '\uFEFF',
        '\u0000',
      ),
      { maxLength: 40 },
    )
    .map((a) => a.join(''));
  const json = fc.jsonValue().map((v) => JSON.stringify(v));

  it('refuses random text and random bytes only with CallbackRejected', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.base64String({ maxLength: 200 })), (s) => {
        onlyRejections(() => cipher.decrypt(s));
        onlyRejections(() => cipher.verify(s, '1', 'n', 'e'));
        onlyRejections(() => openBotEnvelope(s));
        onlyRejections(() => openAppEnvelope(s));
      }),
      RUNS,
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 256 }).filter((b) => b.length % 16 === 0),
        (bytes) => {
          onlyRejections(() => cipher.decrypt(Buffer.from(bytes).toString('base64')));
        },
      ),
      RUNS,
    );
  });

  it('decrypts any AES block it is given (right key, any plaintext) into a message or a refusal', () => {
    const key = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=', 'base64');
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 200 }).filter((b) => b.length % 16 === 0),
        (plain) => {
          const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
          onlyRejections(() => cipher.decrypt(Buffer.concat([c.update(plain), c.final()]).toString('base64')));
        },
      ),
      RUNS,
    );
  });

  it('parses XML-looking and JSON-looking junk only into values or CallbackRejected', () => {
    fc.assert(
      fc.property(fc.oneof(xmlish, anyText), (s) => {
        onlyRejections(() => parseXml(s));
        onlyRejections(() => openAppEnvelope(s));
        onlyRejections(() => readAppMessage(s));
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.oneof(json, anyText), (s) => {
        onlyRejections(() => readBotMessage(s));
        onlyRejections(() => openBotEnvelope(s));
      }),
      RUNS,
    );
  });

  it('round-trips any text through encrypt and decrypt, and any flat document through the XML parser', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
        expect(cipher.decrypt(cipher.encrypt(s))).toBe(s);
      }),
      RUNS,
    );
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/).filter((n) => n !== 'xml');
    fc.assert(
      fc.property(fc.dictionary(name, fc.string({ unit: 'grapheme', maxLength: 30 }), { maxKeys: 6 }), (fields) => {
        const doc = `<xml>${Object.entries(fields)
          .map(([k, v]) => `<${k}><![CDATA[${v.replaceAll(']]>', ']]]]><![CDATA[>')}]]></${k}>`)
          .join('')}</xml>`;
        expect(parseXml(doc)).toEqual(Object.fromEntries(Object.entries(fields)));
      }),
      RUNS,
    );
  });
});

describe('the kept cover of an enterprise', () => {
  const policy = fc
    .tuple(day, fc.integer({ min: 0, max: 800 }), fc.integer({ min: 0, max: 500 }))
    .map(([startOn, days, insuredHeadcount]) => ({ startOn, endOn: addDays(startOn, days), insuredHeadcount }));
  it('holds the same headcount over its whole stretch, and no longer', () => {
    fc.assert(
      fc.property(
        fc.array(policy, { maxLength: 5 }),
        day,
        fc.array(fc.integer({ min: -400, max: 400 }), { maxLength: 8 }),
        (policies, today, offsets) => {
          const c = coverAround(policies, today);
          expect(c.from <= today && today <= c.until).toBe(true);
          expect(c.headcount).toBe(headcountOn(policies, today));
          for (const o of offsets) {
            const d = addDays(today, o);
            if (c.from <= d && d <= c.until) expect(headcountOn(policies, d)).toBe(c.headcount);
          }
          if (c.from !== FIRST_DAY) expect(headcountOn(policies, addDays(c.from, -1))).not.toBe(c.headcount);
          if (c.until !== LAST_DAY) expect(headcountOn(policies, addDays(c.until, 1))).not.toBe(c.headcount);
        },
      ),
      RUNS,
    );
  });
});

describe('the bus, given any text from anyone', () => {
  let t: TestDb;
  let bus: Bus;
  let raw: Database.Database;
  const AUDIT = 'AuditEvent';
  /** Every row of every table but the audit trail, hashed. */
  const snapshot = () => {
    const h = createHash('sha256');
    const tables = (
      raw
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_prisma%' AND name NOT IN (?, ?) ORDER BY name`,
        )
        // Like the audit trail, the count of attempts by people not registered (/待登记) records the message.
        .all(AUDIT, 'Stranger') as { name: string }[]
    ).map((r) => r.name);
    for (const name of tables)
      h.update(name).update(JSON.stringify(raw.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()));
    return h.digest('hex');
  };
  const audits = () => (raw.prepare(`SELECT COUNT(*) AS n FROM "${AUDIT}"`).get() as { n: number }).n;

  beforeAll(async () => {
    ({ t, bus } = await testBot({ demo: true }));
    raw = new Database(sqlitePath(t.url), { readonly: true });
  });
  afterAll(async () => {
    raw?.close();
    await t?.close();
  });

  const users = [
    'demo-admin',
    'demo-leader',
    'demo-liaison-yjj',
    'demo-liaison-jtj',
    'demo-liaison-dongping',
    'demo-insurer-pingan',
    'stranger-1',
  ];
  const words = [
    '/覆盖率',
    '覆盖率',
    '／上报',
    '/report',
    '/投保',
    '/撤销',
    '/执行',
    '/取消',
    '/帮助',
    '/我是谁',
    '/逾期',
    '/排名',
    '/任务',
    '/签收',
    '/反馈',
    '/办结',
    '/延期',
    '/暂缓',
    '/批准',
    '/驳回',
    '/交办',
    '/走访',
    '/走访记录',
    '/服务计划',
    '/确认',
    '/绑定',
    '/解绑',
    '/群',
    '/日志',
    '/COVERAGE',
    '/覆盖',
    '/帮',
  ];
  const args = [
    '危化',
    '交通',
    '东坪',
    '乡镇',
    '部门',
    '3/5',
    '5/3',
    '0/0',
    '三十八/四十',
    '-1',
    '1',
    '99999999999999999999',
    '2026-12-01',
    '明天',
    '本月底',
    '下周一',
    '2026-02-30',
    '平安',
    'PA-1',
    '鑫达化工',
    '全部乡镇',
    '领导',
    'leader',
    'liaison',
    'demo-leader',
    'yjj',
    '“带 空格 的词”',
    '「引号',
    '（演示）',
    '%',
    '\u0000',
    '😀',
    'x'.repeat(300),
    'toString',
    '__proto__',
    '3000000000',
    '2147483648',
    '21474836.48万',
    '九十九亿',
    'PA2026001',
    '2027-11-30',
    '45',
    '6750',
  ];
  const message = fc.oneof(
    anyText,
    fc
      .tuple(
        fc.constantFrom(...words),
        fc.array(fc.oneof(fc.constantFrom(...args), fc.string({ maxLength: 8 })), { maxLength: 6 }),
        fc.constantFrom(' ', '，', '、', '　'),
      )
      .map(([w, a, sep]) => [w, ...a].join(sep)),
  );

  it(
    'answers each exactly once, never with an internal error, and a refusal changes nothing but the audit trail',
    async () => {
      const seen = new Map<Outcome, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...users),
          fc.constantFrom(null, 'demo-chat-leaders', 'demo-chat-yjj', 'chat-unknown'),
          message,
          async (userId, chatId, text) => {
            const before = snapshot();
            const auditBefore = audits();
            const out = await bus.handle({ channel: 'sandbox', userId, chatId, text });
            seen.set(out.outcome, (seen.get(out.outcome) ?? 0) + 1);
            expect(out.outcome, `${userId}: ${text}\n${out.text}`).not.toBe('error');
            expect(out.text.trim().length).toBeGreaterThan(0);
            if (out.outcome === 'denied' || out.outcome === 'invalid' || out.outcome === 'unknown') {
              expect(snapshot(), `${out.outcome} changed the database: ${userId}: ${text}`).toBe(before);
              expect(audits()).toBe(auditBefore + 1);
            } else expect(audits()).toBeGreaterThan(auditBefore);
          },
        ),
        {
          numRuns: Number(process.env.FUZZ_RUNS ?? 200),
          interruptAfterTimeLimit: process.env.FUZZ_RUNS ? undefined : 12_000,
          // Every command with numbers beyond what the database stores, from the one allowed all of them.
          examples: words.flatMap((w) =>
            ['99999999999999999999', '2147483648'].map(
              (n) => ['demo-admin', null, `${w} ${n}`] as [string, null, string],
            ),
          ),
        },
      );
      // The generator reached refusals of every kind and commands that ran.
      for (const o of ['ok', 'denied', 'invalid', 'unknown'] as const)
        expect(seen.get(o) ?? 0, `outcomes: ${[...seen]}`).toBeGreaterThan(0);
    },
    process.env.FUZZ_RUNS ? 3_600_000 : 60_000,
  );
});
