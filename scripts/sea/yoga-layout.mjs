// yoga-layout for the CommonJS bundle of the single-file executable. The package's entry does
// `export default wrapAssembly(await loadYoga())`: a top-level await, which CommonJS cannot have.
// This stand-in starts the same load when first required and forwards every property of the
// default export to the loaded engine; src/tui/layout-ready.ts (swapped by sea.mjs for
// layout-ready.mjs) awaits `yogaReady` before ink renders anything.
import { loadYoga } from 'yoga-layout/load';
export * from 'yoga-layout/load';

let engine;
export const yogaReady = loadYoga().then((y) => {
  engine = y;
});

export default new Proxy(
  {},
  {
    get(_target, key) {
      if (!engine) throw new Error('yoga-layout used before its WebAssembly loaded (await yogaReady)');
      return engine[key];
    },
  },
);
