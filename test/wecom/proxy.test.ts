import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { startService, type Service } from '../../src/service.ts';
import { bypassed, proxyFor } from '../../src/wecom/proxy.ts';
import { testDb, type TestDb } from '../support/db.ts';
import { FakeLongConnServer } from '../support/fake-longconn.ts';
import { appTextXml, FakeWeComApi, WeComSender } from '../support/fake-wecom.ts';
import { APP, until, wecomConfig } from '../support/service.ts';

/**
 * An HTTP proxy on loopback that only tunnels (CONNECT), as the proxies of government networks do,
 * and counts the tunnels it opened and the bytes through each. It alone knows the hosts in `hosts`
 * (names that resolve nowhere else): a call that reaches one went through it.
 */
class ConnectProxy {
  readonly tunnels: { target: string; bytesUp: number; bytesDown: number }[] = [];
  /** Requests that were not CONNECT (absolute-form proxying): refused. */
  plain = 0;
  private server: Server | null = null;
  private readonly open = new Set<Socket>();

  constructor(private readonly hosts: Record<string, string> = {}) {}

  async start(): Promise<string> {
    const server = createServer((_req, res) => {
      this.plain++;
      res.writeHead(405).end('CONNECT only');
    });
    server.on('connect', (req, client: Socket, head: Buffer) => {
      const target = req.url ?? '';
      const m = /^(.+):(\d+)$/.exec(target);
      const tunnel = { target, bytesUp: 0, bytesDown: 0 };
      this.tunnels.push(tunnel);
      if (!m) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      const upstream = connect(Number(m[2]), this.hosts[m[1]!] ?? m[1]!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        client.on('data', (d: Buffer) => void ((tunnel.bytesUp += d.length), upstream.write(d)));
        upstream.on('data', (d: Buffer) => void ((tunnel.bytesDown += d.length), client.write(d)));
      });
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on('close', () => this.open.delete(s));
      }
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  through(hostPort: string): number {
    return this.tunnels.filter((t) => t.target === hostPort).length;
  }

  async stop(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe('which proxy a URL takes', () => {
  const proxy = { httpsProxy: 'http://p-https:3128', httpProxy: 'http://p-http:3128', noProxy: '' };

  it('HTTPS_PROXY for https and wss, HTTP_PROXY for http and ws; HTTPS falls back to HTTP_PROXY', () => {
    expect(proxyFor('https://qyapi.weixin.qq.com/cgi-bin/gettoken', proxy)).toBe('http://p-https:3128');
    expect(proxyFor('wss://openws.work.weixin.qq.com', proxy)).toBe('http://p-https:3128');
    expect(proxyFor('http://wecom.example:8080/x', proxy)).toBe('http://p-http:3128');
    expect(proxyFor('ws://wecom.example:8080', proxy)).toBe('http://p-http:3128');
    expect(proxyFor('wss://openws.work.weixin.qq.com', { httpProxy: 'http://p-http:3128' })).toBe('http://p-http:3128');
    expect(proxyFor('http://wecom.example/x', { httpsProxy: 'http://p-https:3128' })).toBeUndefined();
    expect(proxyFor('https://qyapi.weixin.qq.com', undefined)).toBeUndefined();
  });

  it('NO_PROXY as curl reads it: *, domains with or without a leading dot, IPs, ports', () => {
    const u = (s: string) => new URL(s);
    expect(bypassed(u('https://qyapi.weixin.qq.com'), '*')).toBe(true);
    expect(bypassed(u('https://qyapi.weixin.qq.com'), 'localhost, weixin.qq.com')).toBe(true);
    expect(bypassed(u('https://qyapi.weixin.qq.com'), '.qq.com')).toBe(true);
    expect(bypassed(u('https://notqq.com'), '.qq.com')).toBe(false);
    expect(bypassed(u('https://xqq.com'), 'qq.com')).toBe(false);
    expect(bypassed(u('http://10.1.2.3:8080/x'), '10.1.2.3')).toBe(true);
    expect(bypassed(u('http://10.1.2.3:8080/x'), '10.1.2.3:9090')).toBe(false);
    expect(bypassed(u('https://wx.gov.cn'), 'wx.gov.cn:443')).toBe(true);
    expect(bypassed(u('http://[::1]:3000'), '::1')).toBe(true);
    expect(bypassed(u('https://qyapi.weixin.qq.com'), undefined)).toBe(false);
  });

  it('is read from HTTPS_PROXY, HTTP_PROXY and NO_PROXY, or their lower-case forms', () => {
    expect(loadConfig({ https_proxy: 'http://p:3128', no_proxy: 'localhost' }).proxy).toEqual({
      httpsProxy: 'http://p:3128',
      noProxy: 'localhost',
    });
    expect(loadConfig({ HTTP_PROXY: 'http://P:1', http_proxy: 'http://p:2' }).proxy).toEqual({
      httpProxy: 'http://P:1',
    });
    expect(loadConfig({}).proxy).toBeUndefined();
    expect(() => loadConfig({ HTTPS_PROXY: 'proxy:3128' })).toThrow(/^HTTPS_PROXY: /);
  });
});

describe('the service behind a CONNECT proxy', () => {
  const BOT_WS = { botId: 'aibot-proxy', secret: 'bot-proxy-secret' };
  let t: TestDb;
  let api: FakeWeComApi;
  let fake: FakeLongConnServer;
  let proxy: ConnectProxy;
  let service: Service;
  let apiHost: string;
  let wsHost: string;
  const clock = fixedClock('2026-11-29T08:00:00+08:00');

  beforeAll(async () => {
    t = await testDb({ demo: true });
    api = new FakeWeComApi(APP.corpId, 'app-secret', () => clock.now().getTime());
    fake = new FakeLongConnServer({ [BOT_WS.botId]: BOT_WS.secret });
    const apiPort = new URL(await api.start()).port;
    const wsPort = new URL(await fake.start()).port;
    // Names only the proxy resolves: WeCom is reachable through it alone, as on a government network.
    apiHost = `qyapi.wecom.test:${apiPort}`;
    wsHost = `openws.wecom.test:${wsPort}`;
    proxy = new ConnectProxy({ 'qyapi.wecom.test': '127.0.0.1', 'openws.wecom.test': '127.0.0.1' });
    const proxyUrl = await proxy.start();
    const config: Config = {
      ...wecomConfig(t, `http://${apiHost}`),
      bot: undefined,
      botLongConn: { ...BOT_WS, url: `ws://${wsHost}` },
      proxy: { httpProxy: proxyUrl, httpsProxy: proxyUrl, noProxy: 'localhost,127.0.0.1' },
    };
    service = await startService(config, clock, () => {});
  });

  afterAll(async () => {
    await service?.close();
    await proxy?.stop();
    await fake?.stop();
    await api?.stop();
    await t?.close();
  });

  it('holds the long connection through a tunnel', async () => {
    await until(() => service.longConn!.state === 'subscribed', 'the subscription');
    expect(proxy.through(wsHost)).toBe(1);
    expect(fake.subscriptions.at(-1)).toMatchObject({ botId: BOT_WS.botId, ok: true });
  });

  it("calls WeCom's API through a tunnel: the token, then the message", async () => {
    const app = new WeComSender(service.url, '/wecom/app', { ...APP, receiveId: APP.corpId }, () =>
      clock.now().getTime(),
    );
    const xml = appTextXml({
      corpId: APP.corpId,
      from: 'demo-leader',
      text: '/我是谁',
      msgId: '8001',
      createTime: Math.floor(clock.now().getTime() / 1000),
    });
    expect((await app.postApp(xml)).status).toBe(200);
    await until(() => api.delivered.some((d) => d.kind === 'app' && d.target === 'demo-leader'), 'the reply');
    expect(api.calls.map((c) => c.path)).toEqual(['/cgi-bin/gettoken', '/cgi-bin/message/send']);
    expect(proxy.through(apiHost)).toBeGreaterThanOrEqual(1);
    const bytes = proxy.tunnels.filter((x) => x.target === apiHost).reduce((n, x) => n + x.bytesUp, 0);
    expect(bytes).toBeGreaterThan(0);
    expect(proxy.plain).toBe(0);
  });

  it('goes direct to what NO_PROXY names: its own callbacks on loopback never pass the proxy', async () => {
    const before = proxy.tunnels.length;
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    expect(proxy.tunnels.length).toBe(before);
    expect(proxy.tunnels.every((x) => x.target === apiHost || x.target === wsHost)).toBe(true);
  });
});

describe('NO_PROXY for WeCom itself', () => {
  let t: TestDb;
  let api: FakeWeComApi;
  let proxy: ConnectProxy;
  let service: Service;

  beforeAll(async () => {
    t = await testDb({ demo: true });
    api = new FakeWeComApi(APP.corpId, 'app-secret', () => t.clock.now().getTime());
    const base = await api.start();
    proxy = new ConnectProxy();
    const proxyUrl = await proxy.start();
    service = await startService(
      { ...wecomConfig(t, base), proxy: { httpProxy: proxyUrl, noProxy: '127.0.0.1' } },
      t.clock,
      () => {},
    );
  });

  afterAll(async () => {
    await service?.close();
    await proxy?.stop();
    await api?.stop();
    await t?.close();
  });

  it('sends direct, with no tunnel opened', async () => {
    const app = new WeComSender(service.url, '/wecom/app', { ...APP, receiveId: APP.corpId }, () =>
      t.clock.now().getTime(),
    );
    const xml = appTextXml({
      corpId: APP.corpId,
      from: 'demo-leader',
      text: '/我是谁',
      msgId: '8002',
      createTime: Math.floor(t.clock.now().getTime() / 1000),
    });
    expect((await app.postApp(xml)).status).toBe(200);
    await until(() => api.delivered.some((d) => d.kind === 'app'), 'the reply');
    expect(proxy.tunnels).toEqual([]);
  });
});
