import { CallbackRejected } from './crypto.ts';

// XML: a deliberately small parser for WeCom's flat `<xml>` documents. No DTDs, no comments, no
// attributes, no processing instructions besides a leading `<?xml ...?>`, no custom entities.
// Leaf values stay strings (MsgId may exceed 2^53). Nested elements (some app events, e.g.
// ScanCodeInfo) are flattened to dotted keys such as "ScanCodeInfo.ScanType".

const NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const MAX_DEPTH = 8;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const xmlFail = (why: string): never => {
  throw new CallbackRejected('xml', `XML rejected: ${why}`);
};

/** Decode the five predefined entities and numeric character references; anything else is refused. */
function decodeText(text: string): string {
  return text.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);|&/g, (_m, ref?: string) => {
    if (!ref) return xmlFail('undeclared entity or bare "&"');
    if (ref[0] !== '#') return PREDEFINED[ref]!;
    const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) xmlFail(`invalid character reference ${ref}`);
    return String.fromCodePoint(cp);
  });
}

export function parseXml(xml: string): Record<string, string> {
  const s = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  const out = new Map<string, string>();
  let i = 0;

  const skipWs = () => {
    while (i < s.length && ' \t\r\n'.includes(s[i]!)) i++;
  };
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(s);
    if (!m) return xmlFail(`expected a tag name at ${i}`);
    i += m[0].length;
    return m[0];
  };

  // Reads `<Name>`, `<Name/>` (whitespace allowed before the end); attributes are not supported.
  const startTag = (): { name: string; empty: boolean } => {
    i++; // '<'
    const name = readName();
    skipWs();
    if (s.startsWith('/>', i)) {
      i += 2;
      return { name, empty: true };
    }
    if (s[i] !== '>') return xmlFail(`unexpected content in <${name}> tag`);
    i++;
    return { name, empty: false };
  };

  // key === null marks the root; its children are stored under their own names.
  const element = (key: string | null, depth: number): void => {
    const { name, empty } = startTag();
    if (key === null && name !== 'xml') xmlFail('root element is not <xml>');
    const path = key === null ? '' : key ? `${key}.${name}` : name;
    let text = '';
    let children = false;
    while (!empty) {
      if (i >= s.length) xmlFail(`unclosed <${name}>`);
      if (s.startsWith('<![CDATA[', i)) {
        const end = s.indexOf(']]>', i + 9);
        if (end < 0) xmlFail('unterminated CDATA');
        text += s.slice(i + 9, end); // CDATA is literal: no entity processing
        i = end + 3;
      } else if (s.startsWith('</', i)) {
        i += 2;
        const closing = readName();
        skipWs();
        if (closing !== name || s[i] !== '>') xmlFail(`</${closing}> does not close <${name}>`);
        i++;
        break;
      } else if (s[i] === '<') {
        if (s[i + 1] === '!' || s[i + 1] === '?') xmlFail('DOCTYPE, ENTITY, comment or processing instruction');
        if (depth >= MAX_DEPTH) xmlFail('nesting too deep');
        element(path, depth + 1);
        children = true;
      } else {
        const next = s.indexOf('<', i);
        const end = next < 0 ? s.length : next;
        text += decodeText(s.slice(i, end));
        i = end;
      }
    }
    if (key === null || children) {
      if (text.trim() !== '') xmlFail(`mixed text and elements in <${name}>`);
      return;
    }
    if (out.has(path)) {
      // A repeated top-level field (two <Encrypt>, two <MsgType>) is ambiguous: refuse it.
      // Repeated nested items (list entries) keep the first occurrence.
      if (depth === 1) xmlFail(`duplicate <${name}>`);
      return;
    }
    out.set(path, text);
  };

  skipWs();
  if (s.startsWith('<?xml', i) && /[\s?]/.test(s[i + 5] ?? '')) {
    const end = s.indexOf('?>', i);
    if (end < 0) xmlFail('unterminated XML declaration');
    i = end + 2;
    skipWs();
  }
  if (s[i] !== '<' || s[i + 1] === '!' || s[i + 1] === '?') xmlFail('expected the <xml> root element');
  element(null, 0);
  skipWs();
  if (i !== s.length) xmlFail('content after the root element');
  return Object.fromEntries(out); // own data properties only, so "__proto__" cannot pollute
}
