#!/usr/bin/env node
// `npm run sea`: wal-doctor as one executable file for a rescue node with no Node.js and no npm:
// Node's single executable application (SEA) — this machine's `node` binary with the whole tool
// injected into it (postject, as Node's docs do it). Output: dist/sea/wal-doctor (linux-x64, glibc).
//
// Node 20's SEA runs one CommonJS script whose require() reaches only Node's built-in modules, so
// esbuild bundles src/cli/main.ts and every dependency into dist/sea/wal-doctor.cjs. What needs
// help to fit that shape (each fails the build loudly if its source moved):
//  - src/version.ts reads package.json beside dist/: replaced by the version as a constant;
//  - createRequire(import.meta.url)(...) of the two native addons (src/io/ofd-lock.ts,
//    src/format/crc.ts) becomes a plain require that esbuild bundles; the addons' .node files
//    travel as SEA assets and load through scripts/sea/native.cjs (callers keep their fallbacks);
//  - yoga-layout (ink's layout engine) loads its WebAssembly with a top-level await: it is swapped
//    for scripts/sea/yoga-layout.mjs and explore awaits it (src/tui/layout-ready.ts), so the
//    terminal UI is in the executable too; ink's React-devtools hook (DEV=true only, two more
//    top-level awaits) is left out.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` (tests build into a temp dir); default dist/sea.
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1] : join(root, 'dist', 'sea');
const sea = join(root, 'scripts', 'sea');
const require = createRequire(join(root, 'package.json'));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

const ADDONS = {
  'fs-native-extensions.node': require.resolve(`fs-native-extensions/prebuilds/${process.platform}-${process.arch}/fs-native-extensions.node`),
  'crc32.node': (() => {
    try {
      const pkg = `@node-rs/crc32-${process.platform}-${process.arch}-gnu`;
      return join(dirname(require.resolve(`${pkg}/package.json`)), `crc32.${process.platform}-${process.arch}-gnu.node`);
    } catch {
      return undefined; // optional dependency not installed: the executable uses the JS CRC
    }
  })(),
};

/** Replace `from` by `to` in a source file, failing when `from` is not there. */
function patch(path, pairs) {
  let text = readFileSync(path, 'utf8');
  for (const [from, to] of pairs) {
    if (!text.includes(from)) throw new Error(`sea: ${path} no longer contains ${JSON.stringify(from)}: update scripts/sea.mjs`);
    text = text.split(from).join(to);
  }
  return text;
}

const seaPlugin = {
  name: 'wal-doctor-sea',
  setup(b) {
    b.onLoad({ filter: /[/\\]src[/\\]version\.ts$/ }, () => ({ contents: `export const TOOL_VERSION = ${JSON.stringify(version)};\n`, loader: 'ts' }));
    b.onLoad({ filter: /[/\\]src[/\\]io[/\\]ofd-lock\.ts$/ }, (a) => ({ contents: patch(a.path, [["createRequire(import.meta.url)('fs-native-extensions')", "require('fs-native-extensions')"]]), loader: 'ts' }));
    b.onLoad({ filter: /[/\\]src[/\\]format[/\\]crc\.ts$/ }, (a) => ({ contents: patch(a.path, [["createRequire(import.meta.url)('@node-rs/crc32')", "require('@node-rs/crc32')"]]), loader: 'ts' }));
    // ink's two other top-level awaits only run with DEV=true (React devtools): dropped here.
    b.onLoad({ filter: /[/\\]ink[/\\]build[/\\]reconciler\.js$/ }, (a) => ({
      contents: patch(a.path, [["await import('./devtools.js');", 'void 0;'], ['? await loadPackageJson()', '? { name: undefined, version: undefined }']]),
      loader: 'js',
    }));
    b.onLoad({ filter: /[/\\]src[/\\]tui[/\\]layout-ready\.ts$/ }, () => ({ contents: readFileSync(join(sea, 'layout-ready.mjs'), 'utf8'), loader: 'js', resolveDir: sea }));
    b.onResolve({ filter: /^yoga-layout$/ }, (a) => (a.importer.endsWith('yoga-layout.mjs') ? undefined : { path: join(sea, 'yoga-layout.mjs') }));
    // The addons: their JS loaders look for .node files on disk; here they come from SEA assets.
    b.onResolve({ filter: /^@node-rs\/crc32$/ }, () => ({ path: 'crc32', namespace: 'sea-addon' }));
    b.onResolve({ filter: /^\.\/binding$/ }, (a) => (/fs-native-extensions/.test(a.importer) ? { path: 'fs-native-extensions', namespace: 'sea-addon' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'sea-addon' }, (a) => {
      const asset = `${a.path}.node`;
      if (!ADDONS[asset]) return { contents: `throw new Error('${asset} is not in this build');\n`, loader: 'js' };
      return { contents: `module.exports = require(${JSON.stringify(join(sea, 'native.cjs'))}).loadAddon(${JSON.stringify(asset)});\n`, loader: 'js', resolveDir: sea };
    });
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const bundle = join(out, 'wal-doctor.cjs');
const result = await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  jsx: 'automatic',
  minify: true,
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  // ink loads react-devtools-core only when DEV=true; it is not a dependency.
  external: ['react-devtools-core'],
  plugins: [seaPlugin],
  logLevel: 'warning',
  metafile: true,
});
if (result.errors.length) process.exit(1);

const assets = Object.fromEntries(Object.entries(ADDONS).filter(([, p]) => p !== undefined));
const config = join(out, 'sea-config.json');
writeFileSync(config, JSON.stringify({ main: bundle, output: join(out, 'sea-prep.blob'), disableExperimentalSEAWarning: true, useCodeCache: true, assets }, null, 2));
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });

const exe = join(out, 'wal-doctor');
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
// postject's ELF writer (LIEF) warns about note sections it does not name; shown only if it fails.
const inject = spawnSync(process.execPath, [require.resolve('postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', join(out, 'sea-prep.blob'), '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { encoding: 'utf8' });
if (inject.status !== 0) {
  process.stderr.write(inject.stdout + inject.stderr);
  process.exit(inject.status ?? 1);
}
const mb = (p) => `${(statSync(p).size / 1e6).toFixed(1)} MB`;
console.log(`wrote ${exe} (${mb(exe)}; the bundle ${mb(bundle)}, node ${process.version} ${process.platform}-${process.arch}, addons: ${Object.keys(assets).join(', ') || 'none'})`);
