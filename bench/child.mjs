// bench/child.mjs MODE DIR - one measured piece of work in a process of its own, so that its peak
// RSS (process.resourceUsage().maxRSS) is its own. Prints one JSON line on stdout.
//   verify DIR   inspectPath(DIR): the whole analysis `wal-doctor verify` runs
//   export DIR   exportLines over DIR's segments, each line JSON.stringify'd as the CLI does (dropped)
//   baseline     the same imports and nothing else (what Node + our modules cost before any work)
//   crc          crc32cUpdate from dist/src/format/crc.js against crc-32 (run with -r bench/no-native.cjs
//                to prove the fallback)
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';

const [mode, dir] = process.argv.slice(2);
const dist = new URL('../dist/src/', import.meta.url);
const { inspectPath } = await import(new URL('inspect/analyze.js', dist).href);
const { exportLines } = await import(new URL('export/ndjson.js', dist).href);
const { FileSource } = await import(new URL('io/file-source.js', dist).href);
const { locate } = await import(new URL('io/layout.js', dist).href);

const t0 = performance.now();
const out = { mode };
if (mode === 'verify') {
  const { report } = inspectPath(dir);
  out.exitCode = report.verdict.exitCode;
} else if (mode === 'export') {
  const segments = locate(dir).segments.map((p) => ({ name: basename(p), source: new FileSource(p) }));
  let lines = 0, entries = 0, jsonBytes = 0;
  try {
    for (const line of exportLines(segments)) {
      const s = JSON.stringify(line) + '\n';
      jsonBytes += s.length;
      lines++;
      if (line.recordType === 'entry') entries++;
    }
  } finally {
    for (const s of segments) s.source.close();
  }
  Object.assign(out, { lines, entries, jsonBytes });
} else if (mode === 'crc') {
  const { crc32cUpdate, crc32cLargeRecords } = await import(new URL('format/crc.js', dist).href);
  const { createRequire } = await import('node:module');
  const CRC32C = createRequire(import.meta.url)('crc-32/crc32c.js');
  let same = true;
  for (const n of [0, 1, 100, 511, 512, 513, 4096, 1 << 20]) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
    for (const seed of [0, 1, 0x80000000, 0xffffffff]) same &&= crc32cUpdate(b, seed) === CRC32C.buf(b, seed) >>> 0;
  }
  Object.assign(out, { crc32cLargeRecords, sameAsCrc32: same });
} else if (mode !== 'baseline') {
  throw new Error(`unknown mode ${mode}`);
}
out.ms = performance.now() - t0;
out.maxRssKB = process.resourceUsage().maxRSS;
// Cross-check: the kernel's high-water mark of this process's own address space. maxRSS is inherited
// across fork+exec (Linux keeps the larger of the parent's), so the bench starts this script through
// an extra shell fork; the two numbers agreeing shows that worked.
out.vmHwmKB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
process.stdout.write(JSON.stringify(out) + '\n');
