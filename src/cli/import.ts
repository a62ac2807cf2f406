// npm run import -- roster|policies <file.csv|file.xlsx> (`anze import` in a release bundle)
// The import runs in a process with V8 heap limits (src/core/heap.ts): started without them, this
// script starts itself again with them, having loaded nothing else, and ends as that process ends.
import { IMPORT_HEAP_FLAGS, relaunchWith } from '../core/heap.ts';

await relaunchWith(IMPORT_HEAP_FLAGS);
await import('./import/main.ts');
