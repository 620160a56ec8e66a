/**
 * HashKV: the hash etcd members compare to detect divergent keyspaces (`etcdctl endpoint hashkv`,
 * the corruption checker). A CRC-32C over the bucket name "key" and then every key/value of the
 * `key` bucket in order with main revision <= R, except that revisions at or below the compact
 * revision C are hashed only if compaction at C keeps them (etcd's `Keep(R)` over its in-memory
 * index; when no key is kept at all, nothing is filtered).
 *
 * Keep(R) needs etcd's per-key "generations" (put... tombstone), rebuilt here by one scan of `key`
 * like etcd does at boot: memory grows with the number of distinct keys and revisions ≤ C, as in
 * etcd itself. Two behaviours changed in 3.4.34 / 3.5.16 (tombstones at exactly R or C); pick the
 * one matching the etcd that would compute the hash.
 */
import CRC32C from 'crc-32/crc32c.js';
import type { BoltDb } from './db.js';
import type { EtcdBackendFinding } from './etcd-meta.js';
import { decodeRevision, readEtcdMeta } from './etcd-meta.js';
import { decodeEtcdMessage } from '../proto/unmarshal.js';

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

const encoder = new TextEncoder();

/** A revision as one comparable string key: main and sub, 16 hex digits each. */
function revKey(main: bigint, sub: bigint): string {
  return main.toString(16).padStart(16, '0') + sub.toString(16).padStart(16, '0');
}

function hexOf(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

interface Rev {
  main: bigint;
  sub: bigint;
}

/** One key's history as etcd's keyIndex keeps it: generations, each ended by a tombstone except the last. */
type Generations = Rev[][];

/** Compute HashKV over the `key` bucket. Damaged keys/values become findings and are hashed as they are. */
export function hashKV(db: BoltDb, options: HashKVOptions = {}): HashKVResult {
  const findings: EtcdBackendFinding[] = [];
  const legacy = options.behaviour === 'legacy';
  let compact = options.compactRevision;
  if (compact === undefined) {
    const meta = readEtcdMeta(db);
    compact = [meta.finishedCompactRev ?? 0n, meta.scheduledCompactRev ?? 0n].reduce((a, b) => (a > b ? a : b));
  }
  let R = options.revision ?? 0n;
  if (R === 0n) {
    for (const item of db.items('key')) {
      const r = decodeRevision(item.key);
      if (r) R = r.main;
    }
  }

  // Pass 1: rebuild every key's generations, for revisions <= R only (later ones cannot be kept).
  const index = new Map<string, Generations>();
  for (const item of db.items('key')) {
    const r = decodeRevision(item.key);
    if (!r) {
      if (findings.length < 100) findings.push({ code: 'etcd-bad-revision-key', offset: item.offset, found: item.key.length });
      continue;
    }
    if (r.main > R) break;
    const kv = decodeEtcdMessage('mvccpb.KeyValue', item.value);
    if (!kv.ok) {
      if (findings.length < 100) findings.push({ code: 'etcd-bad-value-length', bucket: 'key', key: revKey(r.main, r.sub), offset: item.valueOffset, expected: 0, found: item.value.length });
      continue;
    }
    const userKey = hexOf((kv.message['key'] as Uint8Array | undefined) ?? new Uint8Array());
    let gens = index.get(userKey);
    if (r.tombstone) {
      const last = gens?.[gens.length - 1];
      // A tombstone for a key with no live generation is ignored, as etcd's restore does.
      if (!gens || !last || last.length === 0) continue;
      last.push({ main: r.main, sub: r.sub });
      gens.push([]);
    } else {
      if (!gens) index.set(userKey, (gens = [[]]));
      (gens[gens.length - 1] as Rev[]).push({ main: r.main, sub: r.sub });
    }
  }

  // Keep(R): per key, the first generation that is the last one or whose tombstone is after R
  // (at or after R in the newer behaviour); in it, the newest revision <= R, unless that is the
  // tombstone of a generation that is not the last.
  const keep = new Set<string>();
  for (const gens of index.values()) {
    let gi = 0;
    while (gi < gens.length - 1) {
      const g = gens[gi] as Rev[];
      const tomb = (g[g.length - 1] as Rev).main;
      if (legacy ? tomb > R : tomb >= R) break;
      gi++;
    }
    const g = gens[gi] as Rev[];
    let ri = g.length - 1;
    while (ri >= 0 && (g[ri] as Rev).main > R) ri--;
    if (ri < 0) continue;
    if (ri === g.length - 1 && gi !== gens.length - 1) continue;
    const rev = g[ri] as Rev;
    keep.add(revKey(rev.main, rev.sub));
  }
  index.clear();

  // Pass 2: hash.
  let crc = CRC32C.buf(encoder.encode('key'), 0);
  for (const item of db.items('key')) {
    const r = decodeRevision(item.key);
    if (!r) continue;
    if (r.main > R) break;
    if (r.main <= compact && keep.size > 0 && !keep.has(revKey(r.main, r.sub))) continue;
    if (!legacy && r.main === compact && r.tombstone) continue;
    crc = CRC32C.buf(item.key, crc);
    crc = CRC32C.buf(item.value, crc);
  }
  return { hash: crc >>> 0, revision: R, compactRevision: compact, compacted: compact > 0n && R <= compact, findings };
}
