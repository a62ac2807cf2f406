import type { Trusted } from './neutral.ts';

// The shape of translation, below everything: src/i18n.ts reads the catalogs and makes translators.

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** A template's values: data (neutralised where it is interpolated), or `trusted(...)` text of our own. */
export type Params = Record<string, string | number | Trusted>;
export type Translate = (key: string, params?: Params) => string;
