// npm run chat -- --as <userid> [--chat <chatid>] ["<text>"]
// Talks to the bot through the same bus as WeCom messages, on the database directly (no running
// service needed). Without text it opens a prompt. What the bot would send elsewhere goes to the outbox.
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { fixedClock, systemClock } from '../clock.ts';
import { configFromEnvironment } from '../config.ts';
import { JobRunner } from '../bot/jobs.ts';
import { groupReach, openCore } from '../service.ts';
import { args, describe, usage } from './operator.ts';

const USAGE = 'npm run chat -- --as <userid> [--chat <chatid>] [--at <ISO time>] ["<text>"]';
const { values, positionals } = args(
  () =>
    parseArgs({
      allowPositionals: true,
      options: { as: { type: 'string' }, chat: { type: 'string' }, at: { type: 'string' } },
    }),
  USAGE,
);
if (!values.as) usage(USAGE);
const userId = values.as;

try {
  const config = configFromEnvironment();
  const clock = values.at ? fixedClock(values.at) : systemClock;
  const core = await openCore(config, clock, () => {});
  // Slow commands (/导出, /覆盖率 图) answer at once; their result is printed when made.
  const jobs = new JobRunner({
    db: core.db,
    registry: core.registry,
    clock,
    timeZone: config.timezone,
    databaseUrl: config.databaseUrl,
    reach: groupReach(config),
    cjkFont: config.cjkFont,
    delivered: (text) => console.log(text),
  });
  const say = async (text: string) => {
    const { reply, buttons } = await core.inbox.receive({
      dedupeKey: `sandbox:${randomUUID()}`,
      channel: 'sandbox',
      userId,
      chatId: values.chat ?? null,
      text,
      replyVia: 'passive',
    });
    console.log(reply);
    // In WeCom these are a card's buttons; here, the command each one would run.
    for (const b of buttons ?? []) console.log(`  [${b.label}] → ${b.command}`);
    await jobs.drain();
  };
  const text = positionals.join(' ').trim();
  if (text) await say(text);
  else {
    const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: `${userId}> ` });
    rl.prompt();
    for await (const line of rl) {
      if (line.trim()) await say(line);
      rl.prompt();
    }
  }
  await core.db.$disconnect();
} catch (e) {
  console.error(describe(e));
  process.exit(1);
}
