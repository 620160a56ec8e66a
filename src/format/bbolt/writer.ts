/**
 * A streaming bbolt writer: a fresh, compact bbolt file (format version 2, little-endian) from
 * top-level buckets given in name order, each with its items in key order.
 *
 * Layout (shared/spec/etcd-backend.md §6.9, the layout etcd 3.4.23 and 3.5.30 accept):
 *
 *   page 0, 1   meta pages, txid T and T+1, same tree, FNV-1a checksums
 *   page 2      an empty freelist page (count 0); or none, with meta.freelist = NO_FREELIST
 *   page 3..    data pages, allocated sequentially as they fill: leaf pages (with overflow pages
 *               for elements bigger than a page), branch pages, the root bucket's tree
 *   pgid        the high-water mark: the number of pages written; file length = pgid × P
 *
 * A bucket whose leaf image `16 + Σ(16+|k|+|v|)` fits in P/4 is stored inline in its value, as
 * bbolt does; bigger ones become a B+tree. Leaf pages are packed until the next element would not
 * fit (one element at least; an element bigger than a page gets a page of its own with overflow).
 * Branch pages hold (first key of the child, child pgid) and are packed the same way but with two
 * elements at least, so every level has at most half the pages of the one below and the tree ends
 * in one root. bbolt itself splits at about half fill; any fill up to P is valid for every reader.
 *
 * Memory does not grow with the database: the writer keeps one pending page per tree level (the
 * leaf being filled and, per branch level, the (key, pgid) pairs of the branch page being filled),
 * plus, while a bucket may still be inline, its items up to P/4 bytes. A page is emitted the moment
 * it is complete and never looked at again.
 *
 * The write contract: pages are handed to the sink as `BoltChunk`s, each one page with its overflow
 * pages, with `offset = pgid × P`. Data pages come in ascending pgid order starting at 2 (the
 * freelist page) or 3; the two meta pages come LAST, as one chunk at offset 0 of 2 × P bytes,
 * because they name the root page, which is known only at the end. Every page id below the final
 * pgid is covered by exactly one chunk, so writing every chunk at its offset produces the whole
 * file, `pgid × P` bytes long, with no gaps. A consumer that must write sequentially can write
 * 2 × P zero bytes first and overwrite them with the last chunk (`encodeBolt` does that in memory).
 *
 * Append mode (`append`) is the other use: a commit on a copy of an existing file, as bbolt makes
 * one. Pages get ids from the file's high-water mark on, unchanged buckets are named by their
 * existing values (`rawBucket`), and the last chunk is one meta page at `slot × P`. Writing every
 * chunk at its offset over the copy gives a file of max(its size, pgid × P) bytes.
 *
 * Feeding buckets or keys out of order, an empty key, or sizes bbolt refuses is a caller bug and
 * throws a RangeError naming the bucket and key; nothing is emitted for that item. (Copying a
 * damaged db goes through copyDb in writer-copy.ts, which drops such items and reports them.)
 */
import {
  BRANCH_PAGE,
  BUCKET_HEADER_SIZE,
  BUCKET_LEAF_FLAG,
  ELEMENT_SIZE,
  FREELIST_PAGE,
  LEAF_PAGE,
  NO_FREELIST,
  PAGE_HEADER_SIZE,
  compareBytes,
  encodeMeta,
  plausiblePageSize,
} from './page.js';

/** A key/value pair. The reader's LeafItem fits, so `db.items(bucket)` can be fed straight in. */
export interface BoltItem {
  key: Uint8Array;
  value: Uint8Array;
}

/** One top-level bucket to write. */
export interface BoltBucket {
  name: Uint8Array | string;
  /** Strictly ascending keys (byte order); read lazily, one at a time. */
  items: Iterable<BoltItem>;
  /** The bucket's sequence (NextSequence counter); etcd leaves it 0. Default 0. */
  sequence?: bigint;
}

/** One page (with its overflow pages) of the output, to be written at `offset`. */
export interface BoltChunk {
  pgid: number;
  /** pgid × pageSize. */
  offset: number;
  /** (overflow + 1) × pageSize bytes; the two meta pages come together as one 2 × pageSize chunk. */
  bytes: Uint8Array;
}

export type ChunkSink = (chunk: BoltChunk) => void;

export interface BoltWriterOptions {
  /** Page size P: a power of two, 512 .. 1 MiB. Default 4096. */
  pageSize?: number;
  /** txid of meta page 0; meta page 1 gets txid + 1. Default 0n (bbolt's own fresh file: 0 and 1). */
  txid?: bigint;
  /**
   * 'page' (default): an empty freelist page at pgid 2, which every bbolt version reads (spec §6.9:
   * the most compatible choice). 'none': meta.freelist = NO_FREELIST, as etcd's NoFreelistSync
   * files have after their first commit; data then starts at pgid 2.
   */
  freelist?: 'page' | 'none';
  /**
   * Append to an existing file instead of writing a fresh one (a bbolt commit on a copy): new page
   * ids start at the file's high-water mark `append.pgid`, no freelist page is written (the meta
   * says NO_FREELIST, as etcd's NoFreelistSync commits do: bbolt then frees every page the new tree
   * no longer reaches), and finish() emits ONE meta page, slot `txid % 2` (`txid` must be the
   * file's txid + 1), leaving the other meta page and every existing page as they are. Buckets the
   * caller does not change go in unchanged with `rawBucket`; `flags` and `sequence` are the
   * existing meta's.
   */
  append?: { pgid: number; flags: number; sequence: bigint };
}

export interface PageCounts {
  meta: number;
  freelist: number;
  leaf: number;
  branch: number;
  /** Extra pages taken by elements bigger than a page (counted in addition to their first page). */
  overflow: number;
}

export interface BoltWriteSummary {
  pageSize: number;
  /** High-water mark: pages in the file. */
  pgid: number;
  /** pgid × pageSize: the file length, and what `snapshot status` reports as totalSize. */
  fileSize: number;
  /** Page id of the root bucket's root page (meta.root). */
  root: number;
  /** meta.freelist: 2, or NO_FREELIST. */
  freelist: bigint;
  /** txid of meta 0 and meta 1 (append mode: undefined for the slot not written). */
  txids: [bigint | undefined, bigint | undefined];
  buckets: number;
  inlineBuckets: number;
  /** Key/value pairs over all buckets (snapshot status's totalKey). */
  keys: number;
  pages: PageCounts;
  /** Deepest bucket tree written, in levels (1 = a single leaf page, 0 = only inline buckets). */
  maxDepth: number;
  /**
   * Most bytes of item data the writer held at once (pending pages, an inline candidate). Bounded by
   * about (levels + 1) × pageSize plus the largest single element, whatever the db size.
   */
  peakHeldBytes: number;
}

/** bbolt's MaxKeySize. */
export const MAX_KEY_SIZE = 32768;
/** bbolt's MaxValueSize. */
export const MAX_VALUE_SIZE = 0x7fff_fffe;
/** Page header `count` is a u16. */
const MAX_COUNT = 0xffff;

const textEncoder = new TextEncoder();

function nameBytes(name: Uint8Array | string): Uint8Array {
  return typeof name === 'string' ? textEncoder.encode(name) : name;
}

function hex(b: Uint8Array, max = 64): string {
  let s = '';
  for (let i = 0; i < Math.min(b.length, max); i++) s += (b[i] as number).toString(16).padStart(2, '0');
  return b.length > max ? `${s}…(${b.length} bytes)` : s;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Allocates page ids sequentially and hands finished pages to the sink. */
class PageOut {
  next: number;
  held = 0;
  peakHeld = 0;
  readonly pages: PageCounts = { meta: 2, freelist: 0, leaf: 0, branch: 0, overflow: 0 };

  constructor(
    readonly pageSize: number,
    private readonly sink: ChunkSink,
    first: number,
  ) {
    this.next = first;
  }

  /** Give `bytes` (a whole number of pages, header at 0 without its id) the next id and emit it. */
  emit(bytes: Uint8Array, kind: 'leaf' | 'branch' | 'freelist'): number {
    const pgid = this.next;
    const n = bytes.length / this.pageSize;
    view(bytes).setBigUint64(0, BigInt(pgid), true);
    this.next += n;
    this.pages[kind]++;
    this.pages.overflow += n - 1;
    this.sink({ pgid, offset: pgid * this.pageSize, bytes });
    return pgid;
  }

  /** The two meta pages, last: they name the root, known only now. */
  emitMetas(bytes: Uint8Array): void {
    this.sink({ pgid: 0, offset: 0, bytes });
  }

  /** One meta page (append mode), last. */
  emitMeta(slot: 0 | 1, bytes: Uint8Array): void {
    this.sink({ pgid: slot, offset: slot * this.pageSize, bytes });
  }

  hold(bytes: number): void {
    this.held += bytes;
    if (this.held > this.peakHeld) this.peakHeld = this.held;
  }
}

/** Bytes a page of `contentBytes` occupies: whole pages. */
function pageBytes(contentBytes: number, pageSize: number): number {
  return Math.max(1, Math.ceil(contentBytes / pageSize)) * pageSize;
}

/**
 * Encode a leaf page image. `size` is 16 + Σ(16+|k|+|v|); the image is `size` bytes when `padTo`
 * is 0 (inline bucket pages), else rounded up to whole pages of `padTo`.
 */
function encodeLeaf(keys: Uint8Array[], values: Uint8Array[], flags: number, size: number, padTo: number): Uint8Array {
  const n = keys.length;
  const total = padTo > 0 ? pageBytes(size, padTo) : size;
  const buf = new Uint8Array(total);
  const dv = view(buf);
  dv.setUint16(8, LEAF_PAGE, true);
  dv.setUint16(10, n, true);
  dv.setUint32(12, padTo > 0 ? total / padTo - 1 : 0, true);
  let data = PAGE_HEADER_SIZE + n * ELEMENT_SIZE;
  for (let i = 0; i < n; i++) {
    const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const k = keys[i] as Uint8Array;
    const v = values[i] as Uint8Array;
    dv.setUint32(e, flags, true);
    dv.setUint32(e + 4, data - e, true);
    dv.setUint32(e + 8, k.length, true);
    dv.setUint32(e + 12, v.length, true);
    buf.set(k, data);
    data += k.length;
    buf.set(v, data);
    data += v.length;
  }
  return buf;
}

function encodeBranch(keys: Uint8Array[], pgids: number[], size: number, pageSize: number): Uint8Array {
  const n = keys.length;
  const buf = new Uint8Array(pageBytes(size, pageSize));
  const dv = view(buf);
  dv.setUint16(8, BRANCH_PAGE, true);
  dv.setUint16(10, n, true);
  dv.setUint32(12, buf.length / pageSize - 1, true);
  let data = PAGE_HEADER_SIZE + n * ELEMENT_SIZE;
  for (let i = 0; i < n; i++) {
    const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const k = keys[i] as Uint8Array;
    dv.setUint32(e, data - e, true);
    dv.setUint32(e + 4, k.length, true);
    dv.setBigUint64(e + 8, BigInt(pgids[i] as number), true);
    buf.set(k, data);
    data += k.length;
  }
  return buf;
}

/** The branch page being filled at one level above the leaves. */
interface BranchLevel {
  keys: Uint8Array[];
  pgids: number[];
  size: number;
  /** Pages this level has emitted so far. */
  emitted: number;
}

/**
 * Builds one B+tree bottom-up from items in key order: fills a leaf page, emits it when the next
 * item does not fit, and passes (first key, pgid) of every emitted page to the level above, which
 * does the same. finish() flushes the partial pages upward and returns the root's pgid.
 */
class TreeBuilder {
  private keys: Uint8Array[] = [];
  private values: Uint8Array[] = [];
  private size = PAGE_HEADER_SIZE;
  private leavesEmitted = 0;
  private readonly levels: BranchLevel[] = [];

  constructor(
    private readonly out: PageOut,
    /** Leaf element flags: 0 for key/values, BUCKET_LEAF_FLAG for the root bucket's entries. */
    private readonly flags: number,
  ) {}

  /** `key`/`value` must be copies the builder may keep. */
  add(key: Uint8Array, value: Uint8Array): void {
    const P = this.out.pageSize;
    const el = ELEMENT_SIZE + key.length + value.length;
    if (this.keys.length > 0 && (this.size + el > P || this.keys.length >= MAX_COUNT)) this.flushLeaf(true);
    this.keys.push(key);
    this.values.push(value);
    this.size += el;
    this.out.hold(key.length + value.length);
  }

  /** Flush the partial pages upward; returns the root's pgid and the number of levels. */
  finish(): { root: number; depth: number } {
    // Everything fits one leaf (possibly empty: the root bucket of a db without buckets).
    if (this.levels.length === 0 && this.leavesEmitted === 0) return { root: this.flushLeaf(false), depth: 1 };
    // After the first add a pending page is never empty, so every flush below has content.
    this.flushLeaf(true);
    for (let i = 0; ; i++) {
      const level = this.levels[i] as BranchLevel;
      const top = i === this.levels.length - 1 && level.emitted === 0;
      if (top) return { root: this.flushBranch(i, false), depth: i + 2 };
      this.flushBranch(i, true);
    }
  }

  /** Emit the pending leaf; `up`: pass its first key and pgid to the level above (false for a root). */
  private flushLeaf(up: boolean): number {
    const img = encodeLeaf(this.keys, this.values, this.flags, this.size, this.out.pageSize);
    const first = this.keys[0];
    this.out.hold(-(this.size - PAGE_HEADER_SIZE - this.keys.length * ELEMENT_SIZE));
    const pgid = this.out.emit(img, 'leaf');
    this.leavesEmitted++;
    this.keys = [];
    this.values = [];
    this.size = PAGE_HEADER_SIZE;
    if (up && first) this.addBranch(0, first, pgid);
    return pgid;
  }

  private addBranch(i: number, key: Uint8Array, pgid: number): void {
    let level = this.levels[i];
    if (!level) {
      level = { keys: [], pgids: [], size: PAGE_HEADER_SIZE, emitted: 0 };
      this.levels.push(level);
    }
    const el = ELEMENT_SIZE + key.length;
    // Two elements at least per branch page, so each level halves and the tree has one root.
    if (level.keys.length >= 2 && (level.size + el > this.out.pageSize || level.keys.length >= MAX_COUNT)) this.flushBranch(i, true);
    level.keys.push(key);
    level.pgids.push(pgid);
    level.size += el;
    this.out.hold(key.length);
  }

  private flushBranch(i: number, up: boolean): number {
    const level = this.levels[i] as BranchLevel;
    const img = encodeBranch(level.keys, level.pgids, level.size, this.out.pageSize);
    const first = level.keys[0] as Uint8Array;
    this.out.hold(-(level.size - PAGE_HEADER_SIZE - level.keys.length * ELEMENT_SIZE));
    const pgid = this.out.emit(img, 'branch');
    level.emitted++;
    level.keys = [];
    level.pgids = [];
    level.size = PAGE_HEADER_SIZE;
    if (up) this.addBranch(i + 1, first, pgid);
    return pgid;
  }
}

/** A bucket being written: inline while its leaf image fits P/4, a tree from then on. */
class BucketBuilder {
  private keys: Uint8Array[] = [];
  private values: Uint8Array[] = [];
  private size = PAGE_HEADER_SIZE;
  private tree: TreeBuilder | undefined;
  count = 0;
  last: Uint8Array | undefined;

  constructor(
    private readonly out: PageOut,
    readonly name: Uint8Array,
    private readonly sequence: bigint,
  ) {}

  put(key: Uint8Array, value: Uint8Array): void {
    if (key.length === 0) throw new RangeError(`bucket ${hex(this.name)}: empty key (bbolt refuses it)`);
    if (key.length > MAX_KEY_SIZE) throw new RangeError(`bucket ${hex(this.name)}: key ${hex(key)} is ${key.length} bytes, bbolt's limit is ${MAX_KEY_SIZE}`);
    if (value.length > MAX_VALUE_SIZE) throw new RangeError(`bucket ${hex(this.name)}: value of key ${hex(key)} is ${value.length} bytes, bbolt's limit is ${MAX_VALUE_SIZE}`);
    if (this.last && compareBytes(this.last, key) >= 0)
      throw new RangeError(`bucket ${hex(this.name)}: key ${hex(key)} is not after the previous key ${hex(this.last)} (keys must be strictly ascending)`);
    // Copies: the caller's buffers may be reused or pin large blocks of the source file.
    const k = key.slice();
    const v = value.slice();
    this.last = k;
    this.count++;
    if (this.tree) {
      this.tree.add(k, v);
      return;
    }
    this.keys.push(k);
    this.values.push(v);
    this.size += ELEMENT_SIZE + k.length + v.length;
    this.out.hold(k.length + v.length);
    if (this.size > this.out.pageSize / 4) {
      this.tree = new TreeBuilder(this.out, 0);
      this.out.hold(-(this.size - PAGE_HEADER_SIZE - this.keys.length * ELEMENT_SIZE));
      for (let i = 0; i < this.keys.length; i++) this.tree.add(this.keys[i] as Uint8Array, this.values[i] as Uint8Array);
      this.keys = [];
      this.values = [];
    }
  }

  /** The bucket's value in its parent: 16-byte header, plus the leaf image when inline. */
  finish(): { value: Uint8Array; inline: boolean; depth: number } {
    if (this.tree) {
      const { root, depth } = this.tree.finish();
      const value = new Uint8Array(BUCKET_HEADER_SIZE);
      view(value).setBigUint64(0, BigInt(root), true);
      view(value).setBigUint64(8, this.sequence, true);
      return { value, inline: false, depth };
    }
    const img = encodeLeaf(this.keys, this.values, 0, this.size, 0);
    this.out.hold(-(this.size - PAGE_HEADER_SIZE - this.keys.length * ELEMENT_SIZE));
    const value = new Uint8Array(BUCKET_HEADER_SIZE + img.length);
    view(value).setBigUint64(8, this.sequence, true);
    value.set(img, BUCKET_HEADER_SIZE);
    return { value, inline: true, depth: 0 };
  }
}

/**
 * The push form: `beginBucket`, `put`…, `endBucket` for each bucket in name order (or `bucket()`
 * with an iterable), then `finish()`, which emits the meta pages and returns the summary.
 */
export class BoltWriter {
  readonly pageSize: number;
  private readonly out: PageOut;
  private readonly rootTree: TreeBuilder;
  private readonly txid: bigint;
  private readonly freelist: bigint;
  private readonly append: BoltWriterOptions['append'];
  private current: BucketBuilder | undefined;
  private lastName: Uint8Array | undefined;
  private buckets = 0;
  private inlineBuckets = 0;
  private keys = 0;
  private maxDepth = 0;
  private done = false;

  constructor(sink: ChunkSink, options: BoltWriterOptions = {}) {
    const P = options.pageSize ?? 4096;
    if (!plausiblePageSize(P)) throw new RangeError(`page size ${P}: must be a power of two from 512 to 1 MiB`);
    const txid = options.txid ?? 0n;
    if (txid < 0n || txid >= 0xffff_ffff_ffff_ffffn) throw new RangeError(`txid ${txid}: must be 0 .. 2^64-2`);
    this.pageSize = P;
    this.txid = txid;
    this.append = options.append;
    if (this.append && options.freelist === 'page') throw new RangeError('append mode writes no freelist page (NO_FREELIST)');
    if (this.append && !(Number.isSafeInteger(this.append.pgid) && this.append.pgid >= 2)) throw new RangeError(`append at pgid ${this.append.pgid}: must be 2 or more`);
    const withFreelist = !this.append && (options.freelist ?? 'page') === 'page';
    this.freelist = withFreelist ? 2n : NO_FREELIST;
    this.out = new PageOut(P, sink, this.append?.pgid ?? 2);
    if (this.append) this.out.pages.meta = 1;
    if (withFreelist) {
      const page = new Uint8Array(P);
      view(page).setUint16(8, FREELIST_PAGE, true); // count 0: nothing free
      this.out.emit(page, 'freelist');
    }
    this.rootTree = new TreeBuilder(this.out, BUCKET_LEAF_FLAG);
  }

  beginBucket(name: Uint8Array | string, sequence = 0n): void {
    this.assertOpen();
    if (this.current) throw new Error(`bucket ${hex(this.current.name)} is still open`);
    const n = nameBytes(name).slice();
    if (n.length === 0) throw new RangeError('empty bucket name (bbolt refuses it)');
    if (n.length > MAX_KEY_SIZE) throw new RangeError(`bucket name ${hex(n)} is ${n.length} bytes, bbolt's limit is ${MAX_KEY_SIZE}`);
    if (this.lastName && compareBytes(this.lastName, n) >= 0)
      throw new RangeError(`bucket ${hex(n)} is not after bucket ${hex(this.lastName)} (buckets must come in strictly ascending name order)`);
    this.lastName = n;
    this.current = new BucketBuilder(this.out, n, sequence);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    if (!this.current) throw new Error('put() outside a bucket: call beginBucket() first');
    this.current.put(key, value);
  }

  endBucket(): void {
    const b = this.current;
    if (!b) throw new Error('endBucket() without beginBucket()');
    this.current = undefined;
    const { value, inline, depth } = b.finish();
    this.rootTree.add(b.name, value);
    this.buckets++;
    if (inline) this.inlineBuckets++;
    this.keys += b.count;
    this.maxDepth = Math.max(this.maxDepth, depth);
  }

  /**
   * Add a bucket as it already is in the file being appended to: `value` is its value in the root
   * bucket (16-byte header naming its root page, plus the page image when inline), copied as is.
   * Only in append mode, where the pages it names are there.
   */
  rawBucket(name: Uint8Array | string, value: Uint8Array): void {
    if (!this.append) throw new Error('rawBucket() is for append mode: a fresh file has none of the pages it names');
    if (value.length < BUCKET_HEADER_SIZE) throw new RangeError(`bucket ${hex(nameBytes(name))}: a bucket value is at least ${BUCKET_HEADER_SIZE} bytes, got ${value.length}`);
    this.beginBucket(name);
    const b = this.current as BucketBuilder;
    this.current = undefined;
    this.rootTree.add(b.name, value.slice());
    this.buckets++;
    if (view(value).getBigUint64(0, true) === 0n) this.inlineBuckets++;
  }

  /** Write a whole bucket from an iterable (consumed lazily). */
  bucket(name: Uint8Array | string, items: Iterable<BoltItem>, sequence = 0n): void {
    this.beginBucket(name, sequence);
    for (const item of items) this.put(item.key, item.value);
    this.endBucket();
  }

  /** Emit the root bucket's last pages and the two meta pages (one chunk at offset 0). */
  finish(): BoltWriteSummary {
    this.assertOpen();
    if (this.current) throw new Error(`bucket ${hex(this.current.name)} is still open`);
    this.done = true;
    const { root } = this.rootTree.finish();
    const P = this.pageSize;
    const pgid = this.out.next;
    const common = { pageSize: P, flags: this.append?.flags ?? 0, root: BigInt(root), sequence: this.append?.sequence ?? 0n, freelist: this.freelist, pgid: BigInt(pgid) };
    let txids: BoltWriteSummary['txids'];
    if (this.append) {
      // One meta page, the slot a bbolt commit of this txid writes; the other stays the file's.
      const slot = Number(this.txid % 2n) as 0 | 1;
      this.out.emitMeta(slot, encodeMeta({ ...common, slot, txid: this.txid }));
      txids = slot === 0 ? [this.txid, undefined] : [undefined, this.txid];
    } else {
      const metas = new Uint8Array(2 * P);
      metas.set(encodeMeta({ ...common, slot: 0, txid: this.txid }), 0);
      metas.set(encodeMeta({ ...common, slot: 1, txid: this.txid + 1n }), P);
      this.out.emitMetas(metas);
      txids = [this.txid, this.txid + 1n];
    }
    return {
      pageSize: P,
      pgid,
      fileSize: pgid * P,
      root,
      freelist: this.freelist,
      txids,
      buckets: this.buckets,
      inlineBuckets: this.inlineBuckets,
      keys: this.keys,
      pages: { ...this.out.pages },
      maxDepth: this.maxDepth,
      peakHeldBytes: this.out.peakHeld,
    };
  }

  private assertOpen(): void {
    if (this.done) throw new Error('the writer is finished');
  }
}

/** Write `buckets` (ascending names) through a new BoltWriter into `sink`. */
export function writeBolt(buckets: Iterable<BoltBucket>, sink: ChunkSink, options: BoltWriterOptions = {}): BoltWriteSummary {
  const w = new BoltWriter(sink, options);
  for (const b of buckets) w.bucket(b.name, b.items, b.sequence ?? 0n);
  return w.finish();
}

/**
 * The whole file in memory: for tests and small databases (a db of GBs should go through a sink
 * that writes each chunk at its offset, see src/io/bolt-write.ts).
 */
export function encodeBolt(buckets: Iterable<BoltBucket>, options: BoltWriterOptions = {}): { bytes: Uint8Array; summary: BoltWriteSummary } {
  const chunks: BoltChunk[] = [];
  const summary = writeBolt(buckets, (c) => chunks.push(c), options);
  const bytes = new Uint8Array(summary.fileSize);
  for (const c of chunks) bytes.set(c.bytes, c.offset);
  return { bytes, summary };
}
