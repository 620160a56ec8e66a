/**
 * Copy a bbolt db through the writer: every top-level bucket of the source, read by walking its
 * tree from the meta (the freelist is never consulted), into a fresh compact file, with the
 * caller able to replace a bucket's contents, edit keys in it, drop it, or add buckets it lacks.
 *
 * A damaged source can hand out items the writer must refuse (keys out of order or repeated, an
 * empty key, a nested bucket, which etcd never has). copyDb drops those and lists them in its
 * summary instead of throwing; the source's own findings stay in `src.findings`.
 */
import type { BoltDb, BucketRef } from './db.js';
import { bucketName, nameText } from './db.js';
import { BUCKET_HEADER_SIZE, BUCKET_LEAF_FLAG, compareBytes } from './page.js';
import { BoltWriter, MAX_KEY_SIZE } from './writer.js';
import type { BoltItem, BoltWriteSummary, BoltWriterOptions, ChunkSink } from './writer.js';

/**
 * Decide a bucket's new contents. `items` are the source's (already in strict key order; empty for
 * a bucket from `ensureBuckets` that the source lacks). Return them (or a wrapped stream, e.g.
 * `withKeys(items, ...)`) to write, new items (strictly ascending) to replace them, or null to
 * leave the bucket out.
 */
export type BucketTransform = (bucket: string, items: Iterable<BoltItem>, ref: BucketRef | undefined) => Iterable<BoltItem> | null;

export interface CopyOptions extends BoltWriterOptions {
  transform?: BucketTransform;
  /** Buckets to create (empty, then through `transform`) when the source has none of that name. */
  ensureBuckets?: readonly (string | Uint8Array)[];
  /** Keep each bucket's sequence from the source (default true; etcd never uses it). */
  keepSequence?: boolean;
  /** How many skipped items to list (all are counted). Default 100. */
  skippedLimit?: number;
}

export type SkipReason = 'out-of-order' | 'empty-key' | 'key-too-large' | 'nested-bucket' | 'bucket-out-of-order';

export interface SkippedItem {
  bucket: string;
  /** The key (or bucket name) as lower-case hex. */
  keyHex: string;
  reason: SkipReason;
  /** File offset of the element in the source. */
  offset: number;
}

export interface CopySummary extends BoltWriteSummary {
  /** Source items (or buckets) not copied, up to `skippedLimit`. */
  skipped: SkippedItem[];
  skippedCount: number;
  /** Buckets the transform left out. */
  droppedBuckets: string[];
  /** Buckets created from `ensureBuckets`. */
  addedBuckets: string[];
}

const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * Read every bucket of `src` in name order and write it through a BoltWriter into `sink`
 * (see writer.ts for the chunk contract), applying `options.transform`. Memory stays bounded: the
 * source is walked lazily and the writer holds one page per level.
 */
export function copyDb(src: BoltDb, sink: ChunkSink, options: CopyOptions = {}): CopySummary {
  return copyInto(src, new BoltWriter(sink, options), options, false);
}

/**
 * A commit on a copy of `src`, as etcdutl's restore makes one on its copy of the db: only the
 * buckets `options.transform` changes are written (new pages after the high-water mark), the root
 * bucket is written anew naming them and, unchanged, every other bucket (a transform that returns
 * the `items` it was given leaves that bucket as it is, unread), then one meta page with txid + 1
 * and NO_FREELIST (etcd's NoFreelistSync: bbolt frees every page the new tree no longer reaches).
 * `sink` gets those pages; written over a byte copy of the file they make the edited db, of
 * `summary.fileSize` bytes (the copy's size, or more when pages were added past its end).
 *
 * Buckets left unchanged are not walked, so damage in them is neither seen nor dropped: use this
 * on a source `check()` finds nothing wrong with, and copyDb on any other.
 */
export function editDb(src: BoltDb, sink: ChunkSink, options: Omit<CopyOptions, 'keepSequence' | 'freelist' | 'txid' | 'pageSize'> = {}): CopySummary {
  const meta = src.meta;
  if (!meta) throw new RangeError('editDb: the source has no valid meta page');
  const w = new BoltWriter(sink, { pageSize: src.pageSize, txid: meta.txid + 1n, append: { pgid: src.highWater, flags: meta.flags, sequence: meta.sequence } });
  const summary = copyInto(src, w, options, true);
  return { ...summary, fileSize: Math.max(summary.fileSize, src.source.size) };
}

/** The bucket's value in the root bucket: 16-byte header (root, sequence), then the inline page. */
function bucketValue(ref: BucketRef): Uint8Array {
  const v = new Uint8Array(BUCKET_HEADER_SIZE + (ref.inline?.length ?? 0));
  const dv = new DataView(v.buffer);
  dv.setBigUint64(0, ref.root, true);
  dv.setBigUint64(8, ref.sequence, true);
  if (ref.inline) v.set(ref.inline, BUCKET_HEADER_SIZE);
  return v;
}

/** copyDb's walk, into `w`; `keepUnchanged` (append mode): a bucket the transform leaves as is goes in by its existing value. */
function copyInto(src: BoltDb, w: BoltWriter, options: CopyOptions, keepUnchanged: boolean): CopySummary {
  const limit = options.skippedLimit ?? 100;
  const skipped: SkippedItem[] = [];
  let skippedCount = 0;
  const skip = (s: SkippedItem): void => {
    skippedCount++;
    if (skipped.length < limit) skipped.push(s);
  };
  const droppedBuckets: string[] = [];
  const addedBuckets: string[] = [];
  const transform = options.transform;
  const ensure = (options.ensureBuckets ?? [])
    .map((n) => bucketName(n))
    .sort(compareBytes)
    .filter((n, i, all) => i === 0 || compareBytes(all[i - 1] as Uint8Array, n) !== 0);
  let e = 0;

  const write = (name: Uint8Array, items: Iterable<BoltItem>, ref: BucketRef | undefined): void => {
    const text = nameText(name);
    const out = transform ? transform(text, items, ref) : items;
    if (out === null) {
      droppedBuckets.push(text);
      return;
    }
    if (keepUnchanged && ref && out === items) w.rawBucket(name, bucketValue(ref));
    else w.bucket(name, out, ref && options.keepSequence !== false ? ref.sequence : 0n);
  };
  const addMissingBefore = (name: Uint8Array | undefined): void => {
    while (e < ensure.length && (name === undefined || compareBytes(ensure[e] as Uint8Array, name) < 0)) {
      const n = ensure[e++] as Uint8Array;
      addedBuckets.push(nameText(n));
      write(n, [], undefined);
    }
  };

  let lastName: Uint8Array | undefined;
  for (const ref of src.bucketRefs()) {
    const text = nameText(ref.name);
    if (ref.name.length === 0 || ref.name.length > MAX_KEY_SIZE || (lastName && compareBytes(lastName, ref.name) >= 0)) {
      skip({ bucket: text, keyHex: toHex(ref.name), reason: 'bucket-out-of-order', offset: ref.offset });
      continue;
    }
    lastName = ref.name;
    addMissingBefore(ref.name);
    if (e < ensure.length && compareBytes(ensure[e] as Uint8Array, ref.name) === 0) e++;
    write(ref.name, cleanItems(src, ref, text, skip), ref);
  }
  addMissingBefore(undefined);
  return { ...w.finish(), skipped, skippedCount, droppedBuckets, addedBuckets };
}

/** A bucket's items as the writer accepts them: strictly ascending, non-empty keys, no nested buckets. */
function* cleanItems(src: BoltDb, ref: BucketRef, bucket: string, skip: (s: SkippedItem) => void): Generator<BoltItem, void, undefined> {
  let last: Uint8Array | undefined;
  for (const item of src.bucketItems(ref)) {
    let reason: SkipReason | undefined;
    if (item.flags & BUCKET_LEAF_FLAG) reason = 'nested-bucket';
    else if (item.key.length === 0) reason = 'empty-key';
    else if (item.key.length > MAX_KEY_SIZE) reason = 'key-too-large';
    else if (last && compareBytes(last, item.key) >= 0) reason = 'out-of-order';
    if (reason) {
      skip({ bucket, keyHex: toHex(item.key), reason, offset: item.offset });
      continue;
    }
    last = item.key;
    yield item;
  }
}

/**
 * Merge key edits into an ordered item stream, keeping the order: each edit replaces the item with
 * the same key or is inserted where it belongs; a null value deletes the key. Edits may come in any
 * order (they are sorted; the last edit of a key wins). `withKeys([], edits)` builds a bucket from
 * scratch.
 */
export function* withKeys(
  items: Iterable<BoltItem>,
  edits: Iterable<readonly [Uint8Array | string, Uint8Array | string | null]>,
): Generator<BoltItem, void, undefined> {
  const byKey = new Map<string, { key: Uint8Array; value: Uint8Array | null }>();
  for (const [k, v] of edits) {
    const key = bucketName(k);
    byKey.set(toHex(key), { key, value: v === null ? null : bucketName(v) });
  }
  const sorted = [...byKey.values()].sort((a, b) => compareBytes(a.key, b.key));
  let i = 0;
  for (const item of items) {
    while (i < sorted.length && compareBytes((sorted[i] as { key: Uint8Array }).key, item.key) < 0) {
      const ed = sorted[i++] as { key: Uint8Array; value: Uint8Array | null };
      if (ed.value) yield { key: ed.key, value: ed.value };
    }
    const ed = sorted[i];
    if (ed && compareBytes(ed.key, item.key) === 0) {
      i++;
      if (ed.value) yield { key: ed.key, value: ed.value };
      continue;
    }
    yield item;
  }
  for (; i < sorted.length; i++) {
    const ed = sorted[i] as { key: Uint8Array; value: Uint8Array | null };
    if (ed.value) yield { key: ed.key, value: ed.value };
  }
}
