// Turning what people type on a phone into a command word and arguments. Full-width forms
// (／ＡＢＣ１２３, the ideographic space) become ASCII, but for the （） of company names; Chinese commas, 、 and semicolons separate
// words like spaces do; “quoted words” and 「quoted words」 keep their spaces. Leading @-mentions go;
// "/ 覆盖率" is "/覆盖率", and "27 / 29" is one ratio, "27/29".
import { stripMentions } from '../core/mention.ts';

export interface Token {
  text: string;
  start: number;
}
export interface Parsed {
  /** The command word as typed, lower-cased, without its slash. */
  word: string;
  /** The first word as it stands in the line (the command word, and what is glued to it). */
  head: Token;
  slash: boolean;
  tokens: Token[];
  line: string;
}

const NUMERAL = '[0-9〇零一二两三四五六七八九十百千万]';
const RATIO_SPACES = new RegExp(`(${NUMERAL})\\s*/\\s*(?=${NUMERAL})`, 'g');

export function normalise(text: string): string {
  return text
    .replace(/[\uFF01-\uFF5E]/g, (c) => (/[，；：（）]/.test(c) ? c : String.fromCharCode(c.charCodeAt(0) - 0xfee0)))
    .replace(/[\u3000\u00A0]/g, ' ')
    .replace(RATIO_SPACES, '$1/')
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
  const line = stripMentions(normalise(text)).replace(/^\/+\s*/, '/');
  const tokens = tokenize(line);
  const head = tokens.shift();
  if (!head) return null;
  const slash = head.text.startsWith('/');
  return { word: head.text.replace(/^\/+/, '').toLowerCase(), head, slash, tokens, line };
}

/** The line read with `command` as its command word and the rest of the first word as the first argument: /签收17 → /签收 17. */
export function unglue(p: Parsed, command: string): Parsed {
  const glued = p.head.text.slice(p.head.text.length - (p.word.length - command.length));
  const start = p.head.start + p.head.text.length - glued.length;
  return { ...p, word: command, tokens: [{ text: glued, start }, ...p.tokens] };
}
