import { createCipheriv } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import * as official from '@wecom/crypto';
import { CallbackRejected, WeComCipher } from '../../src/wecom/crypto.ts';
import { reasonOf } from '../support/fake-wecom.ts';

// Official sample vector (WeCom callback/Sample.py), see /work/shared/reference/wecom.md
const TOKEN = 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo';
const AES_KEY = '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt';
const CORP_ID = 'ww1436e0e65a779aee';
const ECHO = {
  signature: '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb',
  timestamp: '1476416373',
  nonce: '47744683',
  echostr: 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==',
};
const MSG = {
  signature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e',
  timestamp: '1476422779',
  nonce: '1597212914',
  encrypt:
    'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+',
  plain:
    '<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>',
};

const app = new WeComCipher({ token: TOKEN, encodingAesKey: AES_KEY, receiveId: CORP_ID });
const bot = new WeComCipher({ token: TOKEN, encodingAesKey: AES_KEY, receiveId: '' });
const KEY = Buffer.from(AES_KEY + '=', 'base64');

/** Encrypts an arbitrary (already padded) plaintext with the raw WeCom AES parameters. */
function rawEncrypt(plain: Buffer): string {
  const c = createCipheriv('aes-256-cbc', KEY, KEY.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

/** Unpadded plaintext: 16 fixed bytes | declared length | msg | id. */
function frame(msg: Buffer, id: string, declaredLen = msg.length): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(declaredLen, 0);
  return Buffer.concat([Buffer.alloc(16, 7), len, msg, Buffer.from(id)]);
}
function padded(body: Buffer): Buffer {
  const pad = 32 - (body.length % 32);
  return Buffer.concat([body, Buffer.alloc(pad, pad)]);
}

describe('official sample vector', () => {
  it('verifies the URL-verification signature and decrypts echostr', () => {
    expect(app.signature(ECHO.timestamp, ECHO.nonce, ECHO.echostr)).toBe(ECHO.signature);
    expect(() => app.verify(ECHO.signature, ECHO.timestamp, ECHO.nonce, ECHO.echostr)).not.toThrow();
    expect(app.decrypt(ECHO.echostr)).toBe('1288432023552776189');
  });

  it('verifies the message signature and decrypts Encrypt to the exact XML', () => {
    expect(app.signature(MSG.timestamp, MSG.nonce, MSG.encrypt)).toBe(MSG.signature);
    expect(() => app.verify(MSG.signature, MSG.timestamp, MSG.nonce, MSG.encrypt)).not.toThrow();
    expect(app.decrypt(MSG.encrypt)).toBe(MSG.plain);
  });

  it('rejects the sample when configured for the AI bot (empty ReceiveId)', () => {
    expect(reasonOf(() => bot.decrypt(MSG.encrypt))).toBe('receive-id');
  });
});

describe('interop with @wecom/crypto', () => {
  const samples = [
    '',
    'a',
    'hello',
    '安责险 /覆盖率 危化 ✅',
    '<xml><Content><![CDATA[你好]]></Content></xml>',
    'x'.repeat(1000),
  ];

  it('produces byte-identical ciphertext for the same random prefix', () => {
    const random = Buffer.from('0123456789abcdef');
    for (const [cipher, id] of [
      [app, CORP_ID],
      [bot, ''],
    ] as const) {
      for (const m of samples) expect(cipher.encrypt(m, random)).toBe(official.encrypt(AES_KEY, m, id, random));
    }
  });

  it('decrypts what the official package encrypts, for every pad length', () => {
    // message lengths 0..70 walk the pad byte through 1..32, including a full 32-byte pad block
    for (let n = 0; n <= 70; n++) {
      const m = '测'.repeat(n % 5) + 'a'.repeat(n);
      expect(app.decrypt(official.encrypt(AES_KEY, m, CORP_ID))).toBe(m);
      expect(bot.decrypt(official.encrypt(AES_KEY, m, ''))).toBe(m);
    }
  });

  it('is decrypted by the official package', () => {
    for (const m of samples) {
      expect(official.decrypt(AES_KEY, app.encrypt(m))).toMatchObject({ message: m, id: CORP_ID });
      expect(official.decrypt(AES_KEY, bot.encrypt(m))).toMatchObject({ message: m, id: '' });
    }
  });

  it('signs like the official package and round-trips seal()', () => {
    const sealed = bot.seal('{"msgtype":"text","text":{"content":"收到"}}', '1700000000', 'n0nce');
    expect(sealed.signature).toBe(official.getSignature(TOKEN, '1700000000', 'n0nce', sealed.encrypt));
    expect(() => bot.verify(sealed.signature, '1700000000', 'n0nce', sealed.encrypt)).not.toThrow();
    expect(bot.decrypt(sealed.encrypt)).toBe('{"msgtype":"text","text":{"content":"收到"}}');
  });

  it('uses a fresh random prefix per encryption', () => {
    expect(app.encrypt('same')).not.toBe(app.encrypt('same'));
  });
});

describe('rejections', () => {
  it('signature: wrong value of the same length, different length, empty', () => {
    const flipped = MSG.signature.slice(0, -1) + (MSG.signature.endsWith('e') ? 'f' : 'e');
    expect(reasonOf(() => app.verify(flipped, MSG.timestamp, MSG.nonce, MSG.encrypt))).toBe('signature');
    expect(reasonOf(() => app.verify(MSG.signature.slice(0, -2), MSG.timestamp, MSG.nonce, MSG.encrypt))).toBe(
      'signature',
    );
    expect(reasonOf(() => app.verify(MSG.signature + '00', MSG.timestamp, MSG.nonce, MSG.encrypt))).toBe('signature');
    expect(reasonOf(() => app.verify('', MSG.timestamp, MSG.nonce, MSG.encrypt))).toBe('signature');
    // right signature, tampered timestamp
    expect(reasonOf(() => app.verify(MSG.signature, '1476422780', MSG.nonce, MSG.encrypt))).toBe('signature');
  });

  it('ciphertext: not strict base64', () => {
    expect(reasonOf(() => app.decrypt(MSG.encrypt.replace('+', '-')))).toBe('ciphertext'); // base64url char
    expect(reasonOf(() => app.decrypt(MSG.encrypt.slice(0, 40) + '$' + MSG.encrypt.slice(41)))).toBe('ciphertext');
    expect(reasonOf(() => app.decrypt(MSG.encrypt.slice(0, 64) + '\n' + MSG.encrypt.slice(64)))).toBe('ciphertext');
    expect(reasonOf(() => app.decrypt(MSG.encrypt.slice(0, -1)))).toBe('ciphertext'); // wrong length
    expect(reasonOf(() => app.decrypt(' ' + MSG.encrypt))).toBe('ciphertext');
  });

  it('ciphertext: empty, truncated, not a multiple of 16', () => {
    expect(reasonOf(() => app.decrypt(''))).toBe('ciphertext');
    const bytes = Buffer.from(MSG.encrypt, 'base64');
    expect(reasonOf(() => app.decrypt(bytes.subarray(0, bytes.length - 5).toString('base64')))).toBe('ciphertext');
    expect(reasonOf(() => app.decrypt(Buffer.alloc(24, 1).toString('base64')))).toBe('ciphertext');
  });

  it('ciphertext: declared length larger than the data, or shorter than the header', () => {
    const msg = Buffer.from('hello');
    expect(app.decrypt(rawEncrypt(padded(frame(msg, CORP_ID))))).toBe('hello'); // control
    expect(reasonOf(() => app.decrypt(rawEncrypt(padded(frame(msg, CORP_ID, 1000)))))).toBe('ciphertext');
    expect(reasonOf(() => app.decrypt(rawEncrypt(padded(Buffer.alloc(12, 1)))))).toBe('ciphertext');
  });

  it('padding: pad byte 0, pad byte > 32, unequal pad bytes', () => {
    const body = frame(Buffer.from('hi'), CORP_ID); // 40 bytes: 24 bytes of padding needed
    const zeroPad = Buffer.concat([body, Buffer.alloc(24, 0)]);
    expect(reasonOf(() => app.decrypt(rawEncrypt(zeroPad)))).toBe('padding');
    const bigPad = Buffer.concat([body, Buffer.alloc(24, 33)]);
    expect(reasonOf(() => app.decrypt(rawEncrypt(bigPad)))).toBe('padding');
    const uneven = Buffer.concat([body, Buffer.alloc(24, 24)]);
    uneven[uneven.length - 10] = 23;
    expect(reasonOf(() => app.decrypt(rawEncrypt(uneven)))).toBe('padding');
    uneven[uneven.length - 10] = 24;
    expect(app.decrypt(rawEncrypt(uneven))).toBe('hi'); // control
    // the official package silently accepts a broken pad byte; we must not
    expect(() => official.decrypt(AES_KEY, rawEncrypt(bigPad))).not.toThrow();
  });

  it('receive-id: any ReceiveId but exactly the configured one', () => {
    expect(reasonOf(() => app.decrypt(official.encrypt(AES_KEY, 'x', 'wwOtherCorp')))).toBe('receive-id');
    expect(reasonOf(() => app.decrypt(official.encrypt(AES_KEY, 'x', CORP_ID.slice(0, -1))))).toBe('receive-id');
    expect(reasonOf(() => app.decrypt(official.encrypt(AES_KEY, 'x', CORP_ID + ' ')))).toBe('receive-id');
    expect(reasonOf(() => app.decrypt(official.encrypt(AES_KEY, 'x', '')))).toBe('receive-id');
    expect(reasonOf(() => bot.decrypt(official.encrypt(AES_KEY, 'x', CORP_ID)))).toBe('receive-id');
  });

  it('utf8: message bytes that are not valid UTF-8', () => {
    for (const bad of [
      [0xff, 0xfe],
      [0xe4, 0xbd],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
    ]) {
      const enc = rawEncrypt(padded(frame(Buffer.from([0x61, ...bad]), '')));
      expect(reasonOf(() => bot.decrypt(enc))).toBe('utf8');
    }
  });

  it('CallbackRejected is an Error carrying its reason', () => {
    const e = new CallbackRejected('timestamp');
    expect(e).toBeInstanceOf(Error);
    expect(e.reason).toBe('timestamp');
    expect(e.message).toContain('timestamp');
  });
});

describe('constructor validation', () => {
  it('refuses EncodingAESKeys that are not 43 base64 characters', () => {
    expect(() => new WeComCipher({ token: TOKEN, encodingAesKey: AES_KEY.slice(1), receiveId: '' })).toThrow(Error);
    expect(() => new WeComCipher({ token: TOKEN, encodingAesKey: AES_KEY + 'A', receiveId: '' })).toThrow(Error);
    expect(() => new WeComCipher({ token: TOKEN, encodingAesKey: AES_KEY.slice(1) + '-', receiveId: '' })).toThrow(
      Error,
    );
    expect(() => new WeComCipher({ token: TOKEN, encodingAesKey: AES_KEY.slice(0, 42) + '=', receiveId: '' })).toThrow(
      Error,
    );
  });

  it('refuses a random prefix that is not 16 bytes', () => {
    expect(() => app.encrypt('x', Buffer.alloc(15))).toThrow(Error);
  });
});
