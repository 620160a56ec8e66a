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
 * follows it. That takes one pass when nothing lies at or below C; otherwise a bit per revision
 * and, per pass over the bucket, a table of at most `keysPerPass` keys (a 32-bit fingerprint, the
 * revision's position, and where its key lies in the file, to compare the keys themselves when fingerprints
 * meet): memory is bounded whatever the db's size, more keys take more passes. Two behaviours
 * changed in 3.4.34 / 3.5.16 (tombstones at exactly R or C); pick the one matching the etcd that
 * would compute the hash.
 */
import { crc32cUpdate } from '../crc.js';
import type { BoltDb } from './db.js';
import type { EtcdBackendFinding } from './etcd-meta.js';
import { decodeRevision, readEtcdMeta } from './etcd-meta.js';
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
  /** When compaction matters: distinct keys held per pass over the bucket (default 1.2M, in ~34 MB). */
  keysPerPass?: number;
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
    const kept = keptRevisions(db, R, options.keysPerPass ?? 1_200_000, findings);
    hash = hashPass(kept, false)!;
  }
  return { hash: hash >>> 0, revision: R, compactRevision: C, compacted: C > 0n && R <= C, findings };
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
  // A key is read again to confirm a fingerprint match: just its bytes, into one reused buffer
  // when the source can (they are only compared, never kept).
  let scratch = new Uint8Array(4096);
  const reread = (offset: number, length: number): Uint8Array => {
    if (!src.readInto) return src.read(offset, length);
    if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
    return scratch.subarray(0, src.readInto(scratch.subarray(0, length), offset));
  };
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
