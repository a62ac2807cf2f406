// What the command-line tools say to the person running them, in BOT_LOCALE's language: usage,
// configuration errors.
import { ConfigError, configErrorLine, operatorLocale } from '../config.ts';
import { translator } from '../i18n.ts';

export const locale = operatorLocale();
export const t = translator(locale);

/** Prints the tool's usage and exits with 2. */
export function usage(syntax: string): never {
  console.error(t('cli.usage', { usage: syntax }));
  process.exit(2);
}

/** Parses the arguments, or prints why not and the usage. */
export function args<T>(parse: () => T, syntax: string): T {
  try {
    return parse();
  } catch (e) {
    console.error((e as Error).message);
    return usage(syntax);
  }
}

/** A configuration error as one line in the operator's language; anything else as it is. */
export function describe(e: unknown): unknown {
  return e instanceof ConfigError ? configErrorLine(e, locale) : e;
}
