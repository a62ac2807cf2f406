import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { neutral, Trusted } from './core/neutral.ts';
import { LOCALES, type Locale, type Translate } from './core/translate.ts';

export { LOCALES, type Locale, type Params, type Translate } from './core/translate.ts';

const dir = fileURLToPath(new URL('../locales/', import.meta.url));
const catalogs = new Map<Locale, Record<string, string>>();

export function catalog(locale: Locale): Record<string, string> {
  let c = catalogs.get(locale);
  if (!c) {
    c = JSON.parse(readFileSync(`${dir}${locale}.json`, 'utf8')) as Record<string, string>;
    catalogs.set(locale, c);
  }
  return c;
}

export function isLocale(s: string | null | undefined): s is Locale {
  return (LOCALES as readonly string[]).includes(s ?? '');
}

/**
 * A translator for one locale; a missing key falls back to zh-CN, then shows the key itself. The
 * templates are ours, the values are data: every string value is neutralised (src/core/neutral.ts),
 * so a name, note or reason can never add a link, a heading, a quote or a line to a message.
 */
export function translator(locale: Locale): Translate {
  const own = catalog(locale);
  const fallback = catalog('zh-CN');
  return (key, params) => {
    const template = own[key] ?? fallback[key] ?? key;
    return params
      ? template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? shown(params[name]!) : m))
      : template;
  };
}

const shown = (v: string | number | Trusted): string =>
  v instanceof Trusted ? v.text : typeof v === 'string' ? neutral(v) : String(v);
