// The single-file executable's src/tui/layout-ready.ts: wait for yoga's WebAssembly (see yoga-layout.mjs).
import { yogaReady } from 'yoga-layout';

export async function layoutEngineReady() {
  await yogaReady;
}
