import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { besideSources } from '../paths.ts';
import { runChild } from './child.ts';

// SVG to PNG: resvg rasterises with a CJK font file (resvg reads TTF/OTF/TTC, not the woff2 most
// npm font packages ship), so Chinese never comes out as boxes. resvg runs as WebAssembly with the
// font handed over as a buffer (the native build reads the whole font file again for every run of
// text, which with a 20 MB CJK font costs seconds), in a process of its own per picture
// (src/domain/raster-child.mjs), so the service does not keep the 150 MB that takes.

/** CJK fonts resvg can read, where distributions install them, with the family to ask for. */
const FONTS = [
  { path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', family: 'Noto Sans CJK SC' }, // Debian, Ubuntu: fonts-noto-cjk
  { path: '/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc', family: 'Noto Sans CJK SC' }, // Arch
  { path: '/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc', family: 'Noto Sans CJK SC' }, // Fedora
  { path: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', family: 'WenQuanYi Micro Hei' },
];

export interface CjkFont {
  path: string;
  family?: string;
}

/** The configured font file (BOT_CJK_FONT) when given, else the first installed of the usual ones; null when none. */
export function findCjkFont(configured?: string): CjkFont | null {
  if (configured) return existsSync(configured) ? { path: configured } : null;
  return FONTS.find((f) => existsSync(f.path)) ?? null;
}

export interface Raster {
  png: Buffer;
  width: number;
  height: number;
  /** RGBA, row by row (when asked for). */ pixels: Uint8Array;
}

const RASTERISER = besideSources(new URL('./raster-child.mjs', import.meta.url));
/** Far more than a chart takes (about a second): a rasteriser that hangs is killed. */
const RASTER_TIMEOUT_MS = 60_000;

/** Rasterises an SVG with only the given font, in a child process (src/domain/raster-child.mjs). */
export async function rasterise(
  svg: string,
  font: CjkFont | null = findCjkFont(),
  o: { pixels?: boolean } = {},
): Promise<Raster> {
  if (!font) throw new UserError('chart.no_font');
  const data = await runChild([RASTERISER], JSON.stringify({ svg, font, pixels: !!o.pixels }), {
    what: 'chart rasteriser',
    timeoutMs: RASTER_TIMEOUT_MS,
  });
  const [width, height, length] = [data.readUInt32BE(0), data.readUInt32BE(4), data.readUInt32BE(8)];
  return { png: data.subarray(12, 12 + length), width, height, pixels: data.subarray(12 + length) };
}

export async function svgToPng(svg: string, font: CjkFont | null = findCjkFont()): Promise<Buffer> {
  return (await rasterise(svg, font)).png;
}
