// A stand-in for WeCom on loopback that speaks the real protocol: it signs and encrypts
// callbacks with the official @wecom/crypto package (an implementation independent of ours),
// decrypts our passive replies, and serves the API endpoints the bot calls — gettoken,
// message/send, webhook/send and webhook/upload_media, the JS-SDK tickets and OAuth's
// auth/getuserinfo — with WeCom's errcodes and rate limits.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decrypt, encrypt, getSignature } from '@wecom/crypto';
import { CallbackRejected, type RejectReason } from '../../src/wecom/crypto.ts';

export interface Channel {
  token: string;
  encodingAesKey: string;
  receiveId: string;
}

/** Builds callback requests as WeCom would send them to one of our endpoints. */
export class WeComSender {
  constructor(
    private readonly baseUrl: string,
    private readonly path: string,
    private readonly ch: Channel,
    private readonly now: () => number,
  ) {}

  private query(encrypted: string, overrides: Record<string, string> = {}) {
    const timestamp = overrides.timestamp ?? String(Math.floor(this.now() / 1000));
    const nonce = overrides.nonce ?? randomBytes(6).toString('hex');
    const msg_signature = overrides.msg_signature ?? getSignature(this.ch.token, timestamp, nonce, encrypted);
    return new URLSearchParams({ msg_signature, timestamp, nonce, ...overrides });
  }

  seal(plaintext: string, receiveId = this.ch.receiveId): string {
    return encrypt(this.ch.encodingAesKey, plaintext, receiveId);
  }

  async verifyUrl(echo: string, overrides: Record<string, string> = {}): Promise<Response> {
    const echostr = this.seal(echo);
    const q = this.query(echostr, overrides);
    q.set('echostr', overrides.echostr ?? echostr);
    return fetch(`${this.baseUrl}${this.path}?${q}`);
  }

  /** POSTs an envelope around an already-encrypted value; signs it unless told otherwise. */
  async postEncrypted(
    encrypted: string,
    envelope: (enc: string) => string,
    overrides: Record<string, string> = {},
  ): Promise<Response> {
    return fetch(`${this.baseUrl}${this.path}?${this.query(encrypted, overrides)}`, {
      method: 'POST',
      body: envelope(encrypted),
    });
  }

  /** The AI bot's JSON callback. */
  postBot(message: unknown, overrides: Record<string, string> = {}): Promise<Response> {
    return this.postEncrypted(this.seal(JSON.stringify(message)), (e) => JSON.stringify({ encrypt: e }), overrides);
  }

  /** The self-built app's XML callback. */
  postApp(xml: string, overrides: Record<string, string> = {}): Promise<Response> {
    return this.postEncrypted(
      this.seal(xml),
      (e) =>
        `<xml><ToUserName><![CDATA[${this.ch.receiveId}]]></ToUserName><Encrypt><![CDATA[${e}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>`,
      overrides,
    );
  }

  /** Opens our encrypted passive reply, checking its signature as WeCom does. */
  openBotReply(reply: unknown): unknown {
    const body = reply as { encrypt: string; msgsignature: string; timestamp: number | string; nonce: string };
    if (getSignature(this.ch.token, body.timestamp, body.nonce, body.encrypt) !== body.msgsignature)
      throw new Error('bad reply signature');
    const { message, id } = decrypt(this.ch.encodingAesKey, body.encrypt);
    if (id !== this.ch.receiveId) throw new Error(`reply for receiveId ${id}`);
    return JSON.parse(message);
  }
}

export function botTextMessage(o: { msgid: string; userid: string; chatid?: string; text: string }) {
  return {
    msgid: o.msgid,
    aibotid: 'AIBOTID',
    chatid: o.chatid,
    chattype: o.chatid ? 'group' : 'single',
    from: { userid: o.userid },
    response_url: 'https://example.invalid/response',
    msgtype: 'text',
    text: { content: o.text },
  };
}

export function appTextXml(o: {
  corpId: string;
  from: string;
  text: string;
  msgId: string;
  createTime: number;
}): string {
  return `<xml><ToUserName><![CDATA[${o.corpId}]]></ToUserName><FromUserName><![CDATA[${o.from}]]></FromUserName><CreateTime>${o.createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${o.text}]]></Content><MsgId>${o.msgId}</MsgId><AgentID>1000002</AgentID></xml>`;
}

export interface Delivered {
  kind: 'app' | 'webhook';
  target: string;
  body: Record<string, unknown>;
}
/** Every API call answered, with its time and errcode: to check limits and count rejections. */
export interface Call {
  path: string;
  target: string;
  at: number;
  errcode: number;
}
/** A file a robot uploaded (webhook/upload_media), by its media_id. */
export interface Upload {
  key: string;
  name: string;
  filelength: number;
  data: Buffer;
}

/** The one part of a multipart/form-data body WeCom reads: `media`, with its filename and filelength. */
function mediaPart(body: Buffer, contentType: string): Omit<Upload, 'key'> | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return null;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const start = body.indexOf(delimiter);
  const headEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd);
  if (start < 0 || headEnd < 0 || end < 0) return null;
  const head = body.subarray(start, headEnd).toString('utf8');
  const name = /name="media"/.test(head) ? /filename="([^"]*)"/.exec(head)?.[1] : undefined;
  if (!name) return null;
  return { name, filelength: Number(/filelength=(\d+)/.exec(head)?.[1] ?? -1), data: body.subarray(headEnd + 4, end) };
}

/** WeCom's API on loopback: tokens, app messages and webhook robots, with errcodes and limits. */
export class FakeWeComApi {
  readonly delivered: Delivered[] = [];
  readonly tokensIssued: string[] = [];
  /** Webhook keys that exist; others answer 93000. */
  readonly webhooks = new Set<string>();
  /** Errcodes to answer with, next calls first. */
  readonly failNext: number[] = [];
  /** A fault to inject into each call, decided per call: an errcode, an HTTP status, no answer at all, or a dropped connection. */
  fault?: (path: string) => number | { status: number } | 'hang' | 'reset' | undefined;
  readonly calls: Call[] = [];
  readonly uploads = new Map<string, Upload>();
  /** JS-SDK tickets issued: the corp's (get_jsapi_ticket) and the app's (ticket/get?type=agent_config). */
  readonly tickets = { corp: [] as string[], agent: [] as string[] };
  /**
   * Keeps back the answer to a webhook message once it is delivered, until the promise it gives
   * resolves: a send WeCom took while the caller has not heard so yet (the one in flight at a crash).
   */
  holdAnswer?: (d: Delivered) => Promise<void> | undefined;
  /** How long a ticket takes to come, so that concurrent callers overlap. */
  ticketDelayMs = 0;
  private readonly oauthCodes = new Map<string, { userId: string; member: boolean }>();
  /** Response codes of card presses (doc 94888): the member and card each may update, once. */
  private readonly responseCodes = new Map<string, { userId: string; taskId: string; used: boolean }>();
  private server: Server | null = null;
  private validToken = '';
  private readonly webhookCalls = new Map<string, number[]>();

  constructor(
    private readonly corpId: string,
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many times each markdown message starting with `prefix` was delivered: for counting losses and repeats. */
  timesDelivered(prefix: string): Map<string, number> {
    const times = new Map<string, number>();
    for (const d of this.delivered) {
      const content = (d.body.markdown as { content?: string } | undefined)?.content ?? '';
      if (content.startsWith(prefix)) times.set(content, (times.get(content) ?? 0) + 1);
    }
    return times;
  }

  /** Makes the current token stale, as WeCom may do before it expires. */
  expireToken(): void {
    this.validToken = '';
  }

  /** A code as WeCom's authorize page hands it to our callback after sign-in; good for one getuserinfo. */
  issueCode(userId: string, member = true): string {
    const code = randomBytes(16).toString('hex');
    this.oauthCodes.set(code, { userId, member });
    return code;
  }

  /** The ResponseCode a template_card_event carries for a member's press on an app card (task_id): good for one update. */
  issueResponseCode(userId: string, taskId: string): string {
    const code = randomBytes(12).toString('hex');
    this.responseCodes.set(code, { userId, taskId, used: false });
    return code;
  }

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks);
      const multipart = url.pathname === '/cgi-bin/webhook/upload_media' || url.pathname === '/cgi-bin/media/upload';
      const body = chunks.length && !multipart ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
      const answer = (json: Record<string, unknown>) => {
        const target = url.searchParams.get('key') ?? String(body.touser ?? '');
        this.calls.push({ path: url.pathname, target, at: this.now(), errcode: Number(json.errcode ?? 0) });
        res.writeHead(200, { 'content-type': 'application/json' }); // WeCom says errors with HTTP 200
        res.end(JSON.stringify({ errcode: 0, errmsg: 'ok', ...json }));
      };
      const injected = this.failNext.shift();
      if (injected !== undefined) return answer({ errcode: injected, errmsg: 'injected' });
      const fault = this.fault?.(url.pathname);
      if (fault === 'hang') return; // the caller times out; nothing was delivered
      if (fault === 'reset') return void req.socket.destroy();
      if (typeof fault === 'object') return void res.writeHead(fault.status).end('injected');
      if (fault !== undefined) return answer({ errcode: fault, errmsg: 'injected' });
      if (url.pathname === '/cgi-bin/gettoken') {
        if (url.searchParams.get('corpid') !== this.corpId || url.searchParams.get('corpsecret') !== this.secret)
          return answer({ errcode: 40001, errmsg: 'invalid credential' });
        this.validToken = randomBytes(8).toString('hex');
        this.tokensIssued.push(this.validToken);
        return answer({ access_token: this.validToken, expires_in: 7200 });
      }
      if (url.pathname === '/cgi-bin/message/send') {
        if (url.searchParams.get('access_token') !== this.validToken)
          return answer({ errcode: 42001, errmsg: 'access_token expired' });
        this.delivered.push({ kind: 'app', target: String(body.touser), body });
        return answer({ invaliduser: '', msgid: randomBytes(4).toString('hex') });
      }
      if (url.pathname === '/cgi-bin/message/update_template_card') {
        // doc 94888: the app's agentid, a response_code used once, and a whole card of the pressed
        // card's type and task_id (its buttons still open, or greyed out under replace_text).
        if (url.searchParams.get('access_token') !== this.validToken)
          return answer({ errcode: 42001, errmsg: 'access_token expired' });
        const code = this.responseCodes.get(String(body.response_code));
        const card = body.template_card as
          | { card_type?: string; task_id?: string; main_title?: { title?: string }; button_list?: unknown[] }
          | undefined;
        if (typeof body.agentid !== 'number') return answer({ errcode: 40056, errmsg: 'invalid agentid' });
        if (!code || code.used) return answer({ errcode: 40001, errmsg: 'invalid response_code' });
        const button = body.button as { replace_name?: unknown } | undefined;
        if (button ? typeof button.replace_name !== 'string' || !button.replace_name : false)
          return answer({ errcode: 40058, errmsg: 'invalid button.replace_name' });
        if (
          !button &&
          (card?.card_type !== 'button_interaction' ||
            card.task_id !== code.taskId ||
            !card.main_title?.title ||
            !card.button_list?.length)
        )
          return answer({ errcode: 40058, errmsg: 'invalid template_card' });
        code.used = true;
        this.delivered.push({ kind: 'app', target: code.userId, body });
        return answer({ invaliduser: [] });
      }
      if (url.pathname === '/cgi-bin/media/upload') {
        // The app's temporary media: token-checked, images up to 10 MB, files up to 20 MB.
        if (url.searchParams.get('access_token') !== this.validToken)
          return answer({ errcode: 42001, errmsg: 'access_token expired' });
        const type = url.searchParams.get('type') ?? '';
        const part = mediaPart(raw, req.headers['content-type'] ?? '');
        if (!['image', 'file'].includes(type) || !part)
          return answer({ errcode: 40004, errmsg: 'invalid media type or body' });
        if (part.data.length < 5 || part.data.length > (type === 'image' ? 10 : 20) * 1024 * 1024)
          return answer({ errcode: 40006, errmsg: 'invalid file size' });
        const media_id = randomBytes(12).toString('hex');
        this.uploads.set(media_id, { key: 'app', ...part });
        return answer({ type, media_id, created_at: String(Math.floor(this.now() / 1000)) });
      }
      if (multipart) {
        const key = url.searchParams.get('key') ?? '';
        if (!this.webhooks.has(key)) return answer({ errcode: 93000, errmsg: 'invalid webhook url' });
        const part = mediaPart(raw, req.headers['content-type'] ?? '');
        if (url.searchParams.get('type') !== 'file' || !part)
          return answer({ errcode: 40004, errmsg: 'invalid media type or body' });
        if (part.data.length < 5 || part.data.length > 20 * 1024 * 1024 || part.filelength !== part.data.length)
          return answer({ errcode: 40006, errmsg: 'invalid file size' });
        const media_id = randomBytes(12).toString('hex');
        this.uploads.set(media_id, { key, ...part });
        return answer({ type: 'file', media_id, created_at: String(Math.floor(this.now() / 1000)) });
      }
      if (url.pathname === '/cgi-bin/webhook/send') {
        const key = url.searchParams.get('key') ?? '';
        if (!this.webhooks.has(key)) return answer({ errcode: 93000, errmsg: 'invalid webhook url' });
        const image = body.image as { base64?: string; md5?: string } | undefined;
        if (body.msgtype === 'image') {
          const bytes = Buffer.from(image?.base64 ?? '', 'base64');
          if (
            !bytes.length ||
            bytes.length > 2 * 1024 * 1024 ||
            createHash('md5').update(bytes).digest('hex') !== image?.md5
          )
            return answer({ errcode: 40009, errmsg: 'invalid image' });
        }
        if (
          body.msgtype === 'file' &&
          !this.uploads.has(String((body.file as { media_id?: string } | undefined)?.media_id))
        )
          return answer({ errcode: 40007, errmsg: 'invalid media_id' });
        const recent = (this.webhookCalls.get(key) ?? []).filter((t) => t > this.now() - 60_000);
        if (recent.length >= 20) return answer({ errcode: 45009, errmsg: 'api freq out of limit' });
        this.webhookCalls.set(key, [...recent, this.now()]);
        const delivered: Delivered = { kind: 'webhook', target: key, body };
        this.delivered.push(delivered);
        await this.holdAnswer?.(delivered);
        return answer({});
      }
      if (url.pathname === '/cgi-bin/get_jsapi_ticket' || url.pathname === '/cgi-bin/ticket/get') {
        if (url.searchParams.get('access_token') !== this.validToken)
          return answer({ errcode: 42001, errmsg: 'access_token expired' });
        const kind = url.pathname === '/cgi-bin/ticket/get' ? 'agent' : 'corp';
        if (kind === 'agent' && url.searchParams.get('type') !== 'agent_config')
          return answer({ errcode: 40004, errmsg: 'invalid type' });
        await new Promise((r) => setTimeout(r, this.ticketDelayMs));
        const ticket = `${kind}-${randomBytes(12).toString('hex')}`;
        this.tickets[kind].push(ticket);
        return answer({ ticket, expires_in: 7200 });
      }
      if (url.pathname === '/cgi-bin/auth/getuserinfo') {
        if (url.searchParams.get('access_token') !== this.validToken)
          return answer({ errcode: 42001, errmsg: 'access_token expired' });
        const who = this.oauthCodes.get(url.searchParams.get('code') ?? '');
        if (!who) return answer({ errcode: 40029, errmsg: 'invalid code' });
        this.oauthCodes.delete(url.searchParams.get('code')!);
        // Outside the corp WeCom names the person by openid only.
        return answer(
          who.member
            ? { userid: who.userId, user_ticket: randomBytes(8).toString('hex'), expires_in: 1800 }
            : { openid: who.userId },
        );
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections(); // hung calls included
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** Why our side refused a callback (CallbackRejected's reason), or undefined when it did not. */
export function reasonOf(fn: () => unknown): RejectReason | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof CallbackRejected) return e.reason;
    throw e;
  }
  return undefined;
}
