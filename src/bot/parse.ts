// Turning what people type on a phone into a command word and arguments. Full-width forms
// (／ＡＢＣ１２３, the ideographic space) become ASCII, but for the （） of company names; Chinese commas, 、 and semicolons separate
// words like spaces do; “quoted words” and 「quoted words」 keep their spaces.

export interface Token {
  text: string;
  start: number;
}
export interface Parsed {
  word: string;
  slash: boolean;
  tokens: Token[];
  line: string;
}

export function normalise(text: string): string {
  return text
    .replace(/[\uFF01-\uFF5E]/g, (c) => (/[，；：（）]/.test(c) ? c : String.fromCharCode(c.charCodeAt(0) - 0xfee0)))
    .replace(/[\u3000\u00A0]/g, ' ')
    .trim();
}

const SEPARATOR = /[\s,，、;；]/;
const QUOTES: Record<string, string> = { '"': '"', '“': '”', '「': '」', '『': '』', "'": "'" };

export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (SEPARATOR.test(c)) {
      i++;
      continue;
    }
    const close = QUOTES[c];
    if (close) {
      const end = line.indexOf(close, i + 1);
      if (end > i) {
        tokens.push({ text: line.slice(i + 1, end), start: i });
        i = end + 1;
        continue;
      }
    }
    const start = i;
    while (i < line.length && !SEPARATOR.test(line[i]!)) i++;
    tokens.push({ text: line.slice(start, i), start });
  }
  return tokens;
}

export function parse(text: string): Parsed | null {
  const line = normalise(text);
  const tokens = tokenize(line);
  const first = tokens.shift();
  if (!first) return null;
  const slash = first.text.startsWith('/');
  return { word: first.text.replace(/^\/+/, '').toLowerCase(), slash, tokens, line };
}
