/**
 * Read-only bbolt reader over a PageSource.
 *
 * It never trusts the freelist (etcd does not persist one, and a damaged file may list live pages
 * as free): trees are walked from the chosen meta. Walks are generators that yield leaf items in
 * key order and hold at most one page per tree level, so memory does not grow with the file.
 * Anything wrong with the bytes becomes a finding (see findings.ts) and the walk goes on with what
 * is still readable: a page is entered at most once per walk, the depth is capped, and every
 * length is checked against the page (plus its overflow) before it is used.
 */
import { FindingLog } from './findings.js';
import type { BboltFinding, MetaSlot, ReportFinding } from './findings.js';
import {
  BRANCH_PAGE,
  BUCKET_HEADER_SIZE,
  BUCKET_LEAF_FLAG,
  ELEMENT_SIZE,
  LEAF_PAGE,
  MAGIC,
  META_SIZE,
  PAGE_HEADER_SIZE,
  VERSION,
  compareBytes,
  decodeMeta,
  decodePageHeader,
  plausiblePageSize,
  searchPage,
} from './page.js';
import type { Meta, PageHeader, PageSource } from './page.js';

/** One leaf element: a key/value pair, or (flags & 1) a nested bucket whose value is a bucket header. */
export interface LeafItem {
  key: Uint8Array;
  value: Uint8Array;
  flags: number;
  /** Page holding the element; 0 for an inline bucket page. */
  pgid: number;
  /** Element index within its page. */
  index: number;
  /** Absolute file offset of the element (for inline pages: inside the parent's value). */
  offset: number;
  /** Absolute file offset of the value bytes. */
  valueOffset: number;
}

/** A bucket as found in its parent: either a tree rooted at `root`, or an inline leaf page. */
export interface BucketRef {
  name: Uint8Array;
  root: bigint;
  sequence: bigint;
  /** The inline page image (value[16:]) when root == 0. */
  inline?: Uint8Array;
  /** Absolute file offset of the bucket value (its 16-byte header). */
  offset: number;
}

/** A page visit, for callers that track reachability (check). */
export interface PageVisit {
  pgid: number;
  header: PageHeader;
  offset: number;
  depth: number;
  /** Page that referenced this one (undefined for a tree root). */
  from: number | undefined;
}

export interface WalkOptions {
  /** Where findings go; defaults to the db's log. */
  report?: ReportFinding;
  /** Pages already entered; shared across walks to detect pages referenced from two trees. */
  visited?: PageSet;
  /** Called for every page entered, before its elements are read. */
  onPage?: (visit: PageVisit) => void;
  /**
   * Yield only nested-bucket elements (flags & 1): every element is still read and checked, with
   * the same findings, but the others are not handed out (a structural check needs none of them,
   * and a million items it drops cost more than the checks).
   */
  bucketsOnly?: boolean;
  /**
   * The caller keeps nothing of an item once it has asked for the next: pages are read with the
   * source's `readTransient` when it has one (a long walk then reuses a few buffers instead of
   * allocating one per block), so an item's bytes are valid only until the walk moves on. The walk
   * copies what it keeps itself (the branch pages on its path, the key it compares the next with).
   */
  transient?: boolean;
  /**
   * Yield the items last first (descending keys: the last child first at every level, a page's
   * elements last first). The walk enters the same pages and reports the same findings as the
   * forward one, in another order, and yields the same items reversed, except when a page is
   * referenced twice: each walk enters it where it first meets it (and reports
   * `bbolt-page-multiple-references` where it meets it again).
   */
  reverse?: boolean;
}

export interface OpenOptions {
  /** Use this meta page instead of the newest valid one (forensics: the previous commit). */
  meta?: MetaSlot;
  /** Deepest tree level followed (a real bbolt tree is < 10 deep). Default 64. */
  maxDepth?: number;
  /** Cap on recorded findings. Default 10,000. */
  findingLimit?: number;
}

const MAX_DEPTH = 64;
/** The magic as it reads from a file written on a big-endian host. */
const MAGIC_SWAPPED = 0xedda0ced;
const MIN_PROBE = 1024;

const utf8 = new TextDecoder('utf-8', { fatal: false });
const textEncoder = new TextEncoder();

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16)) + (bytes[at + 3] as number) * 0x1000000;
}

function u64(bytes: Uint8Array, at: number): bigint {
  return BigInt(u32(bytes, at)) | (BigInt(u32(bytes, at + 4)) << 32n);
}

/** Meta validity as bbolt sees it: magic, version and checksum. */
function metaProblems(m: Meta, offset: number): BboltFinding[] {
  const out: BboltFinding[] = [];
  if (m.magic === MAGIC_SWAPPED) out.push({ code: 'bbolt-big-endian', meta: m.slot, offset: offset + 16 });
  else if (m.magic !== MAGIC) out.push({ code: 'bbolt-bad-magic', meta: m.slot, offset: offset + 16, expected: MAGIC, found: m.magic });
  else if (m.version !== VERSION) out.push({ code: 'bbolt-bad-version', meta: m.slot, offset: offset + 20, expected: VERSION, found: m.version });
  if (m.checksum !== m.computedChecksum)
    out.push({ code: 'bbolt-meta-checksum', meta: m.slot, offset: offset + 72, expected: m.computedChecksum, found: m.checksum });
  if (m.magic === MAGIC && !plausiblePageSize(m.pageSize))
    out.push({ code: 'bbolt-bad-page-size', meta: m.slot, offset: offset + 24, found: m.pageSize });
  return out;
}

function readMetaAt(source: PageSource, offset: number, slot: MetaSlot): Meta | undefined {
  if (offset + META_SIZE > source.size) return undefined;
  const bytes = source.read(offset, META_SIZE);
  if (bytes.length < META_SIZE) return undefined;
  return decodeMeta(bytes, slot);
}

export function bucketName(name: Uint8Array | string): Uint8Array {
  return typeof name === 'string' ? textEncoder.encode(name) : name;
}

export function nameText(name: Uint8Array): string {
  return utf8.decode(name);
}

/**
 * A set of page ids as a bitmap: one bit per page of the file (an 8 GiB db costs 256 KiB), where a
 * Set<number> would cost tens of bytes per page. Ids outside the range are never members.
 */
export class PageSet {
  private readonly bits: Uint8Array;
  constructor(readonly capacity: number) {
    this.bits = new Uint8Array(Math.ceil(Math.max(0, capacity) / 8));
  }
  has(id: number): boolean {
    return id >= 0 && id < this.capacity && ((this.bits[id >> 3] as number) & (1 << (id & 7))) !== 0;
  }
  add(id: number): void {
    if (id >= 0 && id < this.capacity) this.bits[id >> 3] = (this.bits[id >> 3] as number) | (1 << (id & 7));
  }
}

/** An opened bbolt image. Construct with openBolt(). */
export class BoltDb {
  /** Both meta pages as decoded (undefined when unreadable), and which were valid. */
  readonly metas: readonly [Meta | undefined, Meta | undefined];
  readonly metaValid: readonly [boolean, boolean];
  /** The meta in use; undefined when neither is usable. */
  readonly meta: Meta | undefined;
  readonly pageSize: number;
  /** Pages with id >= highWater are out of bounds. 0 when there is no usable meta. */
  readonly highWater: number;
  private readonly log: FindingLog;
  private readonly maxDepth: number;

  constructor(
    readonly source: PageSource,
    options: OpenOptions = {},
  ) {
    this.log = new FindingLog(options.findingLimit);
    this.maxDepth = options.maxDepth ?? MAX_DEPTH;
    const report = this.log.report;

    // Learn the page size: meta 0's if it validates, else probe for a valid meta 1.
    const m0 = readMetaAt(source, 0, 0);
    let pageSize = 4096;
    const m0ok = m0 !== undefined && metaProblems(m0, 0).length === 0;
    if (m0ok) pageSize = m0.pageSize;
    else {
      for (let p = MIN_PROBE; p <= 1 << 20; p *= 2) {
        const m = readMetaAt(source, p, 1);
        if (m && m.pageSize === p && metaProblems(m, p).length === 0) {
          pageSize = p;
          break;
        }
      }
    }
    this.pageSize = pageSize;
    const m1 = readMetaAt(source, pageSize, 1);
    if (source.size < 2 * pageSize) report({ code: 'bbolt-file-too-small', offset: 0, expected: 2 * pageSize, found: source.size });

    const valid: [boolean, boolean] = [false, false];
    const metas: [Meta | undefined, Meta | undefined] = [m0, m1];
    metas.forEach((m, slot) => {
      if (!m) return;
      const problems = metaProblems(m, slot * pageSize);
      problems.forEach(report);
      valid[slot] = problems.length === 0;
    });
    this.metas = metas;
    this.metaValid = valid;
    if (m0 && m1 && valid[0] && valid[1] && m0.pageSize !== m1.pageSize)
      report({ code: 'bbolt-meta-page-size-mismatch', offset: pageSize + 24, expected: m0.pageSize, found: m1.pageSize });

    let chosen: Meta | undefined;
    if (options.meta !== undefined) {
      const m = metas[options.meta];
      if (m && m.magic === MAGIC && plausiblePageSize(m.pageSize)) chosen = m;
    } else if (valid[0] && valid[1] && m0 && m1) chosen = m1.txid > m0.txid ? m1 : m0;
    else if (valid[0] || valid[1]) {
      const used: MetaSlot = valid[0] ? 0 : 1;
      const rejected: MetaSlot = used === 0 ? 1 : 0;
      chosen = metas[used];
      if (chosen) report({ code: 'bbolt-meta-fallback', offset: rejected * pageSize, used, rejected, usedTxid: chosen.txid });
    }
    if (!chosen) report({ code: 'bbolt-no-valid-meta', offset: 0 });
    this.meta = chosen;

    let highWater = 0;
    if (chosen) {
      highWater = chosen.pgid > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(chosen.pgid);
      const logical = highWater * pageSize;
      if (logical > source.size) report({ code: 'bbolt-truncated', offset: source.size, expected: logical, found: source.size, pgid: highWater });
    }
    this.highWater = highWater;
  }

  /** Findings so far (opening, and every walk done through this object). */
  get findings(): readonly BboltFinding[] {
    return this.log.findings;
  }

  /** An empty set able to hold every page id a walk can enter. */
  newPageSet(): PageSet {
    return new PageSet(Math.min(this.highWater, this.pagesInFile));
  }

  /** `tx.Size()`: the logical size of the database, pgid × P. */
  get logicalSize(): number {
    return this.highWater * this.pageSize;
  }

  /** Last page id covered by the file's bytes (pages from here on are past EOF). */
  get pagesInFile(): number {
    return Math.floor(this.source.size / this.pageSize);
  }

  report(finding: BboltFinding): void {
    this.log.report(finding);
  }

  /**
   * Read one page (with its overflow) for a tree walk. Returns undefined, with a finding, when the
   * id is out of bounds or the page is not in the file; a page whose overflow runs past the end is
   * returned cut to what exists (its elements are then bounds-checked). `ref` says who pointed here:
   * the referencing page (if any) and the file offset of the pointer, for the out-of-bounds finding.
   */
  readPage(
    pgid: bigint | number,
    ref: { from?: number | undefined; at: number } = { at: 0 },
    report: ReportFinding = this.log.report,
    transient = false,
  ): { header: PageHeader; bytes: Uint8Array; offset: number; pgid: number } | undefined {
    const id = typeof pgid === 'bigint' ? pgid : BigInt(pgid);
    if (id >= BigInt(this.highWater) || id < 0n) {
      report({ code: 'bbolt-page-out-of-bounds', pgid: id, offset: ref.at, highWater: this.highWater, ...(ref.from === undefined ? {} : { from: ref.from }) });
      return undefined;
    }
    const n = Number(id);
    const P = this.pageSize;
    const offset = n * P;
    if (offset + P > this.source.size) {
      report({ code: 'bbolt-page-past-eof', pgid: n, offset, expected: offset + P, found: this.source.size });
      return undefined;
    }
    const src = this.source;
    const first = transient && src.readTransient ? src.readTransient(offset, PAGE_HEADER_SIZE) : src.read(offset, PAGE_HEADER_SIZE);
    if (first.length < PAGE_HEADER_SIZE) {
      report({ code: 'bbolt-page-past-eof', pgid: n, offset, expected: offset + P, found: this.source.size });
      return undefined;
    }
    const header = decodePageHeader(first);
    if (header.id !== id) report({ code: 'bbolt-page-id-mismatch', pgid: n, offset, expected: id, found: header.id });
    let pages = 1;
    if (header.overflow > 0) {
      // Check the overflow against the high-water mark and the file before allocating.
      const maxPages = Math.min(this.highWater - n, Math.floor((this.source.size - offset) / P));
      if (header.overflow + 1 > maxPages) {
        report({ code: 'bbolt-page-overflow-out-of-bounds', pgid: n, offset, overflow: header.overflow, highWater: this.highWater });
        pages = Math.max(1, maxPages);
      } else pages = header.overflow + 1;
    }
    const bytes = transient && src.readTransient ? src.readTransient(offset, pages * P) : src.read(offset, pages * P);
    return { header, bytes, offset, pgid: n };
  }

  /**
   * Walk the tree rooted at `root`, yielding leaf elements in key order (nested-bucket elements
   * included, flagged). Damage becomes findings; the walk skips what it cannot read.
   */
  walkTree(root: bigint, options: WalkOptions = {}, refOffset = 0): Generator<LeafItem, void, undefined> {
    const ctx: WalkCtx = {
      report: options.report ?? this.log.report,
      visited: options.visited ?? this.newPageSet(),
      onPage: options.onPage,
      lastKey: undefined,
      bucketsOnly: options.bucketsOnly ?? false,
      transient: options.transient ?? false,
    };
    const start: ChildRef = { pgid: root, depth: 0, from: undefined, at: refOffset, lo: undefined, hi: undefined };
    return options.reverse ? this.walkPagesReverse(start, ctx) : this.walkPages(start, ctx);
  }

  /**
   * The walk from one root page, depth first, children in order. One generator with an explicit
   * stack of the branch pages on the path (not one generator per level): an item is handed up
   * once, however deep the tree (a million items through four nested generators cost more than
   * reading them). A child's `lo`/`hi`: the key range its parent gives the subtree, [its element's
   * key, the next element's key); as bbolt's check, the first key must be >= lo and every key < hi.
   */
  private *walkPages(root: ChildRef, ctx: WalkCtx): Generator<LeafItem, void, undefined> {
    const path: BranchFrame[] = [];
    let next: ChildRef | undefined = root;
    for (;;) {
      if (next === undefined) {
        const top = path[path.length - 1];
        if (!top) return;
        if (top.i >= top.count) {
          path.pop();
          continue;
        }
        next = childRef(top, top.i++);
      }
      const page = this.enter(next, ctx);
      next = undefined;
      if (page === undefined) continue;
      if (page.kind === 'branch') {
        path.push(page.frame);
        continue;
      }
      const { bytes, pgid: n, offset, header, lo, hi } = page;
      const count = elementCount(header, bytes, n, offset, ctx.report);
      for (let i = 0; i < count; i++) {
        const item = leafItem(bytes, n, offset, i, ctx, lo, hi);
        if (item) yield item;
      }
      // The next page's first key is compared with this one, read after other pages.
      if (ctx.transient && ctx.lastKey) ctx.lastKey = ctx.lastKey.slice();
    }
  }

  /**
   * walkPages backwards: the same pages entered with the same checks, the children and elements
   * taken last first. The keys' order is checked between the same neighbours as going forward, and
   * reported at the same (the later) element.
   */
  private *walkPagesReverse(root: ChildRef, ctx: WalkCtx): Generator<LeafItem, void, undefined> {
    const path: BranchFrame[] = [];
    // leafItem checks the order against ctx.lastKey, which going backwards is the next key: it gets
    // none, and the check is made here against `later`, the item handed out before.
    const itemCtx: WalkCtx = { ...ctx, lastKey: undefined, bucketsOnly: false };
    let later: { key: Uint8Array; pgid: number; offset: number; index: number } | undefined;
    let next: ChildRef | undefined = root;
    for (;;) {
      if (next === undefined) {
        const top = path[path.length - 1];
        if (!top) return;
        if (top.i < 0) {
          path.pop();
          continue;
        }
        next = childRef(top, top.i--);
      }
      const page = this.enter(next, ctx);
      next = undefined;
      if (page === undefined) continue;
      if (page.kind === 'branch') {
        page.frame.i = page.frame.count - 1;
        path.push(page.frame);
        continue;
      }
      const { bytes, pgid: n, offset, header, lo, hi } = page;
      const count = elementCount(header, bytes, n, offset, ctx.report);
      for (let i = count - 1; i >= 0; i--) {
        itemCtx.lastKey = undefined;
        const item = leafItem(bytes, n, offset, i, itemCtx, lo, hi);
        if (!item) continue;
        if (later && compareBytes(item.key, later.key) >= 0) ctx.report({ code: 'bbolt-keys-out-of-order', pgid: later.pgid, offset: later.offset, index: later.index });
        later = { key: item.key, pgid: n, offset: item.offset, index: i };
        if (!ctx.bucketsOnly || item.flags & BUCKET_LEAF_FLAG) yield item;
      }
      if (ctx.transient && later) later.key = later.key.slice();
    }
  }

  /**
   * A page the walk steps into, with the checks made on entering it (both walks): a branch comes
   * back as the frame of its children (`i` at the first), a leaf as its bytes; anything else is
   * reported and skipped.
   */
  private enter(ref: ChildRef, ctx: WalkCtx): { kind: 'branch'; frame: BranchFrame } | { kind: 'leaf'; bytes: Uint8Array; pgid: number; offset: number; header: PageHeader; lo: Uint8Array | undefined; hi: Uint8Array | undefined } | undefined {
    const { pgid, depth, from, at, lo, hi } = ref;
    const page = this.readPage(pgid, { from, at }, ctx.report, ctx.transient);
    if (!page) return undefined;
    const { header, offset } = page;
    let bytes = page.bytes;
    const n = page.pgid;
    if (ctx.visited?.has(n)) {
      ctx.report({ code: 'bbolt-page-multiple-references', pgid: n, offset, ...(from === undefined ? {} : { from }) });
      return undefined;
    }
    ctx.visited?.add(n);
    ctx.onPage?.({ pgid: n, header, offset, depth, from });
    if (depth >= this.maxDepth) {
      ctx.report({ code: 'bbolt-tree-too-deep', pgid: n, offset, depth });
      return undefined;
    }
    if (header.flags & LEAF_PAGE && !(header.flags & BRANCH_PAGE)) return { kind: 'leaf', bytes, pgid: n, offset, header, lo, hi };
    if (!(header.flags & BRANCH_PAGE)) {
      ctx.report({ code: 'bbolt-page-bad-type', pgid: n, offset: offset + 8, expected: 'branch|leaf', found: header.flags });
      return undefined;
    }
    // Kept until its subtree is done (its keys bound the children's): a copy when reads are transient.
    if (ctx.transient) bytes = bytes.slice();
    const count = elementCount(header, bytes, n, offset, ctx.report);
    if (header.count === 0) ctx.report({ code: 'bbolt-branch-empty', pgid: n, offset });
    // Keys first (all in this page, already read), so each child knows its range.
    const keys: (Uint8Array | undefined)[] = [];
    let prev: Uint8Array | undefined;
    for (let i = 0; i < count; i++) {
      const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      const end = e + u32(bytes, e) + u32(bytes, e + 4);
      if (end > bytes.length) {
        ctx.report({ code: 'bbolt-element-out-of-bounds', pgid: n, offset: offset + e, index: i, expected: end, found: bytes.length });
        keys.push(undefined);
        continue;
      }
      const key = bytes.subarray(e + u32(bytes, e), end);
      if (prev && compareBytes(prev, key) >= 0) ctx.report({ code: 'bbolt-keys-out-of-order', pgid: n, offset: offset + e, index: i });
      checkRange(key, i, i === 0 ? lo : undefined, hi, n, offset + e, ctx.report);
      keys.push(key);
      prev = key;
    }
    // upper[i]: the next readable key after element i, or the parent's bound.
    const upper: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(count);
    let bound = hi;
    for (let i = count - 1; i >= 0; i--) {
      upper[i] = bound;
      bound = keys[i] ?? bound;
    }
    return { kind: 'branch', frame: { pgid: n, bytes, offset, depth, count, i: 0, keys, upper, lo } };
  }

  /** Items of an inline bucket page image. */
  *walkInline(ref: BucketRef, options: WalkOptions = {}): Generator<LeafItem, void, undefined> {
    const report = options.report ?? this.log.report;
    const img = ref.inline;
    if (!img) return;
    const at = ref.offset + BUCKET_HEADER_SIZE;
    const name = nameText(ref.name);
    if (img.length < PAGE_HEADER_SIZE) {
      report({ code: 'bbolt-bad-bucket-value', offset: ref.offset, bucket: name, expected: BUCKET_HEADER_SIZE + PAGE_HEADER_SIZE, found: BUCKET_HEADER_SIZE + img.length });
      return;
    }
    const header = decodePageHeader(img);
    if (!(header.flags & LEAF_PAGE) || header.overflow !== 0) {
      report({ code: 'bbolt-bad-inline-page', offset: at, bucket: name, flags: header.flags, overflow: header.overflow });
      if (!(header.flags & LEAF_PAGE)) return;
    }
    yield* leafItems(img, 0, at, header, { report, visited: undefined, onPage: undefined, lastKey: undefined });
  }

  /** Items of a bucket, whichever way it is stored. */
  bucketItems(ref: BucketRef, options: WalkOptions = {}): Generator<LeafItem, void, undefined> {
    if (ref.inline && options.reverse) return reversed([...this.walkInline(ref, options)]);
    return ref.inline ? this.walkInline(ref, options) : this.walkTree(ref.root, options, ref.offset);
  }

  /**
   * The last item of a bucket (its greatest key) by descending the rightmost path: reads one page
   * per level instead of the whole bucket (etcd's current revision is the last key of `key`).
   * Damage on the way becomes findings; undefined when nothing readable is there.
   */
  lastItem(bucket: string | Uint8Array | BucketRef, options: WalkOptions = {}): LeafItem | undefined {
    const ref = typeof bucket === 'object' && 'name' in bucket && !(bucket instanceof Uint8Array) ? bucket : this.bucket(bucket);
    if (!ref) return undefined;
    let last: LeafItem | undefined;
    if (ref.inline) {
      for (const item of this.walkInline(ref, options)) last = item;
      return last;
    }
    const report = options.report ?? this.log.report;
    let pgid = ref.root;
    let from: number | undefined;
    let at = ref.offset;
    for (let depth = 0; depth < this.maxDepth; depth++) {
      const page = this.readPage(pgid, { from, at }, report);
      if (!page) return undefined;
      const { header, bytes, offset } = page;
      if (header.flags & BRANCH_PAGE) {
        const count = elementCount(header, bytes, page.pgid, offset, report);
        if (count === 0) return undefined;
        const e = PAGE_HEADER_SIZE + (count - 1) * ELEMENT_SIZE;
        pgid = u64(bytes, e + 8);
        from = page.pgid;
        at = offset + e + 8;
        continue;
      }
      if (header.flags & LEAF_PAGE) {
        const ctx: WalkCtx = { report, visited: undefined, onPage: undefined, lastKey: undefined };
        for (const item of leafItems(bytes, page.pgid, offset, header, ctx, undefined, undefined)) last = item;
        return last;
      }
      report({ code: 'bbolt-page-bad-type', pgid: page.pgid, offset: offset + 8, expected: 'branch|leaf', found: header.flags });
      return undefined;
    }
    return undefined;
  }

  /** Decode a bucket value (16-byte header + optional inline page). */
  decodeBucket(item: LeafItem, report: ReportFinding = this.log.report): BucketRef | undefined {
    const v = item.value;
    const valueOffset = item.valueOffset;
    if (v.length < BUCKET_HEADER_SIZE) {
      report({ code: 'bbolt-bad-bucket-value', offset: valueOffset, bucket: nameText(item.key), expected: BUCKET_HEADER_SIZE, found: v.length });
      return undefined;
    }
    const root = u64(v, 0);
    const ref: BucketRef = { name: item.key, root, sequence: u64(v, 8), offset: valueOffset };
    if (root === 0n) ref.inline = v.subarray(BUCKET_HEADER_SIZE);
    return ref;
  }

  /** Top-level buckets in name order. Non-bucket elements of the root tree become findings. */
  *bucketRefs(options: WalkOptions = {}): Generator<BucketRef, void, undefined> {
    if (!this.meta) return;
    const report = options.report ?? this.log.report;
    for (const item of this.walkTree(this.meta.root, options, this.meta.slot * this.pageSize + 32)) {
      if (!(item.flags & BUCKET_LEAF_FLAG)) {
        report({ code: 'bbolt-root-item-not-bucket', pgid: item.pgid, offset: item.offset, index: item.index, found: item.flags });
        continue;
      }
      const ref = this.decodeBucket(item, report);
      if (ref) yield ref;
    }
  }

  /** Names of the top-level buckets, in order. */
  buckets(): string[] {
    return [...this.bucketRefs()].map((b) => nameText(b.name));
  }

  /** Find a top-level bucket by name. */
  bucket(name: string | Uint8Array): BucketRef | undefined {
    const want = bucketName(name);
    for (const ref of this.bucketRefs()) {
      const c = compareBytes(ref.name, want);
      if (c === 0) return ref;
    }
    return undefined;
  }

  /** Items of a top-level bucket in key order (nothing if the bucket does not exist). */
  *items(bucket: string | Uint8Array | BucketRef, options: WalkOptions = {}): Generator<LeafItem, void, undefined> {
    const ref = bucket instanceof Uint8Array || typeof bucket === 'string' ? this.bucket(bucket) : bucket;
    if (ref) yield* this.bucketItems(ref, options);
  }

  /**
   * Where bbolt's cursor lands looking for `key` in a bucket (`ref`; the root tree of buckets when
   * undefined): down the branches by binary search (the last element whose key is <= `key`), then
   * the first leaf element whose key is >= `key`. With `next` (Cursor.Seek, what etcd's reads use)
   * a landing past a leaf's last element moves on to the next leaf's first; without it (the seek
   * behind Bucket.Get and tx.Bucket) it finds nothing there. An inline bucket is one leaf.
   * Binary search trusts the keys' order: on a page out of order it can miss a key that a walk
   * meets, and etcd then reads nothing. A page that cannot be read ends the seek: undefined.
   */
  seek(ref: BucketRef | undefined, key: Uint8Array, opts: { next: boolean }): LeafItem | undefined {
    const quiet: ReportFinding = () => {};
    const ctx: WalkCtx = { report: quiet, visited: undefined, onPage: undefined, lastKey: undefined };
    const leafAt = (bytes: Uint8Array, pgid: number, offset: number, count: number, i: number): LeafItem | undefined => {
      ctx.lastKey = undefined;
      return i < count ? leafItem(bytes, pgid, offset, i, ctx, undefined, undefined) : undefined;
    };
    const searchLeaf = (bytes: Uint8Array, pgid: number, offset: number, count: number): number => searchPage(count, (i) => leafAt(bytes, pgid, offset, count, i)?.key ?? EMPTY_KEY, key, false);
    if (ref?.inline) {
      const img = ref.inline;
      if (img.length < PAGE_HEADER_SIZE) return undefined;
      const header = decodePageHeader(img);
      if (!(header.flags & LEAF_PAGE)) return undefined;
      const at = ref.offset + BUCKET_HEADER_SIZE;
      const count = elementCount(header, img, 0, at, quiet);
      return leafAt(img, 0, at, count, searchLeaf(img, 0, at, count));
    }
    if (ref === undefined && !this.meta) return undefined;
    /** The branch pages on the way down, and the element taken in each. */
    const stack: { bytes: Uint8Array; offset: number; pgid: number; count: number; i: number }[] = [];
    let pgid = ref?.root ?? this.meta!.root;
    for (;;) {
      if (stack.length > this.maxDepth) return undefined;
      const page = this.readPage(pgid, { at: 0 }, quiet);
      if (!page) return undefined;
      const { header, bytes, offset } = page;
      const count = elementCount(header, bytes, page.pgid, offset, quiet);
      if (header.flags & LEAF_PAGE) {
        const i = searchLeaf(bytes, page.pgid, offset, count);
        if (i < count || !opts.next) return leafAt(bytes, page.pgid, offset, count, i);
        return this.nextLeafFirst(stack, quiet);
      }
      if (!(header.flags & BRANCH_PAGE) || count === 0) return undefined; // bbolt panics on such a page
      const i = searchPage(count, (j) => branchKey(bytes, j), key, true);
      stack.push({ bytes, offset, pgid: page.pgid, count, i });
      pgid = u64(bytes, PAGE_HEADER_SIZE + i * ELEMENT_SIZE + 8);
    }
  }

  /** Cursor.next from past the end of a leaf: up to the first branch with a child to the right, then down its first leaf's first element (empty leaves are passed over). */
  private nextLeafFirst(stack: { bytes: Uint8Array; offset: number; pgid: number; count: number; i: number }[], quiet: ReportFinding): LeafItem | undefined {
    for (let guard = 0; guard < 1 << 16; guard++) {
      let top = stack.length - 1;
      while (top >= 0 && stack[top]!.i >= stack[top]!.count - 1) top--;
      if (top < 0) return undefined;
      stack.length = top + 1;
      const frame = stack[top]!;
      frame.i++;
      let pgid = u64(frame.bytes, PAGE_HEADER_SIZE + frame.i * ELEMENT_SIZE + 8);
      for (;;) {
        if (stack.length > this.maxDepth) return undefined;
        const page = this.readPage(pgid, { at: 0 }, quiet);
        if (!page) return undefined;
        const count = elementCount(page.header, page.bytes, page.pgid, page.offset, quiet);
        if (page.header.flags & LEAF_PAGE) {
          if (count === 0) break; // an empty leaf: move on
          return leafItem(page.bytes, page.pgid, page.offset, 0, { report: quiet, visited: undefined, onPage: undefined, lastKey: undefined }, undefined, undefined);
        }
        if (!(page.header.flags & BRANCH_PAGE) || count === 0) return undefined;
        stack.push({ bytes: page.bytes, offset: page.offset, pgid: page.pgid, count, i: 0 });
        pgid = u64(page.bytes, PAGE_HEADER_SIZE + 8);
      }
    }
    return undefined;
  }

  /**
   * The item etcd reads for `key` in top-level bucket `bucket`: tx.Bucket finds the bucket (a seek
   * in the root tree, without moving on), then UnsafeRange seeks the key (Cursor.Seek) and takes
   * the item only if its key is exactly `key`. Undefined where etcd reads nothing.
   */
  etcdGet(bucket: string | Uint8Array, key: string | Uint8Array): LeafItem | undefined {
    const name = bucketName(bucket);
    const b = this.seek(undefined, name, { next: false });
    if (!b || !(b.flags & BUCKET_LEAF_FLAG) || compareBytes(b.key, name) !== 0) return undefined;
    const ref = this.decodeBucket(b, () => {});
    if (!ref) return undefined;
    const k = bucketName(key);
    const hit = this.seek(ref, k, { next: true });
    return hit && compareBytes(hit.key, k) === 0 ? hit : undefined;
  }

  /** The value of one key in a top-level bucket (a scan: fine for etcd's small meta buckets). */
  get(bucket: string | Uint8Array | BucketRef, key: string | Uint8Array): Uint8Array | undefined {
    const k = bucketName(key);
    for (const item of this.items(bucket)) {
      const c = compareBytes(item.key, k);
      if (c === 0) return item.value;
      if (c > 0) break;
    }
    return undefined;
  }
}

/** A page to enter: its id, where the pointer to it is, and the key range its parent gives it. */
interface ChildRef {
  pgid: bigint;
  depth: number;
  from: number | undefined;
  at: number;
  lo: Uint8Array | undefined;
  hi: Uint8Array | undefined;
}

/** A branch page on the walk's path, and the next of its children to enter. */
interface BranchFrame {
  pgid: number;
  bytes: Uint8Array;
  offset: number;
  depth: number;
  count: number;
  i: number;
  keys: (Uint8Array | undefined)[];
  upper: (Uint8Array | undefined)[];
  lo: Uint8Array | undefined;
}

/** The ChildRef of a branch frame's element i: its page, and the key range its parent gives it. */
function childRef(top: BranchFrame, i: number): ChildRef {
  const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
  return { pgid: u64(top.bytes, e + 8), depth: top.depth + 1, from: top.pgid, at: top.offset + e + 8, lo: top.keys[i] ?? (i === 0 ? top.lo : undefined), hi: top.upper[i] };
}

interface WalkCtx {
  report: ReportFinding;
  visited: PageSet | undefined;
  onPage: ((visit: PageVisit) => void) | undefined;
  lastKey: Uint8Array | undefined;
  /** WalkOptions.bucketsOnly. */
  bucketsOnly?: boolean;
  /** WalkOptions.transient. */
  transient?: boolean;
}

/** Number of elements whose 16-byte headers fit in the page; a finding when some do not. */
function elementCount(header: PageHeader, bytes: Uint8Array, pgid: number, offset: number, report: ReportFinding): number {
  const need = PAGE_HEADER_SIZE + header.count * ELEMENT_SIZE;
  if (need <= bytes.length) return header.count;
  report({ code: 'bbolt-element-array-overflow', pgid, offset, count: header.count, expected: need, found: bytes.length });
  return Math.max(0, Math.floor((bytes.length - PAGE_HEADER_SIZE) / ELEMENT_SIZE));
}

/** A key outside the range its parent branch gives the subtree. */
function checkRange(key: Uint8Array, index: number, lo: Uint8Array | undefined, hi: Uint8Array | undefined, pgid: number, offset: number, report: ReportFinding): void {
  if ((lo && compareBytes(lo, key) > 0) || (hi && compareBytes(key, hi) >= 0)) report({ code: 'bbolt-key-outside-parent-range', pgid, offset, index });
}

function* leafItems(
  bytes: Uint8Array,
  pgid: number,
  offset: number,
  header: PageHeader,
  ctx: WalkCtx,
  lo?: Uint8Array,
  hi?: Uint8Array,
): Generator<LeafItem, void, undefined> {
  const count = elementCount(header, bytes, pgid, offset, ctx.report);
  for (let i = 0; i < count; i++) {
    const item = leafItem(bytes, pgid, offset, i, ctx, lo, hi);
    if (item) yield item;
  }
}

/**
 * Element `i` of a leaf page (its header within the page, see elementCount), with the findings a
 * walk makes about it; undefined when it runs past the page. `lo` applies to element 0 only.
 */
function leafItem(bytes: Uint8Array, pgid: number, offset: number, i: number, ctx: WalkCtx, lo: Uint8Array | undefined, hi: Uint8Array | undefined): LeafItem | undefined {
  const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
  const flags = u32(bytes, e);
  const pos = u32(bytes, e + 4);
  const ksize = u32(bytes, e + 8);
  const vsize = u32(bytes, e + 12);
  const kstart = e + pos;
  const end = kstart + ksize + vsize;
  if (end > bytes.length) {
    ctx.report({ code: 'bbolt-element-out-of-bounds', pgid, offset: offset + e, index: i, expected: end, found: bytes.length });
    return undefined;
  }
  const key = bytes.subarray(kstart, kstart + ksize);
  if (ksize === 0) ctx.report({ code: 'bbolt-empty-key', pgid, offset: offset + e, index: i });
  if (ctx.lastKey && compareBytes(ctx.lastKey, key) >= 0) ctx.report({ code: 'bbolt-keys-out-of-order', pgid, offset: offset + e, index: i });
  checkRange(key, i, i === 0 ? lo : undefined, hi, pgid, offset + e, ctx.report);
  ctx.lastKey = key;
  if (ctx.bucketsOnly && !(flags & BUCKET_LEAF_FLAG)) return undefined;
  return { key, value: bytes.subarray(kstart + ksize, end), flags, pgid, index: i, offset: offset + e, valueOffset: offset + kstart + ksize };
}

const EMPTY_KEY = new Uint8Array(0);

/** Branch element i's key (empty when it runs past the page: bbolt would read beyond it). */
function branchKey(bytes: Uint8Array, i: number): Uint8Array {
  const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
  const end = e + u32(bytes, e) + u32(bytes, e + 4);
  return end > bytes.length ? EMPTY_KEY : bytes.subarray(e + u32(bytes, e), end);
}

function* reversed<T>(items: T[]): Generator<T, void, undefined> {
  for (let i = items.length - 1; i >= 0; i--) yield items[i]!;
}

/** Open a bbolt image. Never throws on bad bytes: look at `db.findings` and `db.meta`. */
export function openBolt(source: PageSource, options: OpenOptions = {}): BoltDb {
  return new BoltDb(source, options);
}
