// Text from members and files is data: it must never speak in the bot's voice. WeCom documents no
// escape character for its markdown, so every character that could start markup is replaced by its
// full-width twin, and a single-line field loses its line breaks. README lists the substitutions.

/** The characters that make WeCom markdown (links, bold, headings, quotes, code, <@mentions>, <font>), and their stand-ins. */
export const SUBSTITUTIONS: Readonly<Record<string, string>> = {
  '[': '［',
  ']': '］',
  '(': '（',
  ')': '）',
  '*': '＊',
  '<': '＜',
  '>': '＞',
  '#': '＃',
  '`': '｀',
};

const MARKUP = /[[\]()*<>#`]/g;
const BREAKS = /\r\n|[\r\n\u2028\u2029\u0085\v\f]/g;

/** Member- or file-supplied text as it may appear in any message: no markup, on one line. */
export function neutral(text: string): string {
  return text.replace(MARKUP, (c) => SUBSTITUTIONS[c]!).replace(BREAKS, ' ');
}

/** Text of our own (already neutral where it holds data) that a template may show as it is. */
export class Trusted {
  constructor(readonly text: string) {}
}

/** Marks text as ours, so a translation interpolates it unchanged. */
export const trusted = (text: string): Trusted => new Trusted(text);
