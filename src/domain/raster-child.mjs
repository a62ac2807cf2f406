// Rasterises one SVG in a process of its own, for src/domain/chart.ts. resvg's WebAssembly memory
// and the 20 MB CJK font it is handed cost about 150 MB, which the system gets back when this
// exits instead of the service keeping it for good. Plain JavaScript, so that it runs as it is
// beside the sources and beside the compiled service.
//   stdin:  JSON { svg, font: { path, family? }, pixels: boolean }
//   stdout: width, height and the PNG's length (uint32, big-endian), the PNG, then (if asked) RGBA pixels
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initWasm, Resvg } from '@resvg/resvg-wasm';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { svg, font, pixels } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
await initWasm(readFileSync(createRequire(import.meta.url).resolve('@resvg/resvg-wasm/index_bg.wasm')));
const family = font.family ? { defaultFontFamily: font.family, sansSerifFamily: font.family } : {};
// Only the given font, no system fonts: the same picture on every machine.
const image = new Resvg(svg, {
  background: '#ffffff',
  font: { fontBuffers: [readFileSync(font.path)], ...family },
}).render();
const png = image.asPng();
const head = Buffer.alloc(12);
head.writeUInt32BE(image.width, 0);
head.writeUInt32BE(image.height, 4);
head.writeUInt32BE(png.length, 8);
process.stdout.write(Buffer.concat([head, png, ...(pixels ? [image.pixels] : [])]));
