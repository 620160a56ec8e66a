/**
 * What etcd reads from its db at boot once bbolt has opened it, and where that kills the process:
 *
 *  - `cindex.ReadConsistentIndex` / term: 8-byte big-endian values; a shorter one is an index out of
 *    range (Go runtime panic);
 *  - the lessor, made before the mvcc store: every `lease` bucket value must unmarshal as
 *    leasepb.Lease, else `failed to unmarshal lease proto item` (panic);
 *  - mvcc `restore()`: every `key` bucket item from revision {1, 0} up to {MaxInt64, MaxInt64}, in
 *    order; each key is read as a revision (17 bytes, an 18th `t` for a tombstone), each value must
 *    unmarshal as mvccpb.KeyValue, else `failed to unmarshal mvccpb.KeyValue` (fatal);
 *  - 3.6 and later read every revision key (and the `meta` bucket's compaction revisions) with
 *    BytesToBucketKey, which panics on a length other than 17 or 18 (`invalid revision length`), a
 *    9th byte other than `_` (`invalid separator in bucket key`), or a negative main or sub
 *    revision; 3.4 and 3.5 read the same bytes without a look at the separator or the sign;
 *  - the first write rewrites the root bucket's leaf, where bbolt asserts no key is empty;
 *  - then each read looks a revision up with bbolt's Seek (`UnsafeRange(key, revision)`), which
 *    must land on it, else `range failed to find revision pair` (fatal). Only keys out of order can
 *    hide one from Seek; bbolt ≥ 1.3.7 refuses such a file at Open, so only 3.4 (bbolt 1.3.6) gets
 *    here: it starts, answers /health, and dies at the first read of that revision (seen on a real
 *    3.4.23 by the boot fuzz: a bit flipped in a revision key of the `key` bucket).
 *
 * The walk reads every key and value of the `key` bucket, as etcd does: its cost is the size of the db.
 */
import { type BoltLine, type BoltView, type OpenFailure, openFailureText } from './open-sim.js';
import { BUCKET_LEAF_FLAG } from './page.js';

/** Error text of a failed gogoproto Unmarshal of `typeName`, or undefined when it decodes. */
export type UnmarshalCheck = (typeName: 'mvccpb.KeyValue' | 'leasepb.Lease', bytes: Uint8Array) => string | undefined;

export type RestoreFailure =
  | { code: 'meta-value-short'; key: 'consistent_index' | 'term'; offset: number; length: number }
  | { code: 'revision-key-short'; offset: number; length: number }
  | { code: 'kv-unmarshal'; offset: number; revision: string; error: string }
  | { code: 'lease-unmarshal'; offset: number; leaseId: bigint; error: string }
  /** 3.6+: a revision BytesToBucketKey refuses: a `key` bucket key, or a compaction revision in `meta`. */
  | { code: 'bucket-key-invalid'; offset: number; bucket: 'key' | 'meta'; problem: BucketKeyProblem }
  /** A `key` bucket revision bbolt's Seek does not find (its keys are out of order). */
  | { code: 'revision-unfindable'; offset: number; revision: string }
  /** The first write's commit meets a key of length 0 in the root bucket's leaf (bbolt's assertion). */
  | { code: 'write-zero-length-key'; offset: number; pgid: bigint }
  /** Reading an item killed the process (a value past the end of the file, a garbage size). */
  | { code: 'read'; bucket: string; failure: OpenFailure };

/** Why BytesToBucketKey (etcd 3.6+) refuses a revision's bytes. */
export type BucketKeyProblem =
  | { kind: 'length'; length: number }
  | { kind: 'separator'; byte: number }
  | { kind: 'negative'; main: bigint; sub: bigint };

/** What BytesToBucketKey makes of `k`: undefined when it takes it. */
export function bucketKeyProblem(k: Uint8Array): BucketKeyProblem | undefined {
  if (k.length !== 17 && k.length !== 18) return { kind: 'length', length: k.length };
  if (k[8] !== 0x5f) return { kind: 'separator', byte: k[8]! };
  const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
  const main = dv.getBigInt64(0, false);
  const sub = dv.getBigInt64(9, false);
  return main < 0n || sub < 0n ? { kind: 'negative', main, sub } : undefined;
}

/**
 * Go's %q of a byte (a rune below 256): the character when strconv.IsPrint takes it (ASCII
 * printables, Latin-1 letters and signs but U+00A0 and U+00AD), else its escape.
 */
export function goQuoteByte(b: number): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x27: "\\'", 0x5c: '\\\\' };
  const inner = named[b] ?? ((b >= 0x20 && b < 0x7f) || (b >= 0xa1 && b !== 0xad) ? String.fromCharCode(b) : b < 0x80 ? `\\x${b.toString(16).padStart(2, '0')}` : `\\u00${b.toString(16)}`);
  return `'${inner}'`;
}

export interface RestoreCheck {
  /** What 3.4 and 3.5 die of (revisions read without BytesToBucketKey's checks). */
  failure: RestoreFailure | undefined;
  /** What 3.6 and later die of (the same walk, with BytesToBucketKey's checks). */
  strictFailure: RestoreFailure | undefined;
  /** `key` bucket items read (revisions, tombstones included) until 3.4/3.5's failure. */
  revisions: number;
  leases: number;
}

/** The value a cursor gives for a nested bucket's element. */
const NIL = new Uint8Array(0);
const MIN_REV = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0x5f, 0, 0, 0, 0, 0, 0, 0, 0]);
const MAX_REV = new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const text = new TextDecoder();

function cmp(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function revisionText(k: Uint8Array): string {
  const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
  return `${dv.getBigUint64(0, false)}_${dv.getBigUint64(9, false)}${k.length > 17 ? 't' : ''}`;
}

interface Item {
  key: Uint8Array;
  value: Uint8Array;
  valueAt: number;
}

/**
 * Replay etcd's boot-time reads of a db that bbolt's Open accepted (`view` from simulateOpen),
 * reading keys and values exactly where bbolt would, for both readings of a revision (3.4/3.5's
 * and 3.6+'s) in one walk. Each stops at the first item its etcd would die on; the walk goes on
 * while either has not. `onKeyItem` hears the items 3.4/3.5's reading takes.
 */
export function checkRestore(view: BoltView, root: bigint, unmarshal: UnmarshalCheck, onKeyItem?: (revision: Uint8Array, kv: Uint8Array) => void): RestoreCheck {
  const out: RestoreCheck = { failure: undefined, strictFailure: undefined, revisions: 0, leases: 0 };
  /** A failure both readings die of, where neither has died before. */
  const both = (f: RestoreFailure): void => {
    out.failure ??= f;
    out.strictFailure ??= f;
  };
  const done = () => out.failure !== undefined && out.strictFailure !== undefined;
  const readFailure = view.run((v) => {
    const buckets = new Map<string, { root: bigint; inline: Uint8Array | undefined; at: number }>();
    for (const b of v.buckets(root)) buckets.set(text.decode(b.name), b);
    const items = function* (name: string): Generator<Item> {
      const b = buckets.get(name);
      if (!b) return;
      if (b.inline) {
        for (const el of v.inlineItems(b.inline, b.at + 16)) yield el.flags & BUCKET_LEAF_FLAG ? { key: el.key, value: NIL, valueAt: el.valueAt } : el;
        return;
      }
      for (const el of v.items(b.root)) {
        // bbolt's cursor hands out an element flagged as a nested bucket with a nil value, without
        // reading it: etcd unmarshals nothing there (an empty message) and goes on to the key.
        // Seen on 3.7.3 when a power cut left the `key` bucket's root on a page of bucket headers:
        // `invalid revision length: 5` for the `alarm` bucket's element, no unmarshal failure.
        if (el.flags & BUCKET_LEAF_FLAG) {
          yield { key: el.key, value: NIL, valueAt: el.valueAt };
          continue;
        }
        // An unmarshal reads the value in order and stops at its first error: a value running past
        // the end of the file faults only if the error is not found before.
        const { bytes, cut } = v.valueInFile(el);
        if (cut) {
          const typeName = name === 'lease' ? 'leasepb.Lease' : 'mvccpb.KeyValue';
          const err = name === 'key' || name === 'lease' ? unmarshal(typeName, bytes) : undefined;
          if (err === undefined || err === 'unexpected EOF') v.fault(el);
        }
        yield { key: el.key, value: bytes, valueAt: el.valueAt };
      }
    };

    const compaction = new Map<string, Item>();
    for (const item of items('meta')) {
      const name = text.decode(item.key);
      if ((name === 'consistent_index' || name === 'term') && item.value.length < 8) {
        both({ code: 'meta-value-short', key: name, offset: item.valueAt, length: item.value.length });
        return;
      }
      if (name === 'finishedCompactRev' || name === 'scheduledCompactRev') compaction.set(name, { key: item.key.slice(), value: item.value.slice(), valueAt: item.valueAt });
    }
    // The lessor reads its bucket first: NewServer makes it before the mvcc store, in every line
    // (3.4.23 on a power cut's db panicked on a lease where a key's value ran past the file's end).
    for (const item of items('lease')) {
      out.leases++;
      const err = unmarshal('leasepb.Lease', item.value);
      if (err !== undefined) {
        const k = item.key;
        const leaseId = k.length >= 8 ? new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0, false) : 0n;
        both({ code: 'lease-unmarshal', offset: item.valueAt, leaseId, error: err });
        return;
      }
    }
    // 3.6+'s restore reads the finished compaction, then the scheduled one, with BytesToBucketKey
    for (const item of [compaction.get('finishedCompactRev'), compaction.get('scheduledCompactRev')]) {
      if (!item) continue;
      const problem = bucketKeyProblem(item.value);
      if (problem && out.strictFailure === undefined) out.strictFailure = { code: 'bucket-key-invalid', offset: item.valueAt, bucket: 'meta', problem };
    }
    // the previous revision key, copied (the cursor's order is what Seek relies on)
    const prev = new Uint8Array(64);
    let prevLength = -1;
    let disordered = false;
    /**
     * The first put whose key is not the 17 bytes a read asks Seek for (main, `_`, sub: revToBytes of
     * the revision the restore parsed): a separator other than `_` (3.4/3.5 do not look at it), an
     * 18th byte other than the tombstone's `t`, more bytes (3.4/3.5). The restore indexes it; the
     * first read of it finds another key or none (`range failed to find revision pair`).
     */
    let odd: RestoreFailure | undefined;
    let oddStrict: RestoreFailure | undefined;
    // etcd ranges from revision 1: Seek, then Next while below the end. A key below the start met
    // after Seek's landing (a page out of order, zeros read past a cut) is read like any other.
    let seeked = false;
    for (const item of items('key')) {
      if (done()) break;
      if (!seeked && cmp(item.key, MIN_REV) < 0) continue;
      seeked = true;
      if (cmp(item.key, MAX_REV) >= 0) break;
      const k = item.key;
      // 3.4/3.5 read the key before the value is unmarshalled; 3.6+ after (in the goroutine that feeds the index)
      if (out.failure === undefined && k.length < 17) out.failure = { code: 'revision-key-short', offset: item.valueAt - k.length, length: k.length };
      if (prevLength >= 0 && cmp(k, prev.subarray(0, prevLength)) <= 0) disordered = true;
      if (k.length <= prev.length) {
        prev.set(k);
        prevLength = k.length;
      } else prevLength = -1; // a revision key is 17 or 18 bytes: a longer one is not compared
      if (out.failure === undefined) out.revisions++;
      const err = unmarshal('mvccpb.KeyValue', item.value);
      if (err !== undefined) {
        both({ code: 'kv-unmarshal', offset: item.valueAt, revision: k.length >= 17 ? revisionText(k) : `${k.length} bytes`, error: err });
        continue;
      }
      if (out.strictFailure === undefined) {
        const problem = bucketKeyProblem(k);
        if (problem) out.strictFailure = { code: 'bucket-key-invalid', offset: item.valueAt - k.length, bucket: 'key', problem };
        else if (oddStrict === undefined && k.length === 18 && k[17] !== 0x74) oddStrict = { code: 'revision-unfindable', offset: item.valueAt - k.length, revision: revisionText(k) };
      }
      if (out.failure === undefined) {
        if (odd === undefined && !(k.length === 18 && k[17] === 0x74) && (k.length !== 17 || k[8] !== 0x5f)) odd = { code: 'revision-unfindable', offset: item.valueAt - k.length, revision: revisionText(k) };
        onKeyItem?.(k, item.value);
      }
    }
    if (done()) return;
    const keyBucket = buckets.get('key');
    if (disordered && keyBucket && !keyBucket.inline) {
      // Where the order breaks, Seek may miss revisions the restore indexed: the first it misses.
      for (const item of items('key')) {
        if (cmp(item.key, MIN_REV) < 0) continue;
        if (cmp(item.key, MAX_REV) >= 0) break;
        const rev = item.key.slice();
        const found = v.seek(keyBucket.root, rev);
        if (!found || cmp(found.key, rev) !== 0) {
          both({ code: 'revision-unfindable', offset: item.valueAt - rev.length, revision: revisionText(rev) });
          break;
        }
      }
    }
    if (odd && out.failure === undefined) out.failure = odd;
    if (oddStrict && out.strictFailure === undefined) out.strictFailure = oddStrict;
    if (done()) return;
    // etcd's first write (the consistent index, in `meta`, inline in the root bucket's leaf) makes
    // bbolt write that leaf again, and its node.write asserts every key has a length: zeros read
    // past a cut inside the page leave keys without one (3.4 on a db cut at 77,942 bytes).
    for (const el of v.items(root)) {
      if (el.key.length === 0) {
        both({ code: 'write-zero-length-key', offset: el.keyAt, pgid: el.pgid });
        return;
      }
    }
  });
  if (readFailure) both({ code: 'read', bucket: 'key', failure: readFailure });
  return out;
}

/** etcd's words (log message and error) for a restore failure. */
export function restoreFailureText(f: RestoreFailure, line: BoltLine, etcdMinor: number): { log: string; error: string } {
  switch (f.code) {
    case 'meta-value-short':
      return { log: 'panic', error: `runtime error: index out of range [7] with length ${f.length}` };
    case 'revision-key-short':
      // bytesToRev: binary.BigEndian.Uint64(key[0:8]) then Uint64(key[9:]); bbolt slices keys with
      // cap == len, so the first slice panics below 8 bytes, the second below 9, the read below 17.
      return {
        log: 'panic',
        error: f.length < 8 ? `runtime error: slice bounds out of range [:8] with capacity ${f.length}` : f.length < 9 ? `runtime error: slice bounds out of range [9:${f.length}]` : `runtime error: index out of range [7] with length ${f.length - 9}`,
      };
    case 'kv-unmarshal':
      return { log: 'failed to unmarshal mvccpb.KeyValue', error: f.error };
    case 'revision-unfindable':
      return { log: 'range failed to find revision pair', error: 'range failed to find revision pair' };
    case 'bucket-key-invalid': {
      const p = f.problem;
      return {
        log: 'panic',
        error: p.kind === 'length' ? `invalid revision length: ${p.length}` : p.kind === 'separator' ? `invalid separator in bucket key: ${goQuoteByte(p.byte)}` : `negative revision: main=${p.main} sub=${p.sub}`,
      };
    }
    case 'write-zero-length-key':
      return { log: 'panic', error: 'assertion failed: write: zero-length inode key' };
    case 'lease-unmarshal':
      // 3.4/3.5 wrap it with the lease ID; 3.6 moved the read to schema/lease.go without it.
      return { log: 'panic', error: etcdMinor >= 6 ? 'failed to unmarshal lease proto item' : `failed to Unmarshal lease proto item; lease ID=${f.leaseId.toString(16).padStart(16, '0')}` };
    case 'read':
      return { log: f.failure.code === 'fault' ? 'fatal error: fault' : 'panic', error: openFailureText(f.failure, line) };
  }
}
