import { describe, it, expect } from 'vitest';
import { WeComCipher } from '../../src/wecom/crypto.ts';
import { reasonOf } from '../support/fake-wecom.ts';
import { stripMentions } from '../../src/core/mention.ts';
import { openAppEnvelope, openBotEnvelope, sealAppReply, sealBotReply } from '../../src/wecom/envelope.ts';
import { parseXml } from '../../src/wecom/xml.ts';
import { readAppMessage, readBotMessage } from '../../src/wecom/inbound.ts';

const TOKEN = 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo';
const AES_KEY = '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt';
const CORP_ID = 'ww1436e0e65a779aee';
const SAMPLE_PLAIN =
  '<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>';
const app = new WeComCipher({ token: TOKEN, encodingAesKey: AES_KEY, receiveId: CORP_ID });
const bot = new WeComCipher({ token: TOKEN, encodingAesKey: AES_KEY, receiveId: '' });

describe('parseXml', () => {
  it('reads plain text children of the official sample', () => {
    expect(parseXml(SAMPLE_PLAIN)).toEqual({
      ToUserName: CORP_ID,
      FromUserName: 'ChenJiaShun',
      CreateTime: '1476422779',
      MsgType: 'text',
      Content: '你好',
      MsgId: '1456453720',
      AgentID: '1000002',
    });
  });

  it('keeps CDATA literally and decodes only predefined and numeric entities in text', () => {
    const x = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <Content><![CDATA[a <b> &amp; ]]]]><![CDATA[> &lt;]]></Content>\n' +
        '  <Plain>1 &lt; 2 &amp;&amp; &quot;x&quot; &apos;y&apos; &#20320;&#x597D; &gt;</Plain>\n  <Empty/><Blank></Blank>\n</xml>',
    );
    expect(x).toEqual({
      Content: 'a <b> &amp; ]]> &lt;',
      Plain: '1 < 2 && "x" \'y\' 你好 >',
      Empty: '',
      Blank: '',
    });
  });

  it('keeps a MsgId above 2^53 as the exact string', () => {
    const x = parseXml('<xml><MsgId>9223372036854775807123</MsgId><CreateTime>0012</CreateTime></xml>');
    expect(x['MsgId']).toBe('9223372036854775807123');
    expect(x['CreateTime']).toBe('0012');
  });

  it('flattens nested event structures to dotted keys', () => {
    const x = parseXml(
      '<xml><Event><![CDATA[scancode_push]]></Event><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType>' +
        '<ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo></xml>',
    );
    expect(x).toEqual({ Event: 'scancode_push', 'ScanCodeInfo.ScanType': 'qrcode', 'ScanCodeInfo.ScanResult': '1' });
  });

  it('refuses DOCTYPE and ENTITY declarations and undeclared entity references', () => {
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>';
    expect(reasonOf(() => parseXml(xxe))).toBe('xml');
    expect(reasonOf(() => parseXml('<!DOCTYPE xml><xml><A>1</A></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><!ENTITY a "b"><A>1</A></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A>&xxe;</A></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A>AT&T</A></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A>&#0;</A></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A>&#xD800;</A></xml>'))).toBe('xml');
  });

  it('refuses processing instructions other than a leading XML declaration, and comments', () => {
    expect(reasonOf(() => parseXml('<?xml-stylesheet href="a"?><xml></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><?php echo 1 ?><A>1</A></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A>1</A></xml><?pi?>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><!-- c --><A>1</A></xml>'))).toBe('xml');
  });

  it('refuses a missing or wrong root, unbalanced tags and trailing content', () => {
    expect(reasonOf(() => parseXml(''))).toBe('xml');
    expect(reasonOf(() => parseXml('hello'))).toBe('xml');
    expect(reasonOf(() => parseXml('<root><A>1</A></root>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A>1</B></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A>1</xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A>1</A>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A><![CDATA[1</A></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A>1</A></xml><xml></xml>'))).toBe('xml');
    expect(reasonOf(() => parseXml('<xml><A id="1">1</A></xml>'))).toBe('xml');
  });

  it('refuses a repeated top-level field', () => {
    expect(reasonOf(() => parseXml('<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>'))).toBe('xml');
  });

  it('cannot be abused to set __proto__', () => {
    const x = parseXml('<xml><__proto__>polluted</__proto__></xml>');
    expect(Object.getPrototypeOf(x)).toBe(Object.prototype);
    expect(Object.keys(x)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('app envelope', () => {
  it('opens the POST body', () => {
    const body =
      '<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><Encrypt><![CDATA[abc+/==]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>';
    expect(openAppEnvelope(body)).toEqual({ encrypt: 'abc+/==', toUserName: CORP_ID, agentId: '1000002' });
    expect(openAppEnvelope('<xml><Encrypt>abc</Encrypt></xml>')).toEqual({ encrypt: 'abc' });
  });

  it('rejects a body without Encrypt as envelope, and bad XML as xml', () => {
    expect(reasonOf(() => openAppEnvelope('<xml><ToUserName>x</ToUserName></xml>'))).toBe('envelope');
    expect(reasonOf(() => openAppEnvelope('<xml><Encrypt></Encrypt></xml>'))).toBe('envelope');
    expect(reasonOf(() => openAppEnvelope('{"encrypt":"abc"}'))).toBe('xml');
  });

  it('seals a reply that opens, verifies and decrypts back', () => {
    const reply = '<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[收到 ]]> ok]]></Content></xml>';
    const sealed = sealAppReply(app, reply, '1476422779', 'nonce]]>x');
    expect(sealed).toMatch(
      /^<xml><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]><\/Encrypt><MsgSignature><!\[CDATA\[[0-9a-f]{40}\]\]><\/MsgSignature><TimeStamp>1476422779<\/TimeStamp><Nonce><!\[CDATA\[/,
    );
    const x = parseXml(sealed);
    expect(x['TimeStamp']).toBe('1476422779');
    expect(x['Nonce']).toBe('nonce]]>x');
    const { encrypt } = openAppEnvelope(sealed);
    expect(() => app.verify(x['MsgSignature']!, '1476422779', 'nonce]]>x', encrypt)).not.toThrow();
    expect(app.decrypt(encrypt)).toBe(reply);
  });
});

describe('bot envelope', () => {
  it('opens the POST body', () => {
    expect(openBotEnvelope('{"encrypt":"abc=="}')).toEqual({ encrypt: 'abc==' });
  });

  it('rejects bad JSON and a missing or non-string encrypt', () => {
    for (const body of ['', 'not json', 'null', '[]', '{}', '{"encrypt":123}', '{"encrypt":""}', '{"Encrypt":"abc"}']) {
      expect(reasonOf(() => openBotEnvelope(body))).toBe('envelope');
    }
  });

  it('seals a JSON reply with a numeric timestamp that verifies and decrypts back', () => {
    const reply = JSON.stringify({ msgtype: 'stream', stream: { id: 's1', finish: true, content: '覆盖率 98%' } });
    const out = JSON.parse(sealBotReply(bot, reply, '1700000000', 'abc')) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['encrypt', 'msgsignature', 'timestamp', 'nonce']);
    expect(out['timestamp']).toBe(1700000000);
    expect(out['nonce']).toBe('abc');
    expect(() =>
      bot.verify(out['msgsignature'] as string, '1700000000', 'abc', out['encrypt'] as string),
    ).not.toThrow();
    expect(bot.decrypt(out['encrypt'] as string)).toBe(reply);
    // a bot reply is sealed with the empty ReceiveId: the app cipher must refuse it
    expect(reasonOf(() => app.decrypt(out['encrypt'] as string))).toBe('receive-id');
  });

  it('keeps a non-numeric timestamp as a string', () => {
    const out = JSON.parse(sealBotReply(bot, '{}', '17e8', 'n')) as Record<string, unknown>;
    expect(out['timestamp']).toBe('17e8');
  });
});

describe('readAppMessage', () => {
  it('reads the decrypted official sample', () => {
    expect(readAppMessage(SAMPLE_PLAIN)).toEqual({
      msgId: '1456453720',
      msgType: 'text',
      fromUser: 'ChenJiaShun',
      toUser: CORP_ID,
      createTime: 1476422779,
      content: '你好',
      agentId: '1000002',
      dedupeKey: 'app:1456453720',
    });
  });

  it('keeps a huge MsgId exact in the dedupe key', () => {
    const m = readAppMessage(SAMPLE_PLAIN.replace('1456453720', '9223372036854775807123'));
    expect(m.msgId).toBe('9223372036854775807123');
    expect(m.dedupeKey).toBe('app:9223372036854775807123');
  });

  it('keys events on FromUserName, CreateTime and Event', () => {
    const ev =
      '<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>' +
      '<CreateTime>1700000001</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event>' +
      '<EventKey><![CDATA[]]></EventKey><AgentID>1000002</AgentID></xml>';
    expect(readAppMessage(ev)).toEqual({
      msgType: 'event',
      fromUser: 'zhangsan',
      toUser: CORP_ID,
      createTime: 1700000001,
      event: 'enter_agent',
      agentId: '1000002',
      dedupeKey: 'app-event:zhangsan:1700000001:enter_agent',
    });
  });

  it('rejects messages missing required fields', () => {
    expect(reasonOf(() => readAppMessage(SAMPLE_PLAIN.replace('<MsgType>text</MsgType>', '')))).toBe('envelope');
    expect(reasonOf(() => readAppMessage(SAMPLE_PLAIN.replace('<MsgId>1456453720</MsgId>', '')))).toBe('envelope');
    expect(reasonOf(() => readAppMessage(SAMPLE_PLAIN.replace('1476422779', 'soon')))).toBe('envelope');
    expect(reasonOf(() => readAppMessage(SAMPLE_PLAIN.replace('</xml>', '')))).toBe('xml');
  });
});

describe('readBotMessage', () => {
  const groupText = {
    msgid: 'CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=',
    aibotid: 'aibOvz31OBWYocYrnkF1Faf',
    chatid: 'wrkSFfCgAAtMQKg4xqDatM5C9IDHFpTw',
    chattype: 'group',
    from: { userid: 'LiSi' },
    response_url: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=RESPONSECODE',
    msgtype: 'text',
    text: { content: '@安责险助手 /coverage 危化' },
  };

  it('reads a realistic group text message', () => {
    expect(readBotMessage(JSON.stringify(groupText))).toEqual({
      msgId: 'CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=',
      aibotId: 'aibOvz31OBWYocYrnkF1Faf',
      chatId: 'wrkSFfCgAAtMQKg4xqDatM5C9IDHFpTw',
      chatType: 'group',
      fromUser: 'LiSi',
      msgType: 'text',
      text: '@安责险助手 /coverage 危化',
      responseUrl: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=RESPONSECODE',
      dedupeKey: 'bot:CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=',
    });
  });

  it('survives the whole wire path: seal, open, verify, decrypt, read, strip', () => {
    const { encrypt, signature } = bot.seal(JSON.stringify(groupText), '1700000002', 'n1');
    const opened = openBotEnvelope(JSON.stringify({ encrypt }));
    bot.verify(signature, '1700000002', 'n1', opened.encrypt);
    const m = readBotMessage(bot.decrypt(opened.encrypt));
    expect(stripMentions(m.text!)).toBe('/coverage 危化');
  });

  it('joins the text items of a mixed message, ignoring a quote', () => {
    const m = readBotMessage(
      JSON.stringify({
        ...groupText,
        msgtype: 'mixed',
        text: undefined,
        mixed: {
          msg_item: [
            { msgtype: 'text', text: { content: '@安责险助手 看这个' } },
            { msgtype: 'image', image: { url: 'https://example.invalid/a' } },
            { msgtype: 'text', text: { content: '第二段' } },
          ],
        },
        quote: { msgtype: 'text', text: { content: '被引用' } },
      }),
    );
    expect(m.msgType).toBe('mixed');
    expect(m.text).toBe('@安责险助手 看这个\n第二段');
  });

  it('takes the text of a voice message and of a quote', () => {
    const voice = {
      msgid: 'v1',
      aibotid: 'b',
      chattype: 'single',
      from: { userid: 'u' },
      msgtype: 'voice',
      voice: { content: '查一下覆盖率' },
    };
    expect(readBotMessage(JSON.stringify(voice)).text).toBe('查一下覆盖率');
    const quote = {
      msgid: 'q1',
      chattype: 'single',
      from: { userid: 'u' },
      msgtype: 'quote',
      quote: { msgtype: 'text', text: { content: '原文' } },
    };
    expect(readBotMessage(JSON.stringify(quote)).text).toBe('原文');
  });

  it('reads an enter_chat event (no chattype) and a stream refresh', () => {
    const ev = readBotMessage(
      JSON.stringify({
        msgid: 'e1',
        create_time: 1700000000,
        aibotid: 'b',
        from: { corpid: 'wp', userid: 'u' },
        msgtype: 'event',
        event: { eventtype: 'enter_chat' },
      }),
    );
    expect(ev).toEqual({
      msgId: 'e1',
      aibotId: 'b',
      chatType: 'single',
      fromUser: 'u',
      msgType: 'event',
      event: 'enter_chat',
      dedupeKey: 'bot:e1',
    });
    const st = readBotMessage(
      JSON.stringify({
        msgid: 's1',
        aibotid: 'b',
        chatid: 'c',
        chattype: 'group',
        from: { userid: 'u' },
        msgtype: 'stream',
        stream: { id: 'STREAMID' },
      }),
    );
    expect(st.streamId).toBe('STREAMID');
    expect(st.text).toBeUndefined();
  });

  it('rejects shape mismatches as envelope', () => {
    const bad: unknown[] = [
      { ...groupText, msgid: 123 },
      { ...groupText, msgid: '' },
      { ...groupText, from: undefined },
      { ...groupText, from: { userid: 42 } },
      { ...groupText, chattype: 'channel' },
      { ...groupText, text: undefined },
      { ...groupText, text: { content: null } },
      { ...groupText, msgtype: 'event' },
      { ...groupText, msgtype: 'stream' },
      { ...groupText, msgtype: 'mixed', mixed: { msg_item: 'x' } },
      null,
      [],
    ];
    for (const b of bad) expect(reasonOf(() => readBotMessage(JSON.stringify(b)))).toBe('envelope');
    expect(reasonOf(() => readBotMessage('{not json'))).toBe('envelope');
  });
});
