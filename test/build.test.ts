// The compiled service (`npm run build`, then `npm run serve`: what a deployment restarts): it
// builds, starts on a database, finds what it reads from the sources (migrations, the dashboard
// page) and answers a callback.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, type TestDb } from './support/db.ts';
import { botTextMessage, FakeWeComApi, WeComSender } from './support/fake-wecom.ts';
import { BOT, kill, startServiceProcess, type ServiceProcess } from './support/service.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let t: TestDb;
let api: FakeWeComApi;
let service: ServiceProcess | null = null;

beforeAll(async () => {
  t = await testDb({ demo: true });
  api = new FakeWeComApi('wwbuild', 'secret');
});
afterAll(async () => {
  if (service) await kill(service);
  await api?.stop();
  await t?.close();
});

describe('the compiled service', () => {
  it('builds, starts, serves the dashboard page and answers /覆盖率', async () => {
    await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
    });
    service = await startServiceProcess(t, await api.start(), {}, ['dist/src/main.js']);
    expect(await (await fetch(`${service.url}/healthz`)).json()).toMatchObject({ ok: true, role: 'leader' });
    const page = await fetch(`${service.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const bot = new WeComSender(service.url, '/wecom/bot', { ...BOT, receiveId: '' }, Date.now);
    const res = await bot.postBot(
      botTextMessage({
        msgid: 'build-1',
        userid: 'demo-leader',
        chatid: 'demo-chat-leaders',
        text: '@安责险助手 /覆盖率',
      }),
    );
    const reply = bot.openBotReply(await res.json()) as { stream: { content: string } };
    expect(reply.stream.content).toContain('危险化学品');
  }, 60_000);
});
