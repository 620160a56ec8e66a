/**
 * etcd's buckets on top of bbolt: the `meta`, `cluster`, `auth`, `members` and `key` buckets, the
 * `snapshot status` hash, and a guess of which etcd wrote the file (with the evidence for it).
 *
 * Encodings (shared/spec/etcd-backend.md §6.10): uint64 scalars are 8-byte big-endian; revisions are
 * 17-byte keys `main(8, BE) '_' sub(8, BE)` (+ `t` for a tombstone); confState, members and
 * downgrade are JSON whose integers exceed 2^53, parsed here without losing precision.
 */
// The .js suffix is needed at run time: crc-32 has no "exports" map, so Node's ESM resolver wants the file name.
import CRC32C from 'crc-32/crc32c.js';
import type { BoltDb, BucketRef } from './db.js';
import { nameText } from './db.js';
import { check } from './check.js';
import type { BboltFinding } from './findings.js';
import { isJsonObject, jsonBigInt, jsonBigIntArray, jsonStringArray, parseJsonBigInt } from './json-bigint.js';
import type { JsonValue } from './json-bigint.js';

/** Problems in etcd's use of the buckets (the bbolt layer itself may be fine). */
export type EtcdBackendFinding =
  /** A fixed-size value (consistent_index, term, a revision) has the wrong length. */
  | { code: 'etcd-bad-value-length'; bucket: string; key: string; offset: number; expected: number; found: number }
  /** A JSON value (confState, members, downgrade) does not parse or lacks fields. */
  | { code: 'etcd-bad-json'; bucket: string; key: string; offset: number; reason: string }
  /** A `key` bucket key is not a 17- or 18-byte revision. */
  | { code: 'etcd-bad-revision-key'; offset: number; found: number }
  /** A bucket etcd always creates is missing. */
  | { code: 'etcd-missing-bucket'; bucket: string; offset: number }
  /**
   * A key the bucket holds that etcd's read does not find: bbolt's binary search, on keys out of
   * order, lands elsewhere, and etcd reads nothing (a consistent index of 0, no cluster version).
   */
  | { code: 'etcd-key-unfindable'; bucket: string; key: string; offset: number };

/** The db's meta/confState is the JSON form of raftpb.ConfState: the same fields. */
export type { ConfState } from '../proto/messages.js';
import type { ConfState } from '../proto/messages.js';
import { decodeEtcdMessage } from '../proto/unmarshal.js';

export interface Downgrade {
  targetVersion: string;
  enabled: boolean;
}

export interface EtcdMeta {
  consistentIndex?: bigint;
  term?: bigint;
  confState?: ConfState;
  scheduledCompactRev?: bigint;
  finishedCompactRev?: bigint;
  storageVersion?: string;
  clusterVersion?: string;
  downgrade?: Downgrade;
  authEnabled?: boolean;
  authRevision?: bigint;
  findings: EtcdBackendFinding[];
}

export interface Revision {
  main: bigint;
  sub: bigint;
  tombstone: boolean;
}

export interface Member {
  id: bigint;
  /** The bucket key (hex, no padding). */
  key: string;
  name?: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface Members {
  members: Member[];
  removed: bigint[];
  findings: EtcdBackendFinding[];
}

/** The buckets etcd 3.4/3.5 always create. */
export const ETCD_BUCKETS = ['alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'key', 'lease', 'members', 'members_removed', 'meta'] as const;

const text = new TextDecoder('utf-8', { fatal: false });

function be64(v: Uint8Array): bigint {
  return new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, false);
}

/** Decode a 17/18-byte revision key; undefined if it has another length. */
export function decodeRevision(k: Uint8Array): Revision | undefined {
  if ((k.length !== 17 && k.length !== 18) || k[8] !== 0x5f) return undefined;
  const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
  return { main: dv.getBigUint64(0, false), sub: dv.getBigUint64(9, false), tombstone: k.length === 18 && k[17] === 0x74 };
}

/** Main revision of a revision key (17/18 bytes, checked by the caller) as a number; Infinity at or past 2^53. */
export function revisionMain(k: Uint8Array): number {
  const hi = ((k[0]! << 24) | (k[1]! << 16) | (k[2]! << 8) | k[3]!) >>> 0;
  if (hi >= 0x200000) return Infinity;
  return hi * 0x1_0000_0000 + (((k[4]! << 24) | (k[5]! << 16) | (k[6]! << 8) | k[7]!) >>> 0);
}

/** Encode a revision key (17 bytes, 18 with the tombstone mark). */
export function encodeRevision(r: Revision): Uint8Array {
  const out = new Uint8Array(r.tombstone ? 18 : 17);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, r.main, false);
  out[8] = 0x5f;
  dv.setBigUint64(9, r.sub, false);
  if (r.tombstone) out[17] = 0x74;
  return out;
}

/** All items of a small bucket as a name → {value, offset} map (etcd's meta-like buckets). */
function smallBucket(db: BoltDb, ref: BucketRef | undefined): Map<string, { value: Uint8Array; offset: number }> {
  const out = new Map<string, { value: Uint8Array; offset: number }>();
  if (!ref) return out;
  let n = 0;
  for (const item of db.bucketItems(ref)) {
    out.set(nameText(item.key), { value: item.value, offset: item.valueOffset });
    // These buckets hold a handful of keys; a huge one is damage, and we stop collecting.
    if (++n >= 10_000) break;
  }
  return out;
}

function topBuckets(db: BoltDb): Map<string, BucketRef> {
  const out = new Map<string, BucketRef>();
  for (const ref of db.bucketRefs()) out.set(nameText(ref.name), ref);
  return out;
}

/** Read etcd's `meta`, `cluster` and `auth` buckets. */
export function readEtcdMeta(db: BoltDb): EtcdMeta {
  const findings: EtcdBackendFinding[] = [];
  const result: EtcdMeta = { findings };
  const buckets = topBuckets(db);
  // etcd's MVCC store creates these at first open in every version; others came later or are optional.
  if (db.meta) for (const name of ['key', 'meta'] as const) if (!buckets.has(name)) findings.push({ code: 'etcd-missing-bucket', bucket: name, offset: db.meta.slot * db.pageSize + 32 });
  const meta = smallBucket(db, buckets.get('meta'));
  const u64 = (bucket: string, key: string, m: Map<string, { value: Uint8Array; offset: number }>): bigint | undefined => {
    const e = m.get(key);
    if (!e) return undefined;
    if (e.value.length !== 8) {
      findings.push({ code: 'etcd-bad-value-length', bucket, key, offset: e.offset, expected: 8, found: e.value.length });
      return undefined;
    }
    return be64(e.value);
  };
  const rev = (key: string): bigint | undefined => {
    const e = meta.get(key);
    if (!e) return undefined;
    const r = decodeRevision(e.value);
    if (!r) {
      findings.push({ code: 'etcd-bad-value-length', bucket: 'meta', key, offset: e.offset, expected: 17, found: e.value.length });
      return undefined;
    }
    return r.main;
  };
  const json = (bucket: string, key: string, e: { value: Uint8Array; offset: number } | undefined): { [k: string]: JsonValue } | undefined => {
    if (!e) return undefined;
    const parsed = parseJsonBigInt(text.decode(e.value));
    if (!parsed.ok) {
      findings.push({ code: 'etcd-bad-json', bucket, key, offset: e.offset + parsed.offset, reason: parsed.reason });
      return undefined;
    }
    if (!isJsonObject(parsed.value)) {
      findings.push({ code: 'etcd-bad-json', bucket, key, offset: e.offset, reason: 'not an object' });
      return undefined;
    }
    return parsed.value;
  };

  const ci = u64('meta', 'consistent_index', meta);
  if (ci !== undefined) result.consistentIndex = ci;
  const term = u64('meta', 'term', meta);
  if (term !== undefined) result.term = term;
  const sched = rev('scheduledCompactRev');
  if (sched !== undefined) result.scheduledCompactRev = sched;
  const fin = rev('finishedCompactRev');
  if (fin !== undefined) result.finishedCompactRev = fin;
  const sv = meta.get('storageVersion');
  if (sv) result.storageVersion = text.decode(sv.value);
  const cs = json('meta', 'confState', meta.get('confState'));
  if (cs) {
    result.confState = {
      voters: jsonBigIntArray(cs['voters']),
      learners: jsonBigIntArray(cs['learners']),
      votersOutgoing: jsonBigIntArray(cs['voters_outgoing']),
      learnersNext: jsonBigIntArray(cs['learners_next']),
      autoLeave: cs['auto_leave'] === true,
    };
  }

  const cluster = smallBucket(db, buckets.get('cluster'));
  const cv = cluster.get('clusterVersion');
  if (cv) result.clusterVersion = text.decode(cv.value);
  const dg = json('cluster', 'downgrade', cluster.get('downgrade'));
  if (dg) result.downgrade = { targetVersion: typeof dg['target-version'] === 'string' ? dg['target-version'] : '', enabled: dg['enabled'] === true };

  const auth = smallBucket(db, buckets.get('auth'));
  const ae = auth.get('authEnabled');
  if (ae && ae.value.length === 1) result.authEnabled = ae.value[0] === 1;
  const ar = u64('auth', 'authRevision', auth);
  if (ar !== undefined) result.authRevision = ar;
  return result;
}

/** What etcd reads at boot of the values `readEtcdMeta` reads from walking the buckets. */
export interface EtcdBootMeta {
  consistentIndex?: bigint;
  clusterVersion?: string;
  storageVersion?: string;
  /** Keys the walk met that etcd's reads do not find. */
  findings: EtcdBackendFinding[];
}

/**
 * The consistent index, cluster version and storage version as etcd reads them at boot: each key
 * looked up the way bbolt does (BoltDb.etcdGet: binary search down the tree), not met in a walk.
 * They differ from `stored` (readEtcdMeta's) only where keys are out of order: a page that a power
 * cut left half old and half new can hide `consistent_index` from the search, and etcd then starts
 * from index 0 (3.6 on such a db replayed the log from index 1 and panicked: `removed all voters`).
 */
export function readEtcdBootMeta(db: BoltDb, stored: EtcdMeta): EtcdBootMeta {
  const out: EtcdBootMeta = { findings: [] };
  const read = (bucket: string, key: string, walked: unknown): Uint8Array | undefined => {
    const hit = db.etcdGet(bucket, key);
    if (hit) return hit.value;
    if (walked !== undefined) {
      const at = [...db.items(bucket)].find((x) => nameText(x.key) === key);
      out.findings.push({ code: 'etcd-key-unfindable', bucket, key, offset: at?.valueOffset ?? 0 });
    }
    return undefined;
  };
  const ci = read('meta', 'consistent_index', stored.consistentIndex);
  // etcd reads the first 8 bytes (a shorter value panics: the restore check says so)
  if (ci && ci.length >= 8) out.consistentIndex = be64(ci.subarray(0, 8));
  const cv = read('cluster', 'clusterVersion', stored.clusterVersion);
  if (cv) out.clusterVersion = text.decode(cv);
  const sv = read('meta', 'storageVersion', stored.storageVersion);
  if (sv) out.storageVersion = text.decode(sv);
  return out;
}

/** The `members` and `members_removed` buckets (ids exact, not rounded through a double). */
export function readMembers(db: BoltDb): Members {
  const findings: EtcdBackendFinding[] = [];
  const buckets = topBuckets(db);
  const members: Member[] = [];
  const mref = buckets.get('members');
  if (mref) {
    for (const item of db.bucketItems(mref)) {
      const key = nameText(item.key);
      const parsed = parseJsonBigInt(text.decode(item.value));
      const v = parsed.ok ? parsed.value : undefined;
      const id = isJsonObject(v) ? jsonBigInt(v['id']) : undefined;
      if (!parsed.ok || !isJsonObject(v) || id === undefined) {
        // A damaged tree can make anything look like this bucket: keep the report bounded.
        if (findings.length < 100) findings.push({ code: 'etcd-bad-json', bucket: 'members', key, offset: item.valueOffset + (parsed.ok ? 0 : parsed.offset), reason: parsed.ok ? 'no numeric id' : parsed.reason });
        continue;
      }
      const m: Member = { id, key, peerURLs: jsonStringArray(v['peerURLs']), clientURLs: jsonStringArray(v['clientURLs']), isLearner: v['isLearner'] === true };
      if (typeof v['name'] === 'string') m.name = v['name'];
      members.push(m);
    }
  }
  const removed: bigint[] = [];
  const rref = buckets.get('members_removed');
  if (rref) {
    for (const item of db.bucketItems(rref)) {
      const key = nameText(item.key);
      if (/^[0-9a-f]{1,16}$/.test(key)) removed.push(BigInt('0x' + key));
      else if (findings.length < 100) findings.push({ code: 'etcd-bad-json', bucket: 'members_removed', key, offset: item.offset, reason: 'key is not a hex member id' });
    }
  }
  return { members, removed, findings };
}

/** The alarm types that make etcd refuse writes (etcdserverpb.AlarmType 1 and 2), by number. */
export const WRITE_ALARMS: Readonly<Record<number, 'NOSPACE' | 'CORRUPT'>> = { 1: 'NOSPACE', 2: 'CORRUPT' };

/** An alarm etcd keeps raised: a key of the `alarm` bucket, an etcdserverpb.AlarmMember. */
export interface DbAlarm {
  memberId: bigint;
  /** etcdserverpb.AlarmType: 1 NOSPACE, 2 CORRUPT (0 NONE); undefined when the key does not unmarshal. */
  alarm: number | undefined;
  offset: number;
}

/**
 * The `alarm` bucket: etcd reads it back at boot and, while a NOSPACE or CORRUPT alarm is in it,
 * refuses every write until `etcdctl alarm disarm`. Bounded like the other small buckets.
 */
export function readAlarms(db: BoltDb): DbAlarm[] {
  const ref = topBuckets(db).get('alarm');
  const out: DbAlarm[] = [];
  if (!ref) return out;
  for (const item of db.bucketItems(ref)) {
    const m = decodeEtcdMessage('etcdserverpb.AlarmMember', item.key);
    out.push(m.ok ? { memberId: u64Of(m.message['memberId']), alarm: Number(m.message['alarm'] ?? 0), offset: item.offset } : { memberId: 0n, alarm: undefined, offset: item.offset });
    if (out.length >= 1000) break;
  }
  return out;
}

function u64Of(v: unknown): bigint {
  return typeof v === 'bigint' ? v : typeof v === 'number' || typeof v === 'string' ? BigInt(v) : 0n;
}

export interface KeySummary {
  /** Number of items in `key` (revisions, tombstones included). */
  revisions: number;
  tombstones: number;
  /** Revision of the first and last key (the last is the store's current revision). */
  firstRevision?: Revision;
  lastRevision?: Revision;
  findings: EtcdBackendFinding[];
}

/** One pass over the `key` bucket: counts and first/last revision. */
export function summarizeKeys(db: BoltDb): KeySummary {
  const out: KeySummary = { revisions: 0, tombstones: 0, findings: [] };
  for (const item of db.items('key')) {
    out.revisions++;
    const r = decodeRevision(item.key);
    if (!r) {
      if (out.findings.length < 100) out.findings.push({ code: 'etcd-bad-revision-key', offset: item.offset, found: item.key.length });
      continue;
    }
    if (r.tombstone) out.tombstones++;
    out.firstRevision ??= r;
    out.lastRevision = r;
  }
  return out;
}

/** Main revision of the last key of `key` (what etcd reports as the db's revision). */
export function lastRevision(db: BoltDb): bigint | undefined {
  return summarizeKeys(db).lastRevision?.main;
}

export type VersionEvidence =
  | { fact: 'storageVersion'; value: string }
  | { fact: 'term-present'; value: bigint }
  | { fact: 'confState-present' }
  | { fact: 'no-term' }
  | { fact: 'no-meta-bucket' }
  | { fact: 'clusterVersion'; value: string }
  | { fact: 'downgrade-key' };

/**
 * The etcd release line whose keys the meta bucket holds: its storageVersion (3.6, or 3.7 for a
 * 3.7.x storage version), else meta/term (3.5), else 3.4.
 */
export function writerLine(meta: Pick<EtcdMeta, 'term' | 'storageVersion'>): '3.4' | '3.5' | '3.6' | '3.7' {
  if (meta.storageVersion !== undefined) return meta.storageVersion.startsWith('3.7') ? '3.7' : '3.6';
  return meta.term !== undefined ? '3.5' : '3.4';
}

export interface WriterGuess {
  /**
   * '3.6+' (meta/storageVersion), '3.5' (meta/term, no storageVersion), '<=3.4' (meta but no term),
   * 'unknown' (no meta bucket). A 3.4 `snapshot restore` or a 3.5 db opened by 3.4 blurs this:
   * the evidence says what was seen.
   */
  writer: '<=3.4' | '3.5' | '3.6+' | 'unknown';
  evidence: VersionEvidence[];
}

/** Which etcd most likely wrote this db, and why. */
export function guessWriter(meta: EtcdMeta, bucketNames: readonly string[]): WriterGuess {
  const evidence: VersionEvidence[] = [];
  if (meta.clusterVersion !== undefined) evidence.push({ fact: 'clusterVersion', value: meta.clusterVersion });
  if (meta.downgrade) evidence.push({ fact: 'downgrade-key' });
  if (meta.confState) evidence.push({ fact: 'confState-present' });
  if (meta.storageVersion !== undefined) {
    evidence.unshift({ fact: 'storageVersion', value: meta.storageVersion });
    return { writer: '3.6+', evidence };
  }
  if (meta.term !== undefined) {
    evidence.unshift({ fact: 'term-present', value: meta.term });
    return { writer: '3.5', evidence };
  }
  if (!bucketNames.includes('meta')) {
    evidence.unshift({ fact: 'no-meta-bucket' });
    return { writer: 'unknown', evidence };
  }
  evidence.unshift({ fact: 'no-term' });
  return { writer: '<=3.4', evidence };
}

export interface SnapshotStatus {
  /** CRC-32C over bucket names and their keys/values, as `snapshot status` prints it (unsigned). */
  hash: number;
  revision: bigint;
  totalKey: number;
  /** pgid × page size. */
  totalSize: number;
  /** meta/storageVersion (3.6 prints it as `version`). */
  version?: string;
  /** False when etcd's status command would refuse the file (its integrity check found errors). */
  integrityOk: boolean;
  findings: BboltFinding[];
}

/**
 * `etcdutl snapshot status` (3.5/3.6) / `etcdctl snapshot status` (3.4): bbolt's check, then a
 * CRC-32C fed with each top-level bucket's name followed by each of its keys and values in order;
 * revision = main of the last key of `key`; totalKey = number of items over all buckets. The hash
 * is computed even when etcd would refuse the file, from what is readable.
 */
export function snapshotStatus(db: BoltDb): SnapshotStatus {
  const checked = check(db);
  let crc = 0;
  let totalKey = 0;
  let revision = 0n;
  for (const ref of db.bucketRefs()) {
    crc = CRC32C.buf(ref.name, crc);
    const isKey = nameText(ref.name) === 'key';
    for (const item of db.bucketItems(ref)) {
      crc = CRC32C.buf(item.key, crc);
      // bbolt's ForEach hands out a nil value for a nested bucket.
      if (!(item.flags & 1)) crc = CRC32C.buf(item.value, crc);
      if (isKey && item.key.length >= 8) revision = be64(item.key);
      totalKey++;
    }
  }
  const status: SnapshotStatus = {
    hash: crc >>> 0,
    revision,
    totalKey,
    totalSize: db.logicalSize,
    integrityOk: !checked.findings.some(isIntegrityError),
    findings: checked.findings,
  };
  const sv = db.get('meta', 'storageVersion');
  if (sv) status.version = text.decode(sv);
  return status;
}

/**
 * Findings that make etcd's status command fail (bbolt's check reports them, or reading panics).
 * Ours only: a header id that differs from the page's position (bbolt never compares them), empty
 * keys and empty branch pages (legal to read), metas disagreeing on the page size.
 */
function isIntegrityError(f: BboltFinding): boolean {
  switch (f.code) {
    case 'bbolt-page-id-mismatch':
    case 'bbolt-empty-key':
    case 'bbolt-branch-empty':
    case 'bbolt-meta-page-size-mismatch':
    case 'bbolt-meta-fallback':
    case 'bbolt-snapshot-no-trailer':
    case 'bbolt-snapshot-hash-mismatch':
      return false;
    case 'bbolt-meta-checksum':
    case 'bbolt-bad-magic':
    case 'bbolt-bad-version':
    case 'bbolt-bad-page-size':
    case 'bbolt-big-endian':
      // bbolt opens with one bad meta as long as the other is valid.
      return false;
    default:
      return true;
  }
}
