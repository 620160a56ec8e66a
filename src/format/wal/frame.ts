/**
 * WAL framing. Each record is an 8-byte little-endian length word, the protobuf walpb.Record, and
 * 0..7 zero bytes of padding so that the next length word is 8-byte aligned (and so never torn
 * across a 512-byte sector). The low 56 bits of the word are the record length N; when bit 63 is
 * set, bits 56..58 hold the padding count P. A zero word means "no more records in this file".
 */

export const FRAME_HEADER_BYTES = 8;
/** etcd ≤3.4 and 3.5.0–3.5.4 refuse a length >= 10 MiB - P as `wal: max entry size limit exceeded`. */
export const LEGACY_MAX_RECORD_BYTES = 10 * 1024 * 1024;
/** etcd's torn-write detection works in units of this many bytes. */
export const MIN_SECTOR_BYTES = 512;
/** etcd preallocates every new segment to 64,000,000 bytes. */
export const SEGMENT_SIZE_BYTES = 64_000_000;

export interface FrameSize {
  /** The raw 64-bit word, for reports. */
  word: bigint;
  /** N. Exact below 2^53; larger values only come from damage and are reported via `word`. */
  recBytes: number;
  padBytes: number;
  /** Bits 59..62 are never set by etcd, nor is a pad count disagreeing with N. */
  wellFormed: boolean;
}

/** Decode the length word at `offset` of `b` (which must hold 8 bytes there). */
export function decodeFrameSize(b: Uint8Array, offset: number): FrameSize {
  const view = new DataView(b.buffer, b.byteOffset + offset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const top = hi >>> 24;
  const recBytes = (hi & 0xffffff) * 0x1_0000_0000 + lo;
  const padBytes = top & 0x80 ? top & 0x7 : 0;
  const expectedPad = (8 - (recBytes % 8)) % 8;
  const wellFormed =
    (top & 0x78) === 0 && padBytes === expectedPad && (top & 0x80 ? padBytes !== 0 : true);
  return { word: (BigInt(hi) << 32n) | BigInt(lo), recBytes, padBytes, wellFormed };
}

/** The length word etcd writes for a record of `recBytes` bytes, and its padding. */
export function encodeFrameSize(recBytes: number): { word: Uint8Array; padBytes: number } {
  const padBytes = (8 - (recBytes % 8)) % 8;
  const word = new Uint8Array(8);
  const view = new DataView(word.buffer);
  view.setUint32(0, recBytes % 0x1_0000_0000, true);
  let hi = Math.floor(recBytes / 0x1_0000_0000);
  if (padBytes !== 0) hi |= (0x80 | padBytes) << 24;
  view.setUint32(4, hi >>> 0, true);
  return { word, padBytes };
}

/** Frame bytes occupied by a record of `recBytes`: header + record + padding. */
export function frameBytes(recBytes: number): number {
  return FRAME_HEADER_BYTES + recBytes + ((8 - (recBytes % 8)) % 8);
}

/**
 * etcd's torn-write test: split the record's payload+padding at every 512-byte file boundary and
 * call it torn when any piece is all zeros. `fileOffset` is where `buf[0]` sits in the file.
 */
export function hasZeroSector(buf: Uint8Array, fileOffset: number): boolean {
  let start = 0;
  let chunk = MIN_SECTOR_BYTES - (fileOffset % MIN_SECTOR_BYTES);
  while (start < buf.length) {
    const end = Math.min(buf.length, start + chunk);
    let zero = true;
    for (let i = start; i < end; i++) {
      if (buf[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return true;
    start = end;
    chunk = MIN_SECTOR_BYTES;
  }
  return false;
}
