/**
 * Resolves when ink's layout engine can be used. With npm's build it always can (yoga-layout
 * loads its WebAssembly with a top-level await before ink runs). The single-file executable is
 * bundled as CommonJS, which has no top-level await: scripts/sea.mjs swaps this module for one that
 * waits for yoga's WebAssembly (see scripts/sea/yoga-layout.mjs).
 */
export async function layoutEngineReady(): Promise<void> {}
