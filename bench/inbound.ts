// Benchmark 1: encrypted AI-bot callbacks carrying /覆盖率, end to end over loopback HTTP, against
// two references in the same run: a bare Koa handler answering a fixed JSON, and a Koa handler
// doing only the crypto (verify, decrypt, parse, encrypt a fixed reply). Each server runs alone in
// a child process (one core), autocannon in this one (the other core). Every request carries its
// own msgid and a valid signature (bodies made beforehand), so the full service de-duplicates,
// audits and answers each one: no cached reply.
//   node --import tsx bench/inbound.ts serve <bare|crypto|full> <database url>   (a server, for the driver)
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Koa from 'koa';
import { systemClock } from '../src/clock.ts';
import type { Config } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { readBody } from '../src/http/body.ts';
import { startService } from '../src/service.ts';
import { WeComCipher } from '../src/wecom/crypto.ts';
import { openBotEnvelope, sealBotReply } from '../src/wecom/envelope.ts';
import { readBotMessage } from '../src/wecom/inbound.ts';
import { fmt, type Row, spawnTsx, stop } from './lib.ts';

const BOT = { token: 'benchToken', encodingAesKey: 'benchBENCHbenchBENCHbenchBENCHbenchBENCH012' };
const VARIANTS = ['bare', 'crypto', 'full'] as const;
type Variant = (typeof VARIANTS)[number];
/** A reply of the size /覆盖率 gives on the demo county (nine sectors, two lines each). */
const FIXED_REPLY = Array.from(
  { length: 9 },
  () => '🟡 危险化学品  25/30 家 83.3%，差 5 家  ↑1\n   按人数 1812/2305 78.6% · 来源：台账',
).join('\n');

async function serve(variant: Variant, databaseUrl: string): Promise<void> {
  if (variant === 'full') {
    const config: Config = {
      port: 0,
      databaseUrl,
      timezone: 'Asia/Shanghai',
      locale: 'zh-CN',
      admins: [],
      calendarFile: 'prisma/calendar.json',
      callbackMaxSkewSeconds: 300,
      wecomApiBase: 'http://127.0.0.1:9',
      sandbox: false,
      bot: BOT,
    } as Config;
    const service = await startService(config, systemClock, () => {});
    console.log(`READY ${service.url}`);
    return;
  }
  const cipher = new WeComCipher({ ...BOT, receiveId: '' });
  const app = new Koa();
  app.use(async (ctx) => {
    const body = await readBody(ctx.req, 64 * 1024);
    if (variant === 'bare') {
      ctx.body = { ok: true };
      return;
    }
    const q = (k: string) => String(ctx.query[k] ?? '');
    const { encrypt } = openBotEnvelope(body);
    cipher.verify(q('msg_signature'), q('timestamp'), q('nonce'), encrypt);
    const msg = readBotMessage(cipher.decrypt(encrypt));
    ctx.type = 'application/json';
    ctx.body = sealBotReply(
      cipher,
      JSON.stringify({ msgtype: 'stream', stream: { id: msg.msgId, finish: true, content: FIXED_REPLY } }),
      q('timestamp'),
      'n0nce',
    );
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    console.log(`READY http://127.0.0.1:${port}`);
  });
}

/** Who says what in one callback. */
export interface Said {
  userId: string;
  text: string;
}

/** Signed, encrypted callbacks as WeCom sends them, each with its own msgid; by default the leader's /覆盖率. */
export function bodies(
  n: number,
  said: (i: number) => Said = () => ({ userId: 'demo-leader', text: '/覆盖率' }),
  tag = 'bench',
): { path: string; body: string }[] {
  const cipher = new WeComCipher({ ...BOT, receiveId: '' });
  const timestamp = String(Math.floor(Date.now() / 1000));
  return Array.from({ length: n }, (_, i) => {
    const { userId, text } = said(i);
    const msg = {
      msgid: `${tag}-${process.pid}-${i}`,
      aibotid: 'AIBOT',
      chatid: 'demo-chat-leaders',
      chattype: 'group',
      from: { userid: userId },
      response_url: 'https://example.invalid/r',
      msgtype: 'text',
      text: { content: `@安责险助手 ${text}` },
    };
    const nonce = `n${i}`;
    const { encrypt, signature } = cipher.seal(JSON.stringify(msg), timestamp, nonce);
    return {
      path: `/wecom/bot?msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`,
      body: JSON.stringify({ encrypt }),
    };
  });
}

export interface InboundFigures {
  variant: Variant;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
}

/** Drives one server with 50 connections: a short warm-up, then `seconds` measured. */
export async function drive(
  url: string,
  all: { path: string; body: string }[],
  from: number,
  seconds: number,
  connections: number,
  /** Called after the warm-up, before the pause that precedes the measured run. */
  beforeMeasuring?: () => Promise<void>,
): Promise<{ figures: Omit<InboundFigures, 'variant'>; used: number; answered: number }> {
  let next = from;
  const run = (duration: number) =>
    autocannon({
      url,
      connections,
      duration,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => ({ ...req, ...all[next++ % all.length]! }),
        },
      ],
    });
  const warm = await run(2);
  await beforeMeasuring?.();
  // The warm-up's last requests were sent but not waited for: let the server finish them, or the
  // measured run's first requests would queue behind requests no client waits for any more.
  await new Promise((r) => setTimeout(r, 2000));
  const r = await run(seconds);
  return {
    answered: warm['2xx'] + r['2xx'],
    figures: {
      rps: r['2xx'] / seconds,
      p50: r.latency.p50,
      p99: r.latency.p99,
      requests: r['2xx'],
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
    },
    used: next - from,
  };
}

/** The crypto-only server alone, driven as in benchmark 1: the reference of benchmark 7 when run without benchmark 1. */
export async function cryptoOnly(demoDbFile: string, dir: string, seconds = 10): Promise<InboundFigures> {
  const { proc, match } = await spawnTsx('bench/inbound.ts', ['serve', 'crypto', `file:${demoDbFile}`]);
  try {
    return { variant: 'crypto', ...(await drive(match[1]!, bodies(120_000), 0, seconds, 50)).figures };
  } finally {
    await stop(proc);
  }
}

export async function inboundBench(
  demoDbFile: string,
  dir: string,
  o: { seconds?: number; connections?: number } = {},
): Promise<{ rows: Row[]; figures: InboundFigures[]; writes: { inbound: number; audit: number; answered: number } }> {
  const seconds = o.seconds ?? 10;
  const connections = o.connections ?? 50;
  const all = bodies(120_000);
  const figures: InboundFigures[] = [];
  let lighter: Omit<InboundFigures, 'variant'> | undefined;
  let writes = { inbound: 0, audit: 0, answered: 0 };
  for (const variant of VARIANTS) {
    const file = join(dir, `inbound-${variant}.db`);
    copyFileSync(demoDbFile, file);
    const { proc, match } = await spawnTsx('bench/inbound.ts', ['serve', variant, `file:${file}`]);
    try {
      // Each server has its own copy of the database, so each starts from the first callback; the
      // references may go round the list again, the service must never see a msgid twice.
      const { figures: f, used, answered } = await drive(match[1]!, all, 0, seconds, connections);
      if (variant === 'full' && used > all.length)
        throw new Error('not enough distinct callbacks for the full service');
      writes.answered = answered;
      if (variant === 'full') {
        // The same service at a tenth of the concurrency, on callbacks it has not seen.
        const light = await drive(match[1]!, all, used, seconds, 5);
        if (used + light.used > all.length) throw new Error('not enough distinct callbacks for the full service');
        writes.answered += light.answered;
        lighter = light.figures;
      }
      figures.push({ variant, ...f });
    } finally {
      await stop(proc);
    }
    if (variant === 'full') {
      const db = openDatabase(`file:${file}`);
      writes = {
        ...writes,
        inbound: await db.inboundMessage.count({ where: { state: 'handled' } }),
        audit: await db.auditEvent.count({ where: { command: 'coverage' } }),
      };
      await db.$disconnect();
    }
  }
  const [bare, crypto, full] = figures as [InboundFigures, InboundFigures, InboundFigures];
  const rows: Row[] = [
    ...figures.map((f) => ({
      bench: '1 inbound',
      measure: `${f.variant}: req/s, p50 / p99 ms`,
      value: `${fmt(f.rps, 0)} req/s, ${fmt(f.p50, 0)} / ${fmt(f.p99, 0)} ms${f.errors + f.non2xx ? ` (${f.errors} errors, ${f.non2xx} non-2xx)` : ''}`,
    })),
    {
      bench: '1 inbound',
      measure: 'full ÷ crypto-only throughput',
      value: `${fmt(full.rps, 0)} req/s`,
      baseline: `${fmt(crypto.rps, 0)} req/s`,
      // The target is now benchmark 7's (#19): a mixed load on the large county, not this one.
      ratio: full.rps / crypto.rps,
    },
    {
      bench: '1 inbound',
      measure: 'crypto-only ÷ bare Koa throughput',
      value: `${fmt(crypto.rps, 0)} req/s`,
      baseline: `${fmt(bare.rps, 0)} req/s`,
      ratio: crypto.rps / bare.rps,
    },
    {
      bench: '1 inbound',
      measure: 'full: p99 latency (50 connections)',
      value: `${fmt(full.p99, 0)} ms`,
      target: '< 1000 ms',
      ok: full.p99 < 1000,
    },
    ...(lighter
      ? [
          {
            bench: '1 inbound',
            measure: 'full at 5 connections: req/s, p50 / p99 ms',
            value: `${fmt(lighter.rps, 0)} req/s, ${fmt(lighter.p50, 0)} / ${fmt(lighter.p99, 0)} ms`,
          },
        ]
      : []),
    // A request the client gave up on (10 s) is still handled: handled ≥ answered, each audited once.
    {
      bench: '1 inbound',
      measure: 'full: every answered callback stored, handled and audited once',
      value: `${writes.inbound} handled, ${writes.audit} audited`,
      baseline: `${writes.answered} answered`,
      ok: writes.inbound === writes.audit && writes.inbound >= writes.answered,
    },
  ];
  return { rows, figures, writes };
}

if (process.argv[2] === 'serve') await serve(process.argv[3] as Variant, process.argv[4]!);
