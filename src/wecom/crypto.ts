// WeCom callback crypto (doc 91144): SHA1 signature + AES-256-CBC with a 32-byte PKCS#7 block.
// Plaintext layout: 16 random bytes | uint32 BE msg length (bytes) | msg | ReceiveId.
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type RejectReason =
  'signature' | 'timestamp' | 'ciphertext' | 'padding' | 'receive-id' | 'utf8' | 'envelope' | 'xml';

/** A callback that must be refused; `reason` is safe to log, the message may carry detail. */
export class CallbackRejected extends Error {
  constructor(
    readonly reason: RejectReason,
    message?: string,
  ) {
    super(message ?? `WeCom callback rejected: ${reason}`);
    this.name = 'CallbackRejected';
  }
}

export interface CipherOptions {
  token: string;
  encodingAesKey: string;
  /** corpid for the self-built app, '' for the AI bot */
  receiveId: string;
}

const BLOCK = 32; // WeCom pads to 32 bytes, not the AES block size
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class WeComCipher {
  readonly #token: string;
  readonly #key: Buffer;
  readonly #iv: Buffer;
  readonly #receiveId: Buffer;

  constructor(opts: CipherOptions) {
    if (!/^[A-Za-z0-9+/]{43}$/.test(opts.encodingAesKey)) {
      throw new Error('WeCom EncodingAESKey must be 43 base64 characters');
    }
    const key = Buffer.from(opts.encodingAesKey + '=', 'base64');
    if (key.length !== 32) throw new Error('WeCom EncodingAESKey does not decode to 32 bytes');
    if (!opts.token) throw new Error('WeCom token must not be empty');
    this.#token = opts.token;
    this.#key = key;
    this.#iv = key.subarray(0, 16);
    this.#receiveId = Buffer.from(opts.receiveId, 'utf8');
  }

  signature(timestamp: string, nonce: string, encrypted: string): string {
    const parts = [this.#token, timestamp, nonce, encrypted].sort();
    return createHash('sha1').update(parts.join('')).digest('hex');
  }

  /** Throws CallbackRejected('signature') unless `signature` matches, compared in constant time. */
  verify(signature: string, timestamp: string, nonce: string, encrypted: string): void {
    const expected = Buffer.from(this.signature(timestamp, nonce, encrypted));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new CallbackRejected('signature', 'WeCom msg_signature mismatch');
    }
  }

  decrypt(encrypted: string): string {
    // Node's decoder silently skips junk characters; a canonical round trip proves strict base64
    const data = Buffer.from(encrypted, 'base64');
    if (data.toString('base64') !== encrypted)
      throw new CallbackRejected('ciphertext', 'ciphertext is not strict base64');
    if (data.length === 0 || data.length % 16 !== 0) {
      throw new CallbackRejected('ciphertext', `ciphertext length ${data.length} is not a positive multiple of 16`);
    }
    const decipher = createDecipheriv('aes-256-cbc', this.#key, this.#iv).setAutoPadding(false);
    const plain = Buffer.concat([decipher.update(data), decipher.final()]);

    const pad = plain[plain.length - 1]!;
    if (pad < 1 || pad > BLOCK || pad > plain.length) throw new CallbackRejected('padding', `bad pad byte ${pad}`);
    for (let i = plain.length - pad; i < plain.length; i++) {
      if (plain[i] !== pad) throw new CallbackRejected('padding', 'pad bytes differ');
    }
    const body = plain.subarray(0, plain.length - pad);
    if (body.length < 20) throw new CallbackRejected('ciphertext', 'plaintext shorter than its header');
    const msgLen = body.readUInt32BE(16);
    if (msgLen > body.length - 20) throw new CallbackRejected('ciphertext', 'declared message length exceeds data');
    const msg = body.subarray(20, 20 + msgLen);
    // @wecom/crypto does not check this: a message for another corp/app must not be accepted
    if (!body.subarray(20 + msgLen).equals(this.#receiveId)) {
      throw new CallbackRejected('receive-id', 'ReceiveId does not match');
    }
    try {
      return utf8.decode(msg);
    } catch {
      throw new CallbackRejected('utf8', 'message is not valid UTF-8');
    }
  }

  encrypt(message: string, random16: Buffer = randomBytes(16)): string {
    if (random16.length !== 16) throw new Error('random16 must be 16 bytes');
    const msg = Buffer.from(message, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(msg.length, 0);
    const unpadded = 16 + 4 + msg.length + this.#receiveId.length;
    const pad = BLOCK - (unpadded % BLOCK); // 1..32, a full block when already aligned
    const plain = Buffer.concat([random16, len, msg, this.#receiveId, Buffer.alloc(pad, pad)]);
    const cipher = createCipheriv('aes-256-cbc', this.#key, this.#iv).setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  }

  /** Encrypt a reply and sign it for the given timestamp/nonce. */
  seal(message: string, timestamp: string, nonce: string): { encrypt: string; signature: string } {
    const encrypt = this.encrypt(message);
    return { encrypt, signature: this.signature(timestamp, nonce, encrypt) };
  }
}
