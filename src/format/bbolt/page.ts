/**
 * bbolt's on-disk layout (format version 2), as used by etcd's `member/snap/db`.
 *
 * A bbolt file is an array of fixed-size pages (size P, taken from the meta page). Pages 0 and 1
 * are meta pages; each commit rewrites the one at `txid % 2`, so together they hold the last two
 * committed states. A meta points at the root bucket's B+tree, whose leaf elements are the
 * top-level buckets; each bucket is either a tree of its own or, when small, an "inline" leaf page
 * image stored in its value. Pages at or above `meta.pgid` (the high-water mark) are not part of
 * the database even if the file is longer.
 *
 * Integers are in the writer's native byte order; every file we have seen is little-endian and
 * that is all this module reads. See docs in shared/spec/etcd-backend.md §6.
 */

/** Random access to the bytes of a bbolt image. `read` returns fewer bytes than asked only at EOF. */
export interface PageSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  /**
   * Optional: copy the bytes at `offset` into `into` (returns how many there were), for a reader
   * that rereads small ranges here and there and keeps nothing: a file-backed source then reads
   * just those bytes instead of caching (and allocating) a whole block for each.
   */
  readInto?(into: Uint8Array, offset: number): number;
  /**
   * Optional: `read` for a caller that keeps nothing it reads for long (a walk handing out one item
   * at a time): the bytes stay valid only while the source reads a few more pages, after which their
   * memory may be reused, so a long walk does not allocate a new buffer per block read.
   */
  readTransient?(offset: number, length: number): Uint8Array;
}

/** A PageSource over bytes already in memory (tests, small snapshot images). */
export function bytesSource(bytes: Uint8Array): PageSource {
  return {
    size: bytes.length,
    read(offset, length) {
      const start = Math.max(0, Math.min(offset, bytes.length));
      return bytes.subarray(start, Math.min(bytes.length, start + Math.max(0, length)));
    },
  };
}

export const PAGE_HEADER_SIZE = 16;
export const ELEMENT_SIZE = 16; // branch and leaf elements are both 16 bytes
export const BUCKET_HEADER_SIZE = 16;

export const BRANCH_PAGE = 0x01;
export const LEAF_PAGE = 0x02;
export const META_PAGE = 0x04;
export const FREELIST_PAGE = 0x10;

/** Leaf element flag: the value is a nested bucket. */
export const BUCKET_LEAF_FLAG = 0x01;

export const MAGIC = 0xed0cdaed;
export const VERSION = 2;
/** meta.freelist when the freelist is not persisted (etcd's NoFreelistSync). */
export const NO_FREELIST = 0xffff_ffff_ffff_ffffn;

/** Meta body offsets (relative to the start of the meta page). */
const META = {
  magic: 16,
  version: 20,
  pageSize: 24,
  flags: 28,
  root: 32,
  sequence: 40,
  freelist: 48,
  pgid: 56,
  txid: 64,
  checksum: 72,
  end: 80,
} as const;
export const META_SIZE = META.end;

export interface PageHeader {
  /** The id stored in the header (u64). */
  id: bigint;
  flags: number;
  count: number;
  overflow: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decode a 16-byte page header. The caller guarantees 16 bytes are present. */
export function decodePageHeader(bytes: Uint8Array): PageHeader {
  const dv = view(bytes);
  return {
    id: dv.getBigUint64(0, true),
    flags: dv.getUint16(8, true),
    count: dv.getUint16(10, true),
    overflow: dv.getUint32(12, true),
  };
}

export function pageTypeName(flags: number): string {
  if (flags & BRANCH_PAGE) return 'branch';
  if (flags & LEAF_PAGE) return 'leaf';
  if (flags & META_PAGE) return 'meta';
  if (flags & FREELIST_PAGE) return 'freelist';
  return `unknown<${flags.toString(16).padStart(2, '0')}>`;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = 0xffff_ffff_ffff_ffffn;

/** FNV-1a, 64 bit: bbolt's meta checksum. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & U64;
  return h;
}

export interface Meta {
  /** Which page this came from. */
  slot: 0 | 1;
  magic: number;
  version: number;
  pageSize: number;
  flags: number;
  /** Root bucket: page id of its tree's root. */
  root: bigint;
  sequence: bigint;
  /** Freelist page id, or NO_FREELIST. */
  freelist: bigint;
  /** High-water mark: number of pages in use. */
  pgid: bigint;
  txid: bigint;
  checksum: bigint;
  /** FNV-1a over magic..txid as computed from the bytes. */
  computedChecksum: bigint;
}

/** Decode a meta body from a page image (at least META_SIZE bytes). Validation is separate. */
export function decodeMeta(page: Uint8Array, slot: 0 | 1): Meta {
  const dv = view(page);
  return {
    slot,
    magic: dv.getUint32(META.magic, true),
    version: dv.getUint32(META.version, true),
    pageSize: dv.getUint32(META.pageSize, true),
    flags: dv.getUint32(META.flags, true),
    root: dv.getBigUint64(META.root, true),
    sequence: dv.getBigUint64(META.sequence, true),
    freelist: dv.getBigUint64(META.freelist, true),
    pgid: dv.getBigUint64(META.pgid, true),
    txid: dv.getBigUint64(META.txid, true),
    checksum: dv.getBigUint64(META.checksum, true),
    computedChecksum: fnv1a64(page.subarray(META.magic, META.checksum)),
  };
}

/** Encode a meta page (header + body, zero-padded to pageSize) with a fresh checksum. */
export function encodeMeta(m: Omit<Meta, 'checksum' | 'computedChecksum' | 'magic' | 'version'>): Uint8Array {
  const page = new Uint8Array(m.pageSize);
  const dv = view(page);
  dv.setBigUint64(0, BigInt(m.slot), true);
  dv.setUint16(8, META_PAGE, true);
  dv.setUint32(META.magic, MAGIC, true);
  dv.setUint32(META.version, VERSION, true);
  dv.setUint32(META.pageSize, m.pageSize, true);
  dv.setUint32(META.flags, m.flags, true);
  dv.setBigUint64(META.root, m.root, true);
  dv.setBigUint64(META.sequence, m.sequence, true);
  dv.setBigUint64(META.freelist, m.freelist, true);
  dv.setBigUint64(META.pgid, m.pgid, true);
  dv.setBigUint64(META.txid, m.txid, true);
  dv.setBigUint64(META.checksum, fnv1a64(page.subarray(META.magic, META.checksum)), true);
  return page;
}

/** bbolt only writes power-of-two page sizes; 512 B .. 1 MiB covers every real system. */
export function plausiblePageSize(n: number): boolean {
  return n >= 512 && n <= 1 << 20 && (n & (n - 1)) === 0;
}

/** Byte-wise comparison, like Go's bytes.Compare. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * bbolt's cursor search within one page (Go's sort.Search over its `count` elements, whatever
 * their order): on a leaf, the first element whose key is >= `key`; on a branch, the last whose
 * key is <= `key` (the first >= it when one probed was equal).
 */
export function searchPage(count: number, keyAt: (i: number) => Uint8Array, key: Uint8Array, branch: boolean): number {
  let lo = 0;
  let hi = count;
  let exact = false;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareBytes(keyAt(mid), key);
    if (c === 0) exact = true;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return branch && !exact && lo > 0 ? lo - 1 : lo;
}
