// WeCom callback envelopes: the outer (encrypted) wrappers and the replies sealed in them.
import { CallbackRejected, type WeComCipher } from './crypto.ts';
import { parseXml } from './xml.ts';

export const envelopeFail = (why: string): never => {
  throw new CallbackRejected('envelope', `envelope rejected: ${why}`);
};

/** Self-built app POST body: `<xml><ToUserName/><Encrypt/><AgentID/></xml>`. */
export function openAppEnvelope(body: string): { encrypt: string; toUserName?: string; agentId?: string } {
  const x = parseXml(body);
  const encrypt = x['Encrypt'];
  if (!encrypt) return envelopeFail('missing <Encrypt>');
  const result: { encrypt: string; toUserName?: string; agentId?: string } = { encrypt };
  if (x['ToUserName'] !== undefined) result.toUserName = x['ToUserName'];
  if (x['AgentID'] !== undefined) result.agentId = x['AgentID'];
  return result;
}

/** AI bot POST body: `{"encrypt":"..."}`. */
export function openBotEnvelope(body: string): { encrypt: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return envelopeFail('body is not JSON');
  }
  const encrypt = (parsed as { encrypt?: unknown } | null)?.encrypt;
  if (typeof encrypt !== 'string' || encrypt === '') return envelopeFail('missing string "encrypt"');
  return { encrypt };
}

// `]]>` cannot occur inside CDATA: split it across two sections.
const cdata = (v: string) => `<![CDATA[${v.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
const escapeXml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function sealAppReply(cipher: WeComCipher, plaintextXml: string, timestamp: string, nonce: string): string {
  const { encrypt, signature } = cipher.seal(plaintextXml, timestamp, nonce);
  return (
    `<xml><Encrypt>${cdata(encrypt)}</Encrypt><MsgSignature>${cdata(signature)}</MsgSignature>` +
    `<TimeStamp>${escapeXml(timestamp)}</TimeStamp><Nonce>${cdata(nonce)}</Nonce></xml>`
  );
}

export function sealBotReply(cipher: WeComCipher, plaintextJson: string, timestamp: string, nonce: string): string {
  const { encrypt, signature } = cipher.seal(plaintextJson, timestamp, nonce);
  // WeCom sends timestamps as numbers; only convert when it is exactly representable
  const ts = /^\d{1,15}$/.test(timestamp) ? Number(timestamp) : timestamp;
  return JSON.stringify({ encrypt, msgsignature: signature, timestamp: ts, nonce });
}
