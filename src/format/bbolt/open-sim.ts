/**
 * What bbolt's `Open` does with a file, as etcd calls it (read-write, `NoFreelistSync`, so the
 * freelist is rebuilt by walking every reachable page), release line by release line:
 *
 *  - size 0: a new, empty database (etcd then starts from consistent index 0);
 *  - the page size comes from the first valid meta; no readable meta → `invalid database`;
 *  - fewer than two pages → `file size too small`; both metas invalid → meta 0's error;
 *  - the freelist: read from its page when the meta names one (`invalid freelist page` when it is
 *    not one), otherwise `freepages()` walks every bucket tree and panics on the first problem its
 *    check reports. bbolt ≥ 1.3.7 also asserts each page it reads names itself and has one type,
 *    and checks key order against the parents; 1.3.6 does neither.
 *
 * The file is memory-mapped far beyond its end (etcd maps 10 GiB), so a read past the end is a
 * fault (SIGBUS), not an error: the process dies with exit status 2. Reads here go through a
 * bounds check that records the first such read as that fault. The rest of the file's last 4 KiB
 * page is mapped too, as zeros (OS_PAGE): a db cut inside a page reads zeros there, and bbolt or
 * etcd fail on what they make of them (3.4 on a db cut at 137,427 bytes: `proto: KeyValue: illegal
 * tag 0`, where a fault was predicted).
 *
 * Everything is in the order bbolt does it, so the first failure is the one etcd dies on, and its
 * text is bbolt's (`openFailureText`).
 */
import { compareBytes, searchPage, decodeMeta, decodePageHeader, BRANCH_PAGE, ELEMENT_SIZE, FREELIST_PAGE, LEAF_PAGE, MAGIC, META_PAGE, META_SIZE, NO_FREELIST, PAGE_HEADER_SIZE, VERSION, BUCKET_LEAF_FLAG, BUCKET_HEADER_SIZE } from './page.js';
import type { Meta, PageSource } from './page.js';

/** How a bbolt release line behaves at open. */
export interface BoltLine {
  name: string;
  /** ≥ 1.3.7: every page read through a transaction must name itself and carry exactly one type. */
  pageAssert: boolean;
  /** ≥ 1.3.7: `freepages` also checks key order within pages and against the parent branch. */
  keyOrder: boolean;
  /** ≥ 1.4: `file size too small <n>`; before: without the size. */
  sizeInMessage: boolean;
  /** ≤ 1.3.x: a meta checksum of 0 is accepted. */
  zeroChecksumOk: boolean;
  /** ≥ 1.3.7: when meta 0 is unusable the page size is probed from a meta at 1 KiB << i. */
  probeSecondMeta: boolean;
}

export const BOLT_1_3_6: BoltLine = { name: '1.3.6', pageAssert: false, keyOrder: false, sizeInMessage: false, zeroChecksumOk: true, probeSecondMeta: false };
export const BOLT_1_3_12: BoltLine = { name: '1.3.12', pageAssert: true, keyOrder: true, sizeInMessage: false, zeroChecksumOk: true, probeSecondMeta: true };
export const BOLT_1_4: BoltLine = { name: '1.4.3', pageAssert: true, keyOrder: true, sizeInMessage: true, zeroChecksumOk: false, probeSecondMeta: true };
export const BOLT_1_5: BoltLine = { name: '1.5.0', pageAssert: true, keyOrder: true, sizeInMessage: true, zeroChecksumOk: false, probeSecondMeta: true };

export type OpenFailure =
  /** No meta page could even be read (file shorter than 4 KiB and no second meta found). */
  | { code: 'invalid-database' }
  | { code: 'file-size-too-small'; size: number }
  /** Both metas fail validation: meta 0's reason. */
  | { code: 'meta-invalid'; reason: 'invalid' | 'version' | 'checksum' }
  /** A read past the end of the file (or of any sane mapping): the process dies on SIGBUS/SIGSEGV. */
  | { code: 'fault'; offset: number; pgid: bigint }
  /** ≥ 1.3.7: a page read for id N names itself M. */
  | { code: 'page-id-assert'; pgid: bigint; found: bigint }
  /** ≥ 1.3.7: a page read carries no single known type. */
  | { code: 'page-flags-assert'; pgid: bigint; flags: number }
  /** `freepages` found a problem; `error` is bbolt's text for it. */
  | { code: 'freepages'; pgid: bigint; error: string }
  /** The meta names a freelist page that is not one. */
  | { code: 'invalid-freelist'; pgid: bigint; type: string }
  /** A page claims so many overflow pages that marking them reachable does not end (Go loops ~2^32 times). */
  | { code: 'overflow-runaway'; pgid: bigint; overflow: number }
  /** A key or value slice ends past Go's 2 GiB unsafe array (a garbage size in an element). */
  | { code: 'slice-bounds'; pgid: bigint; end: number }
  /** A tree that leads back to one of its own pages: bbolt recurses until Go's stack overflows. */
  | { code: 'stack-overflow'; pgid: bigint };

export type OpenResult =
  | { ok: true; newDb: true }
  | {
      ok: true;
      newDb: false;
      pageSize: number;
      meta: Meta;
      /** Pages reached from the meta (buckets' trees with their overflow). */
      reachablePages: number;
      /** The meta that failed validation while the other was used. */
      metaFallback: 0 | 1 | undefined;
      /** The file as bbolt reads it, for what etcd reads next (its buckets). */
      view: BoltView;
    }
  /**
   * bbolt dies. `failure` is the first thing that kills it; when that is a panic in freepages'
   * goroutine, the main goroutine runs on and may die first of `racesWith` (found in the walk) or of
   * what etcd reads next (`view` and `meta` are given to find that).
   */
  | { ok: false; failure: OpenFailure; racesWith?: OpenFailure; view?: BoltView; meta?: Meta };

/** Thrown inside the walk to stop it at the first failure, as the panic does. */
class Stop {
  constructor(readonly failure: OpenFailure) {}
}

const MAX_OVERFLOW_WALK = 1 << 24;
/**
 * A real bbolt tree is a few levels deep; one that keeps descending loops back on itself, and bbolt
 * recurses until Go's stack overflows. Deeper than this counts as that.
 */
const MAX_TREE_DEPTH = 256;

function metaError(m: Meta, line: BoltLine): 'invalid' | 'version' | 'checksum' | undefined {
  if (m.magic !== MAGIC) return 'invalid';
  if (m.version !== VERSION) return 'version';
  if (m.checksum !== m.computedChecksum && !(line.zeroChecksumOk && m.checksum === 0n)) return 'checksum';
  return undefined;
}

function readMeta(src: PageSource, offset: number, slot: 0 | 1): Meta | undefined {
  if (offset + 0x1000 > src.size && offset + META_SIZE > src.size) return undefined;
  const b = src.read(offset, Math.min(0x1000, src.size - offset));
  if (b.length < PAGE_HEADER_SIZE + META_SIZE - PAGE_HEADER_SIZE) return undefined;
  return decodeMeta(b, slot);
}

/**
 * bbolt's page size discovery (`getPageSize`): meta 0 when its first 4 KiB read whole and validate;
 * else a valid meta at 1 KiB << i; else, if any of those could be read, the default 4096.
 */
function pageSizeOf(src: PageSource, line: BoltLine): number | undefined {
  let canRead = false;
  if (src.size >= 0x1000) {
    canRead = true;
    const m = decodeMeta(src.read(0, 0x1000), 0);
    if (metaError(m, line) === undefined) return m.pageSize;
  } else if (!line.probeSecondMeta) return undefined;
  if (!line.probeSecondMeta) return 4096;
  for (let i = 0; i <= 14; i++) {
    const pos = 1024 * 2 ** i;
    if (pos >= src.size - 1024) break;
    canRead = true;
    const m = decodeMeta(src.read(pos, Math.min(0x1000, src.size - pos)), 1);
    if (metaError(m, line) === undefined) return m.pageSize;
  }
  return canRead ? 4096 : undefined;
}

/**
 * Simulate bbolt's Open on `src` as etcd runs it. Pure: reads through `src`, never throws on bad
 * bytes, memory bounded by the pages reachable (one Set entry per page).
 */
export function simulateOpen(src: PageSource, line: BoltLine): OpenResult {
  if (src.size === 0) return { ok: true, newDb: true };
  const P = pageSizeOf(src, line);
  if (P === undefined) return { ok: false, failure: { code: 'invalid-database' } };
  if (src.size < 2 * P) return { ok: false, failure: { code: 'file-size-too-small', size: src.size } };
  const m0 = readMeta(src, 0, 0);
  const m1 = readMeta(src, P, 1);
  const e0 = m0 ? metaError(m0, line) : 'invalid';
  const e1 = m1 ? metaError(m1, line) : 'invalid';
  if (e0 !== undefined && e1 !== undefined) return { ok: false, failure: { code: 'meta-invalid', reason: e0 } };
  // db.meta(): the higher txid when it validates, else the other.
  let meta: Meta;
  let metaFallback: 0 | 1 | undefined;
  if (e0 === undefined && e1 === undefined) meta = m1!.txid > m0!.txid ? m1! : m0!;
  else if (e0 === undefined) {
    meta = m0!;
    metaFallback = 1;
  } else {
    meta = m1!;
    metaFallback = 0;
  }
  const walk = new BoltView(src, P, meta, line);
  try {
    if (meta.freelist !== NO_FREELIST) walk.readFreelist(meta.freelist);
    else walk.bucket(meta.root);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    // A failure in the walk itself (assertion, fault) ends it there; an earlier async one races it.
    return walk.async ? { ok: false, failure: walk.async, racesWith: e.failure } : { ok: false, failure: e.failure };
  }
  if (walk.async) return { ok: false, failure: walk.async, view: walk, meta };
  return { ok: true, newDb: false, pageSize: P, meta, reachablePages: walk.reachable.size, metaFallback, view: walk };
}

interface LeafElement {
  flags: number;
  key: Uint8Array;
  keyAt: number;
  valueAt: number;
  vsize: number;
  /** pos + ksize + vsize: where Go's slice of the value ends, relative to the element. */
  valueEnd: number;
  pgid: bigint;
}

interface PageRef {
  id: bigint;
  offset: number;
  flags: number;
  count: number;
  overflow: number;
}

/** Go's limit for the unsafe byte arrays bbolt slices keys and values from (amd64). */
const MAX_ALLOC_SIZE = 0x7fffffff;
/** The OS page: past the end of a mapped file, the rest of its last one reads as zeros (4 KiB on x86-64 and most arm64 kernels). */
const OS_PAGE = 4096;

/**
 * A set of page ids, as bbolt's reachable map: one bit per page the file can hold, and a Set for
 * ids beyond (garbage in a damaged file), so memory stays a bit per page whatever the db's size.
 */
export class PageIdSet {
  private readonly bits: Uint8Array;
  private readonly others = new Set<bigint>();
  private count = 0;

  constructor(pages: number) {
    this.bits = new Uint8Array(Math.ceil(Math.max(0, pages) / 8));
  }

  get size(): number {
    return this.count;
  }

  has(id: bigint): boolean {
    if (id >= 0n && id < BigInt(this.bits.length * 8)) {
      const n = Number(id);
      return (this.bits[n >>> 3]! & (1 << (n & 7))) !== 0;
    }
    return this.others.has(id);
  }

  add(id: bigint): void {
    if (id >= 0n && id < BigInt(this.bits.length * 8)) {
      const n = Number(id);
      const m = 1 << (n & 7);
      if ((this.bits[n >>> 3]! & m) === 0) {
        this.bits[n >>> 3]! |= m;
        this.count++;
      }
      return;
    }
    if (!this.others.has(id)) {
      this.others.add(id);
      this.count++;
    }
  }
}

const u32 = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, i: number): bigint => {
  const lo = u32(b, i);
  const hi = u32(b, i + 4);
  return hi < 0x200000 ? BigInt(hi * 0x1_0000_0000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
};

/**
 * The file as bbolt's transaction code sees it: pages at id × P, elements and the keys and values
 * they point at read wherever they point (bounded only by the end of the file, where a real read
 * would fault). Failures stop the walk with the failure bbolt or Go would die on.
 */
export class BoltView {
  readonly reachable: PageIdSet;
  /** The end of what reads reach without a fault: the file, then zeros to the end of its last OS page. */
  private readonly readable: number;
  private readonly hwm: bigint;
  // The first P bytes of the page read last: its elements, and the keys inside it, are read from
  // there (what lies beyond — overflow pages, pointers out of the page — goes through bytes()).
  private imageAt = -1;
  private image: Uint8Array = new Uint8Array(0);
  // Reads go through the source's readTransient when it has one: a walk over a multi-GB db then
  // reuses its buffers instead of leaving a dead one per block read for the GC (tens of MB of RSS).
  // Those bytes are valid only while a few more blocks are read, so the view keeps nothing across
  // reads: the page image is dropped at every other read, and the keys it holds on to beyond the
  // element it is at (the bounds keyOrder passes down, a bucket's name and inline image) are copies.
  private readonly transient: boolean;
  private readonly rd: (offset: number, length: number) => Uint8Array;

  constructor(
    private readonly src: PageSource,
    private readonly P: number,
    meta: Meta,
    private readonly line: BoltLine,
  ) {
    this.hwm = meta.pgid;
    this.reachable = new PageIdSet(Math.floor(src.size / P) + 1);
    this.readable = Math.ceil(src.size / OS_PAGE) * OS_PAGE;
    const transient = src.readTransient?.bind(src);
    this.transient = transient !== undefined;
    this.rd = transient ?? src.read.bind(src);
  }

  /** Bytes the caller keeps beyond the next few reads: a copy when reads are transient. */
  private keep(b: Uint8Array): Uint8Array {
    return this.transient ? b.slice() : b;
  }

  private bytes(offset: number, length: number, pgid: bigint): Uint8Array {
    if (offset < 0 || offset + length > this.readable) throw new Stop({ code: 'fault', offset: Math.max(offset, this.readable), pgid });
    if (this.transient) this.imageAt = -1;
    return this.mapped(offset, length);
  }

  /** `length` bytes at `offset` (< readable) as the mapping shows them: the file's, then zeros. */
  private mapped(offset: number, length: number): Uint8Array {
    if (offset + length <= this.src.size) return this.rd(offset, length);
    const out = new Uint8Array(length);
    if (offset < this.src.size) out.set(this.rd(offset, this.src.size - offset));
    return out;
  }

  /** The bytes of page `p` within its first P bytes and the file (never faults: only what is there). */
  private imageOf(p: PageRef): Uint8Array {
    if (p.offset !== this.imageAt) {
      this.imageAt = p.offset;
      this.image = p.offset < this.readable ? this.mapped(p.offset, Math.min(this.P, this.readable - p.offset)) : new Uint8Array(0);
    }
    return this.image;
  }

  /** tx.page(id): the page at id × P, with ≥ 1.3.7's assertion. */
  private page(id: bigint): PageRef {
    const off = Number(id) * this.P;
    if (id > BigInt(Number.MAX_SAFE_INTEGER) / BigInt(this.P)) throw new Stop({ code: 'fault', offset: this.readable, pgid: id });
    const h = decodePageHeader(this.bytes(off, PAGE_HEADER_SIZE, id));
    if (this.line.pageAssert) {
      if (h.id !== id) throw new Stop({ code: 'page-id-assert', pgid: id, found: h.id });
      if (h.flags !== BRANCH_PAGE && h.flags !== LEAF_PAGE && h.flags !== META_PAGE && h.flags !== FREELIST_PAGE) {
        throw new Stop({ code: 'page-flags-assert', pgid: h.id, flags: h.flags });
      }
    }
    return { id: h.id, offset: off, flags: h.flags, count: h.count, overflow: h.overflow };
  }

  /**
   * A problem bbolt's check reports on its channel: a goroutine panics on it while this walk (the
   * main goroutine) goes on, so the process dies of whichever comes first. The first is kept and
   * the walk continues, to find what else may win that race.
   */
  private fail(pgid: bigint, error: string): void {
    if (this.async === undefined) this.async = { code: 'freepages', pgid, error };
  }

  /** The first error `freepages` sent to its panicking goroutine. */
  async: OpenFailure | undefined;

  private branchChild(p: PageRef, i: number): { key: Uint8Array; pgid: bigint } {
    const rel = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const e = p.offset + rel;
    let img = this.imageOf(p);
    let at = rel;
    if (rel + ELEMENT_SIZE > img.length) {
      img = this.bytes(e, ELEMENT_SIZE, p.id);
      at = 0;
    }
    const pos = u32(img, at);
    const ksize = u32(img, at + 4);
    const pgid = u64(img, at + 8);
    return { key: this.keyOf(p, rel + pos, ksize), pgid };
  }

  /** The key at `rel` bytes into page `p`: from the page image when it lies inside, else read (and bounds-checked). */
  private keyOf(p: PageRef, rel: number, ksize: number): Uint8Array {
    const img = this.imageOf(p);
    return rel + ksize <= img.length ? img.subarray(rel, rel + ksize) : this.bytes(p.offset + rel, ksize, p.id);
  }

  private leafElement(p: PageRef, i: number): LeafElement {
    const rel = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const e = p.offset + rel;
    let img = this.imageOf(p);
    let at = rel;
    if (rel + ELEMENT_SIZE > img.length) {
      img = this.bytes(e, ELEMENT_SIZE, p.id);
      at = 0;
    }
    const flags = u32(img, at);
    const pos = u32(img, at + 4);
    const ksize = u32(img, at + 8);
    const vsize = u32(img, at + 12);
    if (pos + ksize > MAX_ALLOC_SIZE) throw new Stop({ code: 'slice-bounds', pgid: p.id, end: pos + ksize });
    return { flags, key: this.keyOf(p, rel + pos, ksize), keyAt: e + pos, valueAt: e + pos + ksize, vsize, valueEnd: pos + ksize + vsize, pgid: p.id };
  }

  /** leafElement(p, i)'s flags, after the same reads and with the same failures, building nothing. */
  private leafFlags(p: PageRef, i: number): number {
    const rel = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    let img = this.imageOf(p);
    let at = rel;
    if (rel + ELEMENT_SIZE > img.length) {
      img = this.bytes(p.offset + rel, ELEMENT_SIZE, p.id);
      at = 0;
    }
    const pos = u32(img, at + 4);
    const ksize = u32(img, at + 8);
    if (pos + ksize > MAX_ALLOC_SIZE) throw new Stop({ code: 'slice-bounds', pgid: p.id, end: pos + ksize });
    if (rel + pos + ksize > this.imageOf(p).length) this.bytes(p.offset + rel + pos, ksize, p.id); // keyOf's read
    return u32(img, at);
  }

  /** The value of a leaf element, read as bbolt slices it (a fault past the end of the file). */
  value(el: LeafElement): Uint8Array {
    if (el.valueEnd > MAX_ALLOC_SIZE) throw new Stop({ code: 'slice-bounds', pgid: el.pgid, end: el.valueEnd });
    return this.bytes(el.valueAt, el.vsize, el.pgid);
  }

  /**
   * A value for a reader that touches its bytes in order and may stop early (an unmarshal that
   * fails): the part inside the file, and whether the rest lies past its end. Reading that part
   * faults, so the caller decides with `fault()` whether it would have been reached.
   */
  valueInFile(el: LeafElement): { bytes: Uint8Array; cut: boolean } {
    if (el.valueEnd > MAX_ALLOC_SIZE) throw new Stop({ code: 'slice-bounds', pgid: el.pgid, end: el.valueEnd });
    const end = Math.min(el.valueAt + el.vsize, this.readable);
    if (el.valueAt > end) throw new Stop({ code: 'fault', offset: this.readable, pgid: el.pgid });
    if (this.transient) this.imageAt = -1;
    return { bytes: this.mapped(el.valueAt, end - el.valueAt), cut: end < el.valueAt + el.vsize };
  }

  /** The read past the end of the file that a reader of `el`'s value reached. */
  fault(el: LeafElement): never {
    throw new Stop({ code: 'fault', offset: this.readable, pgid: el.pgid });
  }

  /**
   * Run `fn` over the view; a failure bbolt or Go would die on comes back instead of throwing.
   */
  run(fn: (view: BoltView) => void): OpenFailure | undefined {
    try {
      fn(this);
      return undefined;
    } catch (e) {
      if (e instanceof Stop) return e.failure;
      throw e;
    }
  }

  /** Top-level buckets: name and root (0 for an inline bucket, whose page image is `inline`). */
  *buckets(root: bigint): Generator<{ name: Uint8Array; root: bigint; inline: Uint8Array | undefined; at: number }> {
    for (const item of this.items(root)) {
      if (!(item.flags & BUCKET_LEAF_FLAG)) continue;
      const v = this.value(item);
      if (v.length < BUCKET_HEADER_SIZE) continue;
      const r = new DataView(v.buffer, v.byteOffset, v.length).getBigUint64(0, true);
      yield { name: this.keep(item.key), root: r, inline: r === 0n ? this.keep(v.subarray(BUCKET_HEADER_SIZE)) : undefined, at: item.valueAt };
    }
  }

  /** Items of an inline bucket page image (read inside its value, as bbolt does). */
  *inlineItems(img: Uint8Array, at: number): Generator<{ key: Uint8Array; value: Uint8Array; flags: number; valueAt: number }> {
    if (img.length < PAGE_HEADER_SIZE) return;
    const h = decodePageHeader(img);
    for (let i = 0; i < h.count; i++) {
      const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      if (e + ELEMENT_SIZE > img.length) return;
      const dv = new DataView(img.buffer, img.byteOffset + e, ELEMENT_SIZE);
      const pos = dv.getUint32(4, true);
      const ksize = dv.getUint32(8, true);
      const vsize = dv.getUint32(12, true);
      if (e + pos + ksize + vsize > img.length) {
        // Past the inline image bbolt reads the parent page's bytes that follow: read them the same way.
        const key = this.bytes(at + e + pos, ksize, 0n);
        yield { key, value: this.bytes(at + e + pos + ksize, vsize, 0n), flags: dv.getUint32(0, true), valueAt: at + e + pos + ksize };
        continue;
      }
      yield { key: img.subarray(e + pos, e + pos + ksize), value: img.subarray(e + pos + ksize, e + pos + ksize + vsize), flags: dv.getUint32(0, true), valueAt: at + e + pos + ksize };
    }
  }

  /** The freelist named by the meta: it must be a freelist page; its ids are read. */
  readFreelist(id: bigint): void {
    const off = Number(id) * this.P;
    const h = decodePageHeader(this.bytes(off, PAGE_HEADER_SIZE, id));
    if (!(h.flags & FREELIST_PAGE)) throw new Stop({ code: 'invalid-freelist', pgid: h.id, type: pageTyp(h.flags, this.line) });
    let count = h.count;
    let start = off + PAGE_HEADER_SIZE;
    if (count === 0xffff) {
      const c = this.bytes(start, 8, id);
      count = Number(new DataView(c.buffer, c.byteOffset, 8).getBigUint64(0, true) & 0x7fff_ffffn);
      start += 8;
    }
    this.bytes(start, count * 8, id);
  }

  /** recursivelyCheckBucket (≥ 1.3.7) / checkBucket (1.3.6) on a bucket rooted at `root`. */
  bucket(root: bigint, depth = 0): void {
    if (root === 0n) return; // inline bucket
    if (depth > MAX_TREE_DEPTH) throw new Stop({ code: 'stack-overflow', pgid: root });
    this.forEachPage(root, [root]);
    if (this.line.keyOrder) this.keyOrder(root, undefined, undefined, []);
    // ForEachBucket / ForEach: each element flagged as a bucket, in key order, opened by name
    // (b.Bucket(k) seeks it again from the root) and checked in turn.
    this.eachBucketItem(root, 0, (item) => {
      const name = this.keep(item.key);
      const found = this.seek(root, name);
      if (!found || !(found.flags & BUCKET_LEAF_FLAG) || compareBytes(found.key, name) !== 0) return;
      const header = this.value(found).subarray(0, BUCKET_HEADER_SIZE);
      if (header.length < 8) return;
      const childRoot = new DataView(header.buffer, header.byteOffset, header.length).getBigUint64(0, true);
      this.bucket(childRoot, depth + 1);
    });
  }

  /**
   * The elements of a tree flagged as buckets, in order, each handed to `fn` where items() would
   * yield it: the walk reads the same pages and elements and fails the same way, without building
   * the elements that are not buckets (a million in etcd's `key` bucket).
   */
  private eachBucketItem(id: bigint, depth: number, fn: (el: LeafElement) => void): void {
    if (depth > MAX_TREE_DEPTH) throw new Stop({ code: 'stack-overflow', pgid: id });
    const p = this.page(id);
    if (p.flags & LEAF_PAGE) {
      for (let i = 0; i < p.count; i++) if (this.leafFlags(p, i) & BUCKET_LEAF_FLAG) fn(this.leafElement(p, i));
      return;
    }
    for (let i = 0; i < Math.max(p.count, 1); i++) this.eachBucketItem(this.branchChild(p, i).pgid, depth + 1, fn);
  }

  /**
   * Cursor.seek: down the branch pages by binary search (the last element whose key is <= `key`),
   * then the first leaf element whose key is >= `key`. Pages that are not leaves are read as branches.
   */
  seek(root: bigint, key: Uint8Array): LeafElement | undefined {
    let id = root;
    for (let depth = 0; ; depth++) {
      if (depth > MAX_TREE_DEPTH) throw new Stop({ code: 'stack-overflow', pgid: id });
      const p = this.page(id);
      if (p.flags & LEAF_PAGE) {
        const i = searchPage(p.count, (j) => this.leafElement(p, j).key, key, false);
        return i < p.count ? this.leafElement(p, i) : undefined;
      }
      id = this.branchChild(p, searchPage(p.count, (j) => this.branchChild(p, j).key, key, true)).pgid;
    }
  }

  /** Leaf elements of a tree in order, as a cursor reads them. */
  *items(id: bigint, depth = 0): Generator<LeafElement> {
    if (depth > MAX_TREE_DEPTH) throw new Stop({ code: 'stack-overflow', pgid: id });
    const p = this.page(id);
    if (p.flags & LEAF_PAGE) {
      for (let i = 0; i < p.count; i++) yield this.leafElement(p, i);
      return;
    }
    // The cursor takes any page that is not a leaf for a branch, and first() descends through
    // element 0 even when the page says it has none (a zeroed page leads to page 0's bytes).
    for (let i = 0; i < Math.max(p.count, 1); i++) yield* this.items(this.branchChild(p, i).pgid, depth + 1);
  }

  private forEachPage(id: bigint, stack: bigint[]): void {
    if (stack.length > MAX_TREE_DEPTH) throw new Stop({ code: 'stack-overflow', pgid: id });
    const p = this.page(id);
    const again = this.reachable.has(p.id);
    this.verifyReachable(p, stack);
    // A page met twice was walked already (after the first async error only the race matters);
    // one met again among its own ancestors is a cycle, which bbolt recurses into until its stack
    // overflows.
    if (again && this.async !== undefined) {
      if (stack.slice(0, -1).includes(id)) throw new Stop({ code: 'stack-overflow', pgid: id });
      return;
    }
    if (p.flags & BRANCH_PAGE) {
      for (let i = 0; i < p.count; i++) {
        const child = this.branchChild(p, i).pgid;
        this.forEachPage(child, [...stack, child]);
      }
    }
  }

  private verifyReachable(p: PageRef, stack: bigint[]): void {
    const st = this.line.pageAssert ? ` (stack: ${goSlice(stack)})` : '';
    if (p.id > this.hwm) this.fail(p.id, `page ${p.id}: out of bounds: ${this.hwm}${st}`);
    if (p.overflow > MAX_OVERFLOW_WALK) throw new Stop({ code: 'overflow-runaway', pgid: p.id, overflow: p.overflow });
    for (let i = 0n; i <= BigInt(p.overflow); i++) {
      const id = p.id + i;
      if (this.reachable.has(id)) this.fail(id, `page ${id}: multiple references${st}`);
      this.reachable.add(id);
    }
    const isBranch = this.line.pageAssert ? p.flags === BRANCH_PAGE : (p.flags & BRANCH_PAGE) !== 0;
    const isLeaf = this.line.pageAssert ? p.flags === LEAF_PAGE : (p.flags & LEAF_PAGE) !== 0;
    if (!isBranch && !isLeaf) this.fail(p.id, `page ${p.id}: invalid type: ${pageTyp(p.flags, this.line)}${st}`);
  }

  /** recursivelyCheckPageKeyOrderInternal: keys sorted, and within [min, maxOpen) from the parents. */
  private keyOrder(id: bigint, min: Uint8Array | undefined, maxOpen: Uint8Array | undefined, stack: bigint[]): Uint8Array | undefined {
    if (stack.length > MAX_TREE_DEPTH) throw new Stop({ code: 'stack-overflow', pgid: id });
    const p = this.page(id);
    const pages = [...stack, id];
    if (p.flags & BRANCH_PAGE) {
      let runningMin = min;
      let maxInSubtree: Uint8Array | undefined;
      for (let i = 0; i < p.count; i++) {
        const el = this.branchChild(p, i);
        this.verifyKeyOrder(el.pgid, 'branch', i, el.key, runningMin, maxOpen, pages);
        // the subtree below is read between here and the bounds' last use
        const minKey = this.keep(el.key);
        const maxKey = i < p.count - 1 ? this.keep(this.branchChild(p, i + 1).key) : maxOpen;
        maxInSubtree = this.keyOrder(el.pgid, minKey, maxKey, pages);
        runningMin = maxInSubtree;
      }
      return maxInSubtree;
    }
    if (p.flags & LEAF_PAGE) {
      let runningMin = min;
      let last: Uint8Array | undefined;
      for (let i = 0; i < p.count; i++) {
        const el = this.leafElement(p, i);
        this.verifyKeyOrder(id, 'leaf', i, el.key, runningMin, maxOpen, pages);
        runningMin = el.key; // compared with the next element only: its reads stay within the page's few blocks
        last = el.key;
      }
      return last && this.keep(last);
    }
    this.fail(id, `unexpected page type (flags: ${p.flags.toString(16)}) for pgId:${id}`);
    return undefined;
  }

  private verifyKeyOrder(pgid: bigint, kind: string, i: number, key: Uint8Array, prev: Uint8Array | undefined, maxOpen: Uint8Array | undefined, stack: bigint[]): void {
    const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : '');
    if (i === 0 && prev !== undefined && compareBytes(prev, key) > 0) {
      this.fail(pgid, `the first key[${i}]=(hex)${hex(key)} on ${kind} page(${pgid}) needs to be >= the key in the ancestor (${hex(prev)}). Stack: ${goSlice(stack)}`);
    }
    if (i > 0) {
      const c = compareBytes(prev ?? new Uint8Array(0), key);
      if (c > 0) this.fail(pgid, `key[${i}]=(hex)${hex(key)} on ${kind} page(${pgid}) needs to be > (found <) than previous element (hex)${hex(prev)}. Stack: ${goSlice(stack)}`);
      if (c === 0) this.fail(pgid, `key[${i}]=(hex)${hex(key)} on ${kind} page(${pgid}) needs to be > (found =) than previous element (hex)${hex(prev)}. Stack: ${goSlice(stack)}`);
    }
    // bbolt prints the previous key here, not the bound it compared with.
    if (maxOpen !== undefined && compareBytes(key, maxOpen) >= 0) {
      this.fail(pgid, `key[${i}]=(hex)${hex(key)} on ${kind} page(${pgid}) needs to be < than key of the next element in ancestor (hex)${hex(prev)}. Pages stack: ${goSlice(stack)}`);
    }
  }
}

/** page.typ(): 1.3.6 tests flag bits, ≥ 1.4 exact values; both fall back to unknown<xx>. */
function pageTyp(flags: number, line: BoltLine): string {
  const is = (f: number) => (line.pageAssert ? flags === f : (flags & f) !== 0);
  if (is(BRANCH_PAGE)) return 'branch';
  if (is(LEAF_PAGE)) return 'leaf';
  if (is(META_PAGE)) return 'meta';
  if (is(FREELIST_PAGE)) return 'freelist';
  return `unknown<${flags.toString(16).padStart(2, '0')}>`;
}

/** Go's %v of a []Pgid: `[3 18]`. */
function goSlice(ids: readonly bigint[]): string {
  return `[${ids.join(' ')}]`;
}

/** The error etcd logs with `failed to open database`, or the panic/fault that ends it, in bbolt's words. */
export function openFailureText(f: OpenFailure, line: BoltLine): string {
  switch (f.code) {
    case 'invalid-database':
      return 'invalid database';
    case 'file-size-too-small':
      return line.sizeInMessage ? `file size too small ${f.size}` : 'file size too small';
    case 'meta-invalid':
      return f.reason === 'invalid' ? 'invalid database' : f.reason === 'version' ? 'version mismatch' : 'checksum error';
    case 'fault':
      return 'unexpected fault address (SIGBUS: a page lies past the end of the file)';
    case 'page-id-assert':
      return `assertion failed: Page expected to be: ${f.pgid}, but self identifies as ${f.found}`;
    case 'page-flags-assert':
      return `assertion failed: page ${f.pgid}: has unexpected type/flags: ${f.flags.toString(16)}`;
    case 'freepages':
      return `freepages: failed to get all reachable pages (${f.error})`;
    case 'invalid-freelist':
      return `invalid freelist page: ${f.pgid}, page type is ${f.type}`;
    case 'stack-overflow':
      return 'stack overflow';
    case 'slice-bounds':
      return `runtime error: slice bounds out of range [::${f.end}] with length ${MAX_ALLOC_SIZE}`;
    case 'overflow-runaway':
      return `page ${f.pgid} claims ${f.overflow} overflow pages: bbolt marks each reachable and does not finish`;
  }
}
