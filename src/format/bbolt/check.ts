/**
 * Structural check of a bbolt image, the rules of bbolt's `tx.Check` (which `etcdutl snapshot
 * status` runs first), reporting every problem rather than the first:
 *
 *  - every page id below the high-water mark is reachable exactly once (meta 0, meta 1, the
 *    freelist page and its overflow, every page of every non-inline bucket tree) or free;
 *  - no reachable page is free, and no id is freed twice;
 *  - pages reached through a tree are branch or leaf pages; no pointer leaves the file;
 *  - plus what the walker sees: keys out of order, elements running past their page, cycles.
 *
 * The free set comes from the persisted freelist when the meta names one. etcd does not persist it
 * (NoFreelistSync); bbolt then treats every unreachable page as free, and so does this check.
 */
import type { BoltDb, BucketRef, WalkOptions } from './db.js';
import type { BboltFinding } from './findings.js';
import { FindingLog } from './findings.js';
import { BUCKET_LEAF_FLAG, FREELIST_PAGE, NO_FREELIST, PAGE_HEADER_SIZE, decodePageHeader } from './page.js';

export interface CheckResult {
  /** Findings from opening the file and from this check, in the order found. */
  findings: BboltFinding[];
  /** Pages reachable from the meta (including metas and the freelist page). */
  reachablePages: number;
  /** Pages free (from the freelist, or unreachable when none is persisted). */
  freePages: number;
  /** The high-water mark the check used. */
  highWater: number;
  /** Whether a persisted freelist was read. */
  freelistPersisted: boolean;
}

/**
 * Mark the page ids listed in the persisted freelist in `freed` (and the freelist page itself in
 * `reachable`), with findings for what does not fit. Returns false when no freelist is persisted.
 */
function readFreelist(db: BoltDb, report: (f: BboltFinding) => void, reachable: Uint8Array, freed: Uint8Array): boolean {
  const meta = db.meta;
  if (!meta || meta.freelist === NO_FREELIST) return false;
  const P = db.pageSize;
  const fl = meta.freelist;
  if (fl >= BigInt(db.highWater) || fl < 2n) {
    report({ code: 'bbolt-bad-freelist', pgid: Number(fl > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : fl), offset: meta.slot * P + 48, reason: 'bounds', found: Number(fl & 0xffff_ffffn) });
    return true;
  }
  const n = Number(fl);
  const offset = n * P;
  if (offset + PAGE_HEADER_SIZE > db.source.size) {
    report({ code: 'bbolt-page-past-eof', pgid: n, offset, expected: offset + P, found: db.source.size });
    return true;
  }
  const header = decodePageHeader(db.source.read(offset, PAGE_HEADER_SIZE));
  if (!(header.flags & FREELIST_PAGE)) {
    report({ code: 'bbolt-bad-freelist', pgid: n, offset: offset + 8, reason: 'type', found: header.flags });
    reachable[n] = 1;
    return true;
  }
  const maxPages = Math.min(db.highWater - n, Math.floor((db.source.size - offset) / P));
  let pages = header.overflow + 1;
  if (pages > maxPages) {
    report({ code: 'bbolt-page-overflow-out-of-bounds', pgid: n, offset, overflow: header.overflow, highWater: db.highWater });
    pages = Math.max(1, maxPages);
  }
  for (let i = 0; i < pages; i++) reachable[n + i] = 1;
  const bytes = db.source.read(offset, pages * P);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = header.count;
  let start = PAGE_HEADER_SIZE;
  if (count === 0xffff) {
    if (bytes.length < PAGE_HEADER_SIZE + 8) return true;
    const real = dv.getBigUint64(PAGE_HEADER_SIZE, true);
    start += 8;
    count = real > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(real);
  }
  const fits = Math.floor((bytes.length - start) / 8);
  if (count > fits) {
    report({ code: 'bbolt-bad-freelist', pgid: n, offset: offset + 10, reason: 'count', found: count });
    count = fits;
  }
  for (let i = 0; i < count; i++) {
    const id = dv.getBigUint64(start + i * 8, true);
    if (id >= BigInt(db.highWater)) {
      report({ code: 'bbolt-freelist-out-of-bounds', pgid: id, offset: offset + start + i * 8, highWater: db.highWater });
      continue;
    }
    const k = Number(id);
    if (k >= freed.length) continue; // past the end of the file: reported by open (bbolt-truncated)
    if (freed[k]) report({ code: 'bbolt-page-already-freed', pgid: k, offset: k * P });
    freed[k] = 1;
  }
  return true;
}

/**
 * Check the structure of an opened db. Never throws on bad bytes; memory is one byte per page
 * below the high-water mark (capped at the pages the file actually holds) plus one page per level.
 */
export function check(db: BoltDb): CheckResult {
  const log = new FindingLog();
  for (const f of db.findings) log.report(f);
  const report = log.report;
  const meta = db.meta;
  // Pages past the end of the file are already reported by open (bbolt-truncated).
  const limit = Math.min(db.highWater, db.pagesInFile);
  const reachable = new Uint8Array(Math.max(limit, 2));
  const freed = new Uint8Array(Math.max(limit, 2));
  if (!meta) return { findings: log.findings, reachablePages: 0, freePages: 0, highWater: db.highWater, freelistPersisted: false };

  // reachable[i]: 0 = not reached, 1 = meta or freelist page, 2 = page of a bucket tree.
  reachable[0] = 1;
  reachable[1] = 1;
  const freelistPersisted = readFreelist(db, report, reachable, freed);

  // The walker enters each page once (the shared visited set) and reports re-entries itself; here a
  // page is marked with its overflow, and a clash with a meta, the freelist or another page's
  // overflow is a multiple reference too.
  const mark = (id: number, offset: number): void => {
    if (id >= limit) return;
    if (reachable[id]) report({ code: 'bbolt-page-multiple-references', pgid: id, offset });
    reachable[id] = 2;
    if (freed[id]) report({ code: 'bbolt-page-reachable-freed', pgid: id, offset });
  };
  const walk: WalkOptions = {
    report,
    visited: db.newPageSet(),
    onPage: (v) => {
      // The overflow count is the file's word: clamp it before looping (0xffffffff must not spin).
      const last = Math.min(v.pgid + v.header.overflow, limit - 1);
      for (let id = v.pgid; id <= last; id++) mark(id, id * db.pageSize);
    },
  };

  // Walk the root tree, then every bucket tree, nested buckets included (etcd has none).
  const pending: BucketRef[] = [...db.bucketRefs(walk)];
  while (pending.length > 0) {
    const ref = pending.pop() as BucketRef;
    // Only nested buckets are looked at here (every element is checked all the same). The walk
    // keeps nothing of the pages it reads (transient reads: no dead buffer per block), so what
    // is kept of a nested bucket is copied.
    for (const item of db.bucketItems(ref, { ...walk, bucketsOnly: true, transient: true })) {
      if (!(item.flags & BUCKET_LEAF_FLAG)) continue;
      const nested = db.decodeBucket(item, report);
      // Nested buckets are walked in turn; a nested root seen before stops at the shared visited set.
      if (nested) pending.push({ ...nested, name: nested.name.slice(), ...(nested.inline ? { inline: nested.inline.slice() } : {}) });
    }
  }

  let freePages = 0;
  let reachablePages = 0;
  for (let i = 0; i < limit; i++) {
    if (reachable[i]) reachablePages++;
    if (freelistPersisted) {
      if (freed[i]) freePages++;
      else if (!reachable[i]) report({ code: 'bbolt-page-unreachable-unfreed', pgid: i, offset: i * db.pageSize });
    } else if (!reachable[i]) freePages++;
  }
  return { findings: log.findings, reachablePages, freePages, highWater: db.highWater, freelistPersisted: freelistPersisted };
}
