/**
 * CRC-32C (Castagnoli), the checksum of etcd's WAL records, behind one function.
 *
 * Why two implementations: crc-32's pure-JS slice-by-16 runs at ~1.1–1.7 GB/s whatever the size.
 * @node-rs/crc32 (a prebuilt N-API binary using the CPU's CRC instructions; an optional dependency
 * with no install script) runs at ~5.5 GB/s on large buffers but costs ~200 ns per call, so on
 * records below a few hundred bytes crc-32 is faster. Measured per call on this project's bench
 * machine (Node 20, AMD EPYC): 128 B 172 ns JS / 308 ns native, 256 B 292 / 283, 384 B 406 / 305,
 * 512 B 542 / 404. Records of NATIVE_MIN_BYTES or more go native when the binary loaded and agreed
 * with crc-32 on a probe; everything else — and every platform without the binary — uses crc-32.
 */
import { createRequire } from 'node:module';
import CRC32C from 'crc-32/crc32c.js';

/** Records at least this long are checksummed natively (where the two cost the same, above). */
export const NATIVE_MIN_BYTES = 256;

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number;

// Captured once, so that whoever swaps CRC32C.buf (the bench does, to time this facade inside the
// decoder) cannot make this module call itself.
const jsCrc32c = CRC32C.buf;

function loadNative(): NativeCrc32c | undefined {
  let fn: unknown;
  try {
    fn = (createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: unknown }).crc32c;
  } catch {
    return undefined; // not installed, or no binary for this platform
  }
  if (typeof fn !== 'function') return undefined;
  const native = fn as NativeCrc32c;
  // A binary that disagrees with crc-32 (wrong build, changed seed semantics) is not used.
  const probe = Uint8Array.from({ length: 1500 }, (_, i) => (i * 131 + 7) & 0xff);
  for (const seed of [0, 0xdeadbeef]) {
    if (native(probe, seed) !== jsCrc32c(probe, seed) >>> 0) return undefined;
  }
  return native;
}

const native = loadNative();

/** Which implementation handles large records here: 'native' (@node-rs/crc32) or 'crc-32'. */
export const crc32cLargeRecords: 'native' | 'crc-32' = native === undefined ? 'crc-32' : 'native';

/** Continues the running CRC-32C `crc` (unsigned; 0 to start) over `data`; returns it unsigned. */
export function crc32cUpdate(data: Uint8Array, crc: number): number {
  if (native !== undefined && data.length >= NATIVE_MIN_BYTES) return native(data, crc >>> 0);
  return jsCrc32c(data, crc) >>> 0;
}
