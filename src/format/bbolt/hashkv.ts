/**
 * HashKV: the hash etcd members compare to detect divergent keyspaces (`etcdctl endpoint hashkv`,
 * the corruption checker). A CRC-32C over the bucket name "key" and then every key/value of the
 * `key` bucket in order with main revision <= R, except that revisions at or below the compact
 * revision C are hashed only if compaction at C keeps them (etcd's `Keep(R)` over its in-memory
 * index; when no key is kept at all, nothing is filtered).
 *
 * Keep(R) keeps, of each key, its newest revision <= R when that is not a tombstone (etcd's
 * generations come to that: an older generation ends in a tombstone, and a put is the newest
 * revision of its own). So a revision <= C is hashed when no later revision <= R of the same key
 * follows it. That takes one pass when nothing lies at or below C. Otherwise one pass backwards
 * (hashBackwards: going backwards, a revision is the newest of its key exactly when its key has not
 * been met yet, and CRC-32C's algebra puts each item's CRC in place), with a table of at most
 * `keysPerPass` keys (a 32-bit fingerprint and where the key lies in the file, to compare the keys
 * themselves when fingerprints meet). Where that cannot answer (more keys; damage that makes the
 * backward walk differ from the forward one), a bit per revision and, per pass over the bucket, a
 * table of at most `keysPerPass` keys, then a hash pass: memory is bounded whatever the db's size,
 * more keys take more passes. Two behaviours
 * changed in 3.4.34 / 3.5.16 (tombstones at exactly R or C); pick the one matching the etcd that
 * would compute the hash.
 */
import { crc32cUpdate } from '../crc.js';
import type { BoltDb } from './db.js';
import type { PageSource } from './page.js';
import type { EtcdBackendFinding } from './etcd-meta.js';
import type { ReportFinding } from './findings.js';
import { decodeRevision, readEtcdMeta, revisionMain } from './etcd-meta.js';
import { checkEtcdUnmarshal, decodeEtcdFields } from '../proto/unmarshal.js';

export interface HashKVOptions {
  /** Hash revision R; default (and 0): the db's current revision (main of the last key). */
  revision?: bigint;
  /** Compact revision C; default: max(finishedCompactRev, scheduledCompactRev) from `meta`, else 0. */
  compactRevision?: bigint;
  /**
   * 'keep-tombstone-at-compact' is 3.4.34+, 3.5.16+ and 3.6 (a tombstone at exactly C stays, and
   * is not hashed); 'legacy' is 3.4.0-3.4.33 and 3.5.0-3.5.15. Default: the newer behaviour.
   */
  behaviour?: 'keep-tombstone-at-compact' | 'legacy';
  /**
   * When compaction matters: distinct keys held per pass over the bucket (default 1.2M, in ~20 MB
   * for the backward pass below 4 GiB, ~34 MB for the two forward passes it hands over to).
   */
  keysPerPass?: number;
  /**
   * The key table's arrays from an earlier call, to use again (tens of MB: a caller hashing several
   * dbs in turn keeps one table alive instead of one per db until V8 frees it). Filled in by hashKV.
   */
  tables?: HashKVTables;
}

/** The backward pass's key table (see hashKV's `tables`); opaque to callers. */
export interface HashKVTables {
  fp?: Uint32Array;
  at?: Uint32Array | Float64Array;
  len?: Uint32Array;
  later?: LaterConfirms;
}

export interface HashKVResult {
  hash: number;
  revision: bigint;
  compactRevision: bigint;
  /**
   * R <= C (with C > 0): etcd 3.4 refuses (`required revision has been compacted`) and 3.5+ answers
   * from hashes it stored while compacting, which the compacted db can no longer reproduce. The
   * hash is still computed from what is left, but it will not match etcd's.
   */
  compacted: boolean;
  findings: EtcdBackendFinding[];
}

const KEY = new TextEncoder().encode('key');
const KEY_FIELD: ReadonlySet<string> = new Set(['key']);
// Every walk here uses an item before asking for the next and keeps only file offsets.
const TRANSIENT = { transient: true } as const;

/** A revision as text: main and sub, 16 hex digits each (the findings' key). */
function revKey(main: bigint, sub: bigint): string {
  return main.toString(16).padStart(16, '0') + sub.toString(16).padStart(16, '0');
}

/** Compute HashKV over the `key` bucket. Damaged keys/values become findings and are hashed as they are. */
export function hashKV(db: BoltDb, options: HashKVOptions = {}): HashKVResult {
  const legacy = options.behaviour === 'legacy';
  let compact = options.compactRevision;
  if (compact === undefined) {
    const meta = readEtcdMeta(db);
    compact = [meta.finishedCompactRev ?? 0n, meta.scheduledCompactRev ?? 0n].reduce((a, b) => (a > b ? a : b));
  }
  let R = options.revision ?? 0n;
  if (R === 0n) {
    for (const item of db.items('key', TRANSIENT)) {
      const r = decodeRevision(item.key);
      if (r) R = r.main;
    }
  }
  const C = compact;
  const findings: EtcdBackendFinding[] = [];
  /**
   * The hash pass (findings too, when `collect`). Items are numbered as they come, counting those
   * with a revision <= R; one at or below C needs `kept` (undefined: give up, it must be built first).
   */
  const hashPass = (kept: KeptRevisions | undefined, collect: boolean): number | undefined => {
    let crc = crc32cUpdate(KEY, 0);
    let n = 0;
    for (const item of db.items('key', TRANSIENT)) {
      const r = decodeRevision(item.key);
      if (!r) {
        if (collect && findings.length < 100) findings.push({ code: 'etcd-bad-revision-key', offset: item.offset, found: item.key.length });
        continue;
      }
      if (r.main > R) break;
      if (collect && !checkEtcdUnmarshal('mvccpb.KeyValue', item.value).ok && findings.length < 100) {
        findings.push({ code: 'etcd-bad-value-length', bucket: 'key', key: revKey(r.main, r.sub), offset: item.valueOffset, expected: 0, found: item.value.length });
      }
      const at = n++;
      if (r.main <= C) {
        if (kept === undefined) return undefined;
        if (kept.any && !kept.has(at)) continue;
      }
      if (!legacy && r.main === C && r.tombstone) continue;
      crc = crc32cUpdate(item.key, crc);
      crc = crc32cUpdate(item.value, crc);
    }
    return crc;
  };
  let hash = hashPass(undefined, true);
  if (hash === undefined) {
    findings.length = 0;
    const keysPerPass = options.keysPerPass ?? 1_200_000;
    const back = hashBackwards(db, R, C, legacy, keysPerPass, options.tables ?? {});
    if (back !== undefined) {
      findings.push(...back.findings);
      // Keep(R) keeping nothing filters nothing (etcd: `len(keep) > 0`): hashed forward, all of it.
      hash = back.anyKept ? back.hash : hashPass({ any: false, has: () => false }, false)!;
    } else {
      const kept = keptRevisions(db, R, keysPerPass, findings);
      hash = hashPass(kept, false)!;
    }
  }
  return { hash: hash >>> 0, revision: R, compactRevision: C, compacted: C > 0n && R <= C, findings };
}

// ---- CRC-32C as polynomials over GF(2) (reflected: bit 31 is x^0), as zlib's crc32_combine --------
// The register after bytes A then B is (register after A) × x^(8|B|) xor (register after B from 0),
// so a hash can be put together from its items' CRCs last item first: with S the bytes hashed after
// an item, the items so far make acc = Σ g·x^(8S). hashBackwards keeps u = acc·x^(-8S) instead,
// which an item of n bytes with CRC g (from a zero register) turns into (u xor g)·x^(-8n): one
// product per item, by a power that depends only on n.
const POLY = 0x82f63b78;
/** x^-1 mod P: x × it = 1 (dividing x^0 by x: x^0's bit set means P was added, then shift back). */
const X_INV = ((((0x80000000 ^ POLY) << 1) | 1) >>> 0);

/** a × b mod P. Without branches (their mispredictions cost 3x on random operands). */
function mulmod(a: number, b: number): number {
  let p = 0;
  for (let m = 31; m >= 0; m--) {
    p ^= b & -((a >>> m) & 1); // a's coefficient of x^(31-m) times b
    b = (b >>> 1) ^ (POLY & -(b & 1)); // b × x
  }
  return p >>> 0;
}

/** Squares: table[k] = base^(2^k) mod P, k < 64. */
function squares(base: number): Uint32Array {
  const t = new Uint32Array(64);
  t[0] = base;
  for (let k = 1; k < 64; k++) t[k] = mulmod(t[k - 1]!, t[k - 1]!);
  return t;
}
const X2N = squares(0x40000000);
const XINV2N = squares(X_INV);

/** x^(8n) mod P (what running the register over n zero bytes multiplies it by), or x^(-8n) with `inverse`. */
function xPow8n(n: number, inverse = false): number {
  const t = inverse ? XINV2N : X2N;
  let p = 0x80000000;
  for (let k = 3; n > 0; n = Math.floor(n / 2), k++) if (n & 1) p = mulmod(t[k]!, p);
  return p;
}

/** x^(-8n) for item lengths, computed once per length (0: not yet; no power of x is 0). */
const INV_CACHED = 1 << 16;
let invCache: Uint32Array | undefined;
function invPow8(n: number): number {
  if (n >= INV_CACHED) return xPow8n(n, true);
  invCache ??= new Uint32Array(INV_CACHED);
  return invCache[n] || (invCache[n] = xPow8n(n, true));
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The hash in one pass over the bucket, last item first: going backwards, a revision is the newest
 * of its key <= R exactly when its key has not been met yet, so whether Keep(R) keeps it is known on
 * the spot (a table of the keys met: fingerprint and where the key lies in the file). A fingerprint
 * match is taken as the same key and confirmed later, in batches (LaterConfirms). Each hashed item's
 * CRC is shifted into place by the bytes hashed after it (see mulmod). Undefined when the two-pass
 * way must answer: more than `keysPerPass` keys, a match the batch check finds false (keys that
 * share a fingerprint: the two-pass way compares each at once), a page referenced twice (the
 * forward walk might not enter it where this one does), a revision above R before one at or below
 * it (the forward pass stops at the first above R), R or C past 2^53. `anyKept` false: Keep(R)
 * keeps nothing, and then nothing is filtered.
 */
function hashBackwards(db: BoltDb, R: bigint, C: bigint, legacy: boolean, keysPerPass: number, tables: HashKVTables): { hash: number; anyKept: boolean; findings: EtcdBackendFinding[] } | undefined {
  if (R > MAX_EXACT || C > MAX_EXACT) return undefined;
  const Rn = Number(R);
  const Cn = Number(C);
  const cap = Math.max(1, keysPerPass);
  const slots = Math.ceil(cap * 1.4);
  // (at and len are read only where fp is set: only fp needs clearing)
  const fp = (tables.fp = tables.fp?.length === slots ? tables.fp.fill(0) : new Uint32Array(slots)); // fingerprint | 1 (0: empty)
  // file offset of the key's bytes in its newest revision: 32 bits do below 4 GiB (4 bytes a slot less)
  const wide = db.source.size > 0xffff_ffff;
  const at = (tables.at = tables.at?.length === slots && tables.at instanceof Float64Array === wide ? tables.at : wide ? new Float64Array(slots) : new Uint32Array(slots));
  const len = (tables.len = tables.len?.length === slots ? tables.len : new Uint32Array(slots));
  let keys = 0;
  const confirm = (tables.later = tables.later?.on(db.source) ?? new LaterConfirms(db.source));
  let twice = false;
  const report: ReportFinding = (f) => {
    if (f.code === 'bbolt-page-multiple-references') twice = true;
    db.report(f);
  };
  // Findings come last first: the last 100 met are the first 100 going forward.
  const found: EtcdBackendFinding[] = [];
  const note = (f: EtcdBackendFinding): void => {
    found.push(f);
    if (found.length > 100) found.shift();
  };
  let started = false;
  let anyKept = false;
  let u = 0; // the items hashed so far (those after, in the bucket) from a zero register, × x^(-8 × their bytes)
  let bytes = 0; // their bytes
  for (const item of db.items('key', { transient: true, reverse: true, report })) {
    if (twice) return undefined;
    const k = item.key;
    if ((k.length !== 17 && k.length !== 18) || k[8] !== 0x5f) {
      note({ code: 'etcd-bad-revision-key', offset: item.offset, found: k.length });
      continue;
    }
    const main = revisionMain(k);
    if (main > Rn) {
      if (started) return undefined;
      found.length = 0; // going forward, the walk stops here: what came after it never counts
      continue;
    }
    started = true;
    const tombstone = k.length === 18 && k[17] === 0x74;
    let kept = false;
    const key = keyOf(item.value);
    if (key === undefined) {
      const r = decodeRevision(k)!;
      note({ code: 'etcd-bad-value-length', bucket: 'key', key: revKey(r.main, r.sub), offset: item.valueOffset, expected: 0, found: item.value.length });
    } else {
      const [h, g] = keyHashes(key);
      const f = (h | 1) >>> 0;
      let s = Math.floor(((Math.imul(g, 0x9e3779b1) >>> 0) * slots) / 0x1_0000_0000);
      for (;;) {
        if (fp[s] === 0) {
          // first met: its newest revision <= R
          if (++keys > cap) return undefined;
          fp[s] = f;
          at[s] = item.valueOffset + keyOffsetIn(item.value, key);
          len[s] = key.length;
          kept = !tombstone;
          break;
        }
        if (fp[s] === f && len[s] === key.length) {
          // taken as the same key, confirmed later (see LaterConfirms)
          confirm.add(at[s]!, key);
          break;
        }
        if (++s === slots) s = 0;
      }
    }
    if (confirm.full && !confirm.check()) return undefined;
    if (kept) anyKept = true;
    if ((main > Cn || kept) && !(!legacy && main === Cn && tombstone)) {
      const crc = crc32cUpdate(item.value, crc32cUpdate(k, 0xffffffff));
      const n = k.length + item.value.length;
      u = mulmod(invPow8(n), (u ^ ~crc) >>> 0);
      bytes += n;
    }
  }
  if (twice || !confirm.check()) return undefined;
  // "key", then the items: x^(8 × their bytes) × (the register after "key" xor u)
  const keyRegister = ~crc32cUpdate(KEY, 0) >>> 0;
  const hash = ~mulmod(xPow8n(bytes), (keyRegister ^ u) >>> 0) >>> 0;
  return { hash, anyKept, findings: found.reverse() };
}

/** Which revisions <= R Keep(R) keeps, by their position among them; `any`: whether it keeps one. */
interface KeptRevisions {
  any: boolean;
  has(at: number): boolean;
}

/** FNV-1a of a key, and a second, independent mix of it (table slot and partition). */
function keyHashes(b: Uint8Array): [number, number] {
  let h = 0x811c9dc5;
  let g = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    h = Math.imul(h ^ b[i]!, 0x01000193);
    g = Math.imul(g ^ b[i]!, 0x85ebca6b) ^ (g >>> 13);
  }
  return [h >>> 0, (g ^ (g >>> 16)) >>> 0];
}

const keyOf = (value: Uint8Array): Uint8Array | undefined => {
  const kv = decodeEtcdFields('mvccpb.KeyValue', value, KEY_FIELD);
  if (!kv.ok) return undefined;
  const k = kv.message['key'];
  return k instanceof Uint8Array ? k : new Uint8Array(0);
};

/** Where `key` (a view the wire reader made of `value`, or an absent key's empty bytes) starts in `value`. */
function keyOffsetIn(value: Uint8Array, key: Uint8Array): number {
  if (key.length === 0) return 0;
  if (key.buffer !== value.buffer) throw new Error('hashKV: a KeyValue\'s key is not a view of its bytes');
  return key.byteOffset - value.byteOffset;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Keep(R) as a bit per revision <= R (in bucket order): set for a put (its KeyValue readable) that
 * no later readable revision <= R of the same key follows. Within a pass a key's last revision so
 * far is found by fingerprint and confirmed by comparing the key read again from the file. When more
 * than `keysPerPass` keys turn up, the keys are split by hash into twice as many partitions, each
 * taking a pass. The findings of the bucket are collected on the first pass.
 */
function keptRevisions(db: BoltDb, R: bigint, keysPerPass: number, findings: EtcdBackendFinding[]): KeptRevisions {
  const cap = Math.max(1, keysPerPass);
  let bits = new Uint8Array(1 << 16);
  // At most 5 keys in 7 slots (not the next power of two: up to twice the memory for nothing).
  const slots = Math.ceil(cap * 1.4);
  const fp = new Uint32Array(slots); // fingerprint | 1 (0: empty)
  const pos = new Int32Array(slots); // position of the key's last revision so far
  const at = new Float64Array(slots); // file offset of the key's bytes in that revision's value
  const len = new Uint32Array(slots);
  const src = db.source;
  const reread = rereader(src);
  let parts = 1;
  let first = true;
  for (let part = 0; part < parts; part++) {
    fp.fill(0);
    let keys = 0;
    let n = 0;
    let overflow = false;
    for (const item of db.items('key', TRANSIENT)) {
      const r = decodeRevision(item.key);
      if (!r) {
        if (first && findings.length < 100) findings.push({ code: 'etcd-bad-revision-key', offset: item.offset, found: item.key.length });
        continue;
      }
      if (r.main > R) break;
      const here = n++;
      if (here >>> 3 >= bits.length) {
        const more = new Uint8Array(bits.length * 2);
        more.set(bits);
        bits = more;
      }
      const key = keyOf(item.value);
      if (key === undefined) {
        if (first && findings.length < 100) findings.push({ code: 'etcd-bad-value-length', bucket: 'key', key: revKey(r.main, r.sub), offset: item.valueOffset, expected: 0, found: item.value.length });
        continue;
      }
      if (overflow) continue; // (only the findings are still wanted from this pass)
      const [h, g] = keyHashes(key);
      if (parts > 1 && g % parts !== part) continue;
      const f = (h | 1) >>> 0;
      let s = Math.floor(((Math.imul(g, 0x9e3779b1) >>> 0) * slots) / 0x1_0000_0000);
      for (;;) {
        if (fp[s] === 0) {
          if (++keys > cap) {
            overflow = true;
            break;
          }
          fp[s] = f;
          break;
        }
        if (fp[s] === f && sameBytes(reread(at[s]!, len[s]!), key)) {
          const prev = pos[s]!;
          bits[prev >>> 3]! &= ~(1 << (prev & 7)); // a later revision of its key follows it
          break;
        }
        if (++s === slots) s = 0;
      }
      if (overflow) continue;
      pos[s] = here;
      at[s] = item.valueOffset + keyOffsetIn(item.value, key);
      len[s] = key.length;
      if (!r.tombstone) bits[here >>> 3]! |= 1 << (here & 7);
    }
    first = false;
    if (overflow) {
      // too many keys for one table: start over with twice the partitions
      parts *= 2;
      part = -1;
      bits.fill(0);
    }
  }
  const any = bits.some((b) => b !== 0);
  return { any, has: (i) => (bits[i >>> 3]! & (1 << (i & 7))) !== 0 };
}

/**
 * Fingerprint matches of hashBackwards, confirmed in batches: each pair is a key in hand (copied
 * here) and where the key it was taken for lies in the file. One read per stored key, scattered
 * over the file, cost a syscall each, most of HashKV's time on a db with many updated keys; a
 * batch read in file order takes one read per 64 KiB where its keys lie close. The reads go
 * straight to the file or the cache's blocks (`readInto`), never through the cache, whose blocks
 * the walk is still using. Memory: at most BATCH_PAIRS pairs and BATCH_BYTES of keys.
 */
const BATCH_PAIRS = 1 << 16;
const BATCH_BYTES = 4 << 20;
const SPAN = 64 << 10;

export class LaterConfirms {
  private at = new Float64Array(1024);
  private keyAt = new Uint32Array(1024);
  private len = new Uint32Array(1024);
  private keys = new Uint8Array(64 << 10);
  private order = new Uint32Array(0);
  private n = 0;
  private used = 0;
  private reread: (offset: number, length: number) => Uint8Array;

  constructor(src: PageSource) {
    this.reread = rereader(src);
  }

  /** The same arrays, emptied, for another db. */
  on(src: PageSource): this {
    this.reread = rereader(src);
    this.n = 0;
    this.used = 0;
    return this;
  }

  /** Whether the batch should be checked before more are added. */
  get full(): boolean {
    return this.n === BATCH_PAIRS || this.used >= BATCH_BYTES;
  }

  /** The key at file offset `at` (as long as `key`) must equal `key` (a view valid only now: copied). */
  add(at: number, key: Uint8Array): void {
    if (this.n === this.at.length) {
      const grow = <T extends Float64Array | Uint32Array>(a: T, b: T): T => (b.set(a), b);
      this.at = grow(this.at, new Float64Array(this.n * 2));
      this.keyAt = grow(this.keyAt, new Uint32Array(this.n * 2));
      this.len = grow(this.len, new Uint32Array(this.n * 2));
    }
    if (this.used + key.length > this.keys.length) {
      const more = new Uint8Array(Math.max(this.used + key.length, this.keys.length * 2));
      more.set(this.keys.subarray(0, this.used));
      this.keys = more;
    }
    this.keys.set(key, this.used);
    this.at[this.n] = at;
    this.keyAt[this.n] = this.used;
    this.len[this.n] = key.length;
    this.used += key.length;
    this.n++;
  }

  /** Checks the batch and empties it: false when a pair differs (a fingerprint collision). */
  check(): boolean {
    const { at, keyAt, len, keys } = this;
    if (this.order.length < this.n) this.order = new Uint32Array(this.at.length);
    const order = this.order.subarray(0, this.n);
    for (let i = 0; i < this.n; i++) order[i] = i;
    order.sort((a, b) => at[a]! - at[b]!);
    let ok = true;
    for (let i = 0; i < order.length && ok; ) {
      // one read from the first pair's key to the last one's that fits in SPAN
      const from = at[order[i]!]!;
      let to = from + len[order[i]!]!;
      let j = i + 1;
      for (; j < order.length; j++) {
        const end = at[order[j]!]! + len[order[j]!]!;
        if (end - from > SPAN) break;
        if (end > to) to = end;
      }
      const bytes = this.reread(from, to - from);
      for (; i < j && ok; i++) {
        const p = order[i]!;
        const off = at[p]! - from;
        ok = sameBytes(bytes.subarray(off, off + len[p]!), keys.subarray(keyAt[p]!, keyAt[p]! + len[p]!));
      }
    }
    this.n = 0;
    this.used = 0;
    return ok;
  }

}

/**
 * Reads a key again to confirm a fingerprint match: just its bytes, into one reused buffer when the
 * source can (they are only compared, never kept, and valid until the next call).
 */
function rereader(src: PageSource): (offset: number, length: number) => Uint8Array {
  let scratch = new Uint8Array(4096);
  return (offset, length) => {
    if (!src.readInto) return src.read(offset, length);
    if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
    return scratch.subarray(0, src.readInto(scratch.subarray(0, length), offset));
  };
}
