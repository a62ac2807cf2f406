import { expect } from 'vitest';
import { svgToPng } from '../../src/domain/raster.ts';

/** An SVG of one line of text in the font charts are drawn with. */
export const label = (text: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60"><text x="10" y="42" font-size="32" font-family="sans-serif">${text}</text></svg>`;

/**
 * Checks that charts are drawn with Chinese glyphs, not boxes: missing glyphs would be left out (a
 * word drawn as the blank picture) or drawn as the same boxes (two words as one picture).
 */
export async function expectCjkGlyphs(): Promise<void> {
  const [blank, a, b] = await Promise.all([svgToPng(label('')), svgToPng(label('安化县')), svgToPng(label('危险品'))]);
  expect(a.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a'); // a PNG
  expect(a.equals(blank)).toBe(false);
  expect(a.equals(b)).toBe(false);
}
