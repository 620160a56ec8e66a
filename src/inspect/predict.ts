/**
 * What etcd will do when it boots on this data dir, step by step as its bootstrap does it
 * (spec etcd-wal.md §4.1–4.7, etcd-snap.md §5.5), for each release line:
 *
 *  0. The backend is opened first: bbolt's Open (`db-open`), a new empty db when the file is absent
 *     or empty.
 *  1. ValidSnapshotEntries reads every segment from the first; the first failure that is not
 *     "unexpected EOF" aborts the start. It keeps snapshot records ≤ the last HardState's commit.
 *  2. The newest valid `.snap` that matches one of them is loaded (invalid ones are renamed
 *     `.broken`); a snapshot newer than the db needs `<index>.snap.db`.
 *  3. wal.Open picks the last segment named at or below the snapshot index; sequence numbers from
 *     there must be consecutive. ReadAll decodes from there; "unexpected EOF" triggers Repair of the
 *     last segment (truncate at the failing record, keep a `.broken` copy) and one retry.
 *  4. raft loads the HardState: a commit outside [snapshot index, last index] panics.
 *  5. The lessor and the mvcc store read the db (`db-restore`).
 *  6. raft hands over the entries after the snapshot; etcd applies each: an entry type other than
 *     normal or conf change panics, and so does a payload that does not unmarshal.
 *  7. A member that is not a voter in its own conf state never gets a leader.
 *
 * Every failure is a typed `BootFailure`; the texts etcd prints for it come from `etcd-texts.ts`.
 * The prediction works from the facts the analysis collected; nothing is re-read.
 */
import type { SegmentEnd } from '../format/wal/decoder.js';
import { LEGACY_MAX_RECORD_BYTES } from '../format/wal/frame.js';
import type { RecordDecodeFailure } from '../format/wal/record.js';
import type { InvalidWireFormat, UnmarshalFailure } from '../format/proto/wire.js';
import type { OpenFailure } from '../format/bbolt/open-sim.js';
import type { RestoreFailure } from '../format/bbolt/etcd-restore.js';
import type { ConfChangeRef, WalAnalysis, WalSnapshotRecord } from './wal-analysis.js';
import type { ApplyProblem, ApplyProblems } from './apply-check.js';

export const ETCD_VERSIONS = ['3.4', '3.5', '3.6', '3.7'] as const;
export type EtcdVersion = (typeof ETCD_VERSIONS)[number];

export interface SnapFileFacts {
  name: string;
  term: bigint;
  index: bigint;
  valid: boolean;
  error: string | undefined;
  /** Voters in the snapshot's conf state (valid files only). */
  voters: bigint[];
}

/** What etcd's backend does at boot, for one release line. */
export type DbBoot =
  /** No file (or a 0-byte one): bbolt creates an empty db, consistent index 0. */
  | { kind: 'new' }
  | {
      kind: 'opens';
      consistentIndex: bigint;
      clusterVersion: string | undefined;
      /** meta/storageVersion (3.6+ write it), e.g. `3.6.0`. */
      storageVersion: string | undefined;
      /** Voters in the db's members bucket (3.7 builds raft's conf state from them). */
      voters: bigint[];
      /** The members bucket (learners among them) and members_removed: what 3.6+ check a conf change above the consistent index against. */
      members?: { present: bigint[]; learners: bigint[]; removed: bigint[] };
      restore: RestoreFailure | undefined;
    }
  | { kind: 'fails'; failure: OpenFailure; racesWith?: DbRace };

/** What else may kill etcd first when bbolt's failure is a panic in another goroutine. */
export type DbRace = { open: OpenFailure } | { restore: RestoreFailure };

export interface DbFacts {
  /** The file exists (even empty). */
  present: boolean;
  /** Per release line (bbolt differs between them). */
  boot: (v: EtcdVersion) => DbBoot;
}

/** A log entry some etcd line cannot apply: found in the walk, located, with its raft index. */
export interface BadEntry {
  index: bigint;
  term: bigint;
  segment: number;
  offset: number;
  /** The running CRC before this record: where a rewrite from it continues the chain. */
  crcIn: number;
  problems: ApplyProblems;
}

export interface BootInput {
  wal: WalAnalysis;
  snapFiles: SnapFileFacts[];
  /** Names of `<index>.snap.db` files present. */
  snapDbIndexes: bigint[];
  db: DbFacts;
}

export type Outcome = 'starts' | 'self-repairs' | 'fails' | 'never-healthy';

/** How etcd's decoder (of one version) classifies where a segment's good data ends. */
export type DecodeError =
  | { kind: 'max-entry-size' }
  | { kind: 'record'; failure: RecordDecodeFailure }
  | { kind: 'crc-mismatch'; stored: number; computed: number; segment: string; offset: number }
  | { kind: 'crc-link-mismatch' };

export type UnexpectedEof =
  | { kind: 'plain' }
  /** 3.6+: a torn record found by its CRC check (not by unmarshal) names the file and position. */
  | { kind: 'torn-crc'; segment: string; offset: number }
  /** 3.5+: the length word claims more than the file has left. */
  | { kind: 'entry-limit'; segment: string; recBytes: number; fileSize: number; offset: number; padBytes: number; limit: number };

export interface SnapRef {
  term: bigint;
  index: bigint;
  name: string;
}

export type BootFailure =
  | { code: 'no-wal' }
  | { code: 'downgrade'; clusterVersion: string }
  /** 3.6+: the db's storage version is newer than this etcd (its schema migration has no step down). */
  | { code: 'storage-version'; storageVersion: string }
  /** A WAL record with a valid CRC whose data does not unmarshal (state and snapshot records in discovery, entries in ReadAll). */
  | { code: 'wal-record-unmarshal'; recordType: number; error: string; segment: number; offset: number }
  | { code: 'db-open'; failure: OpenFailure; racesWith?: DbRace }
  | { code: 'wal-decode'; phase: 'discovery' | 'read'; error: DecodeError }
  /** Repair was needed but the last segment fails in a way Repair cannot fix. */
  | { code: 'wal-repair'; eof: UnexpectedEof }
  /** Repair only touches the last segment; an unexpected EOF in an earlier one stays. */
  | { code: 'wal-eof-not-last'; eof: UnexpectedEof }
  | { code: 'snap-db-missing'; snapshot: SnapRef; dbAbsent: boolean }
  | { code: 'wal-not-found'; index: bigint }
  /** `nameIndex`: position of the first segment read in the sorted list of names. */
  | { code: 'wal-seq-gap'; nameIndex: number }
  | { code: 'wal-block-type'; recordType: number }
  | { code: 'wal-metadata-conflict' }
  | { code: 'wal-slice-bounds'; snapshot: SnapRef; entry: { index: bigint; term: bigint } | undefined; entries: bigint }
  | { code: 'wal-snapshot-not-found' }
  | { code: 'wal-snapshot-mismatch' }
  | { code: 'commit-out-of-range'; memberId: bigint | undefined; commit: bigint; first: bigint; last: bigint }
  | { code: 'db-restore'; failure: RestoreFailure }
  /** An entry applied at boot that this line's apply code panics on. */
  | { code: 'apply-fails'; entry: { index: bigint; segment: number; offset: number }; problem: ApplyProblem }
  /**
   * 3.6: a conf change above the consistent index that the db's members refuse (`refusal`), handed
   * to raft with no node ID while raft has no voter: raft panics `removed all voters`.
   */
  | { code: 'conf-change-refused'; entry: { index: bigint; segment: number; offset: number }; nodeId: bigint; refusal: string };

/** What 3.6's ValidateConfigurationChange says of conf change `c` against the db's members; undefined when it passes. */
function refusalOf(c: ConfChangeRef, m: { present: Set<bigint>; learners: Set<bigint>; removed: Set<bigint> }): string | undefined {
  if (m.removed.has(c.nodeId)) return 'membership: ID removed';
  if (c.type === 0 || c.type === 3) {
    // an AddNode of a learner the db has is (most likely) its promotion, which passes
    if (m.present.has(c.nodeId) && !(c.type === 0 && m.learners.has(c.nodeId))) return 'membership: ID exists';
    return undefined;
  }
  return m.present.has(c.nodeId) ? undefined : 'membership: ID not found';
}

/** Starts, but does not serve: raft never gets a leader, or the member is not published yet. */
export type Stall =
  | { code: 'no-voters' }
  | { code: 'not-a-voter'; memberId: bigint; voters: bigint[] }
  /**
   * 3.6+: the db is ahead of the log. The new leader's empty entry takes the log's next index, and
   * each attempt to publish the member's attributes the one after; etcd does not apply an entry
   * at or below the consistent index, so each attempt up to it times out (PUBLISH_TIMEOUT_S) and
   * /health stays false until one lands above it: `timeouts` of them.
   */
  | { code: 'db-ahead'; consistentIndex: bigint; lastIndex: bigint; timeouts: number };

/**
 * How long one attempt to publish the member waits: etcd's request timeout, 5 s plus twice the
 * election timeout (1 s by default). Checked on 3.6.16: a db two entries ahead of its log logged
 * one `failed to publish local member to cluster through raft` 7 s after the election, and served.
 */
export const PUBLISH_TIMEOUT_S = 7;

export interface RepairByEtcd {
  segment: string;
  /** etcd truncates the segment here (start of the failing record's length word). */
  truncateAt: number;
  brokenCopy: string;
  /** Valid records after the cut that etcd's repair throws away (found by scanning). */
  validRecordsDropped: number;
  entriesDropped: number;
  firstDroppedIndex: bigint | undefined;
  lastDroppedIndex: bigint | undefined;
  eof: UnexpectedEof;
}

export type Hazard =
  | { code: 'db-ahead-of-wal'; consistentIndex: bigint; lastIndex: bigint }
  | { code: 'etcd-repair-drops-valid-records'; records: number; entries: number; first: bigint | undefined; last: bigint | undefined }
  /**
   * The log ends at a zero length word with records after it: etcd reads none of them. Valid ones
   * (their CRC chain checks), or `unchained`: the record before them is destroyed, so their chain
   * cannot be checked, but the first is the log's next entry, and the db never applied them.
   */
  | { code: 'records-hidden'; segment: string; offset: number; records: number; entries: number; first: bigint | undefined; last: bigint | undefined; committed: number; unchained: boolean; behindIntact: boolean };

export interface BootPrediction {
  version: EtcdVersion;
  outcome: Outcome;
  failure: BootFailure | undefined;
  stall: Stall | undefined;
  repair: RepairByEtcd | undefined;
  snapshot: SnapRef | undefined;
  /** `.snap` files etcd would rename to `.broken` on the way. */
  snapsRenamedBroken: string[];
  /** The db bbolt creates or opens. */
  db: DbBoot;
  /** Raft state after a successful start. */
  lastIndex: bigint | undefined;
  commit: bigint | undefined;
  /** Problems etcd will not report at boot but that lose or hide data. */
  hazards: Hazard[];
}

/**
 * What protobuf-go (3.7) makes of a record gogo refused: every one of gogo's failures is malformed
 * wire data to protobuf-go too, but for a known field with another wire type, which protobuf-go
 * skips as an unknown field (what 3.7 then does with the record is not modelled: gogo's failure is
 * kept).
 */
function asProtobufGo(f: UnmarshalFailure): UnmarshalFailure {
  const why: { [K in UnmarshalFailure['kind']]?: InvalidWireFormat } = {
    'unexpected-eof': 'truncated',
    'negative-length': 'truncated',
    'int-overflow': 'varint-overflow',
    'illegal-tag': 'field-number',
    'end-group': 'end-group',
    'unexpected-end-group': 'end-group',
    'illegal-wire-type': 'reserved-wire-type',
    'too-deep': 'group-depth',
  };
  const w = why[f.kind];
  return w === undefined ? f : { kind: 'invalid-wire-format', type: f.type, at: f.at, field: 'field' in f ? f.field : 0, why: w };
}

type Classified = { kind: 'clean' } | { kind: 'unexpected-eof'; eof: UnexpectedEof } | { kind: 'fatal'; error: DecodeError };

/** How etcd's decoder (of this version) treats the end of a segment's good data. */
export function classifyEnd(end: SegmentEnd, seg: { name: string; size: number }, isLast: boolean, v: EtcdVersion): Classified {
  const legacyTooBig = (n: number, pad: number) => v === '3.4' && n >= LEGACY_MAX_RECORD_BYTES - pad;
  switch (end.kind) {
    case 'eof':
    case 'zero-length':
      return { kind: 'clean' };
    case 'short-length-word':
      return { kind: 'unexpected-eof', eof: { kind: 'plain' } };
    case 'oversized': {
      const { recBytes: n, padBytes: pad } = end.frame;
      if (legacyTooBig(n, pad)) return { kind: 'fatal', error: { kind: 'max-entry-size' } };
      const limit = seg.size - end.offset - pad;
      if (v !== '3.4' && n > limit) {
        return { kind: 'unexpected-eof', eof: { kind: 'entry-limit', segment: seg.name, recBytes: n, fileSize: seg.size, offset: end.offset, padBytes: pad, limit } };
      }
      return { kind: 'unexpected-eof', eof: { kind: 'plain' } };
    }
    case 'decode-error':
      if (legacyTooBig(end.frame.recBytes, end.frame.padBytes)) return { kind: 'fatal', error: { kind: 'max-entry-size' } };
      if (isLast && end.zeroSector) return { kind: 'unexpected-eof', eof: { kind: 'plain' } };
      // 3.7 unmarshals walpb.Record with protobuf-go, which has no io.ErrUnexpectedEOF: a record cut
      // short inside is fatal there unless it is torn (checked with real 3.7.3).
      if (v === '3.7') return { kind: 'fatal', error: { kind: 'record', failure: asProtobufGo(end.failure) } };
      if (end.failure.kind === 'unexpected-eof') return { kind: 'unexpected-eof', eof: { kind: 'plain' } };
      return { kind: 'fatal', error: { kind: 'record', failure: end.failure } };
    case 'crc-mismatch':
      if (legacyTooBig(end.frame.recBytes, end.frame.padBytes)) return { kind: 'fatal', error: { kind: 'max-entry-size' } };
      if (isLast && end.zeroSector) return { kind: 'unexpected-eof', eof: v === '3.4' || v === '3.5' ? { kind: 'plain' } : { kind: 'torn-crc', segment: seg.name, offset: end.offset } };
      return { kind: 'fatal', error: { kind: 'crc-mismatch', stored: end.stored, computed: end.computed, segment: seg.name, offset: end.offset } };
    case 'crc-link-mismatch':
      return { kind: 'fatal', error: { kind: 'crc-link-mismatch' } };
  }
}

function cmpVersion(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

interface Partial {
  repair?: RepairByEtcd | undefined;
  snapshot?: SnapRef | undefined;
  snapsRenamedBroken?: string[];
  lastIndex?: bigint | undefined;
  commit?: bigint | undefined;
}

export function predictBoot(input: BootInput, v: EtcdVersion): BootPrediction {
  const { wal } = input;
  const db = input.db.boot(v);
  const fail = (failure: BootFailure, extra: Partial = {}): BootPrediction => ({
    version: v,
    outcome: 'fails',
    failure,
    stall: undefined,
    repair: extra.repair,
    snapshot: extra.snapshot,
    snapsRenamedBroken: extra.snapsRenamedBroken ?? [],
    db,
    lastIndex: extra.lastIndex,
    commit: extra.commit,
    hazards: [],
  });
  const segs = wal.segments.filter((s) => s.parsed !== undefined);
  if (segs.length === 0) return fail({ code: 'no-wal' });
  const modern = v !== '3.4' && v !== '3.5';
  // 3.4/3.5 refuse a cluster version above their own; 3.6+ check the storage version instead, later.
  if (!modern && db.kind === 'opens' && db.clusterVersion !== undefined && cmpVersion(db.clusterVersion, `${v}.0`) > 0) {
    return fail({ code: 'downgrade', clusterVersion: db.clusterVersion });
  }
  // 0. The backend.
  if (db.kind === 'fails') return fail({ code: 'db-open', failure: db.failure, ...(db.racesWith ? { racesWith: db.racesWith } : {}) });
  if (db.kind === 'opens' && db.restore?.code === 'meta-value-short') return fail({ code: 'db-restore', failure: db.restore });

  // 1. ValidSnapshotEntries: all segments from the first, one decoder.
  const hsBefore = (upTo: number) => {
    for (let i = upTo; i >= 0; i--) {
      const hs = segs[i]!.lastHardState;
      if (hs) return hs;
    }
    return undefined;
  };
  let vseStop = segs.length - 1;
  for (let i = 0; i < segs.length; i++) {
    const c = classifyEnd(segs[i]!.end, segs[i]!, i === segs.length - 1, v);
    if (c.kind === 'fatal') return fail({ code: 'wal-decode', phase: 'discovery', error: c.error });
    if (c.kind === 'unexpected-eof') {
      vseStop = i;
      break;
    }
  }
  const segIndex = new Map(segs.map((s, i) => [s.index, i]));
  const inVseScope = (seg: number, offset: number) => {
    const i = segIndex.get(seg);
    if (i === undefined || i > vseStop) return false;
    return i < vseStop || offset < segs[vseStop]!.end.offset;
  };
  // ValidSnapshotEntries unmarshals every snapshot and state record (pbutil.MustUnmarshal panics).
  const badRecord = wal.undecodable.find((u) => (u.type === 3 || u.type === 5) && inVseScope(u.segment, u.offset));
  if (badRecord) return fail({ code: 'wal-record-unmarshal', recordType: badRecord.type, error: badRecord.error, segment: badRecord.segment, offset: badRecord.offset });
  const hs = hsBefore(vseStop);
  const commit = hs?.commit ?? 0n;
  const inVse = (r: WalSnapshotRecord) => {
    const i = segIndex.get(r.segment);
    if (i === undefined || i > vseStop) return false;
    return i < vseStop || r.offset < segs[vseStop]!.end.offset;
  };
  const valid = wal.snapshots.filter((r) => inVse(r) && r.index <= commit);

  // 2. Snapshot choice.
  const renamed: string[] = [];
  let chosen: SnapRef | undefined;
  let chosenFile: SnapFileFacts | undefined;
  // 3.7 no longer reads .snap files: it starts from the newest valid WAL snapshot record.
  const byNameDesc = v === '3.7' ? [] : [...input.snapFiles].sort((a, b) => (a.name < b.name ? 1 : -1));
  if (v === '3.7') {
    const newest = valid[valid.length - 1];
    if (newest && newest.index > 0n) chosen = { term: newest.term, index: newest.index, name: `WAL snapshot record ${newest.index}` };
  }
  for (const f of byNameDesc) {
    if (!f.valid) {
      renamed.push(f.name);
      continue;
    }
    if (valid.some((r) => r.index === f.index && r.term === f.term)) {
      chosen = { term: f.term, index: f.index, name: f.name };
      chosenFile = f;
      break;
    }
  }
  const ci = db.kind === 'opens' ? db.consistentIndex : 0n;
  if (chosen && chosen.index > ci && !input.snapDbIndexes.includes(chosen.index)) {
    return fail({ code: 'snap-db-missing', snapshot: chosen, dbAbsent: db.kind === 'new' }, { snapshot: chosen, snapsRenamedBroken: renamed });
  }
  // 3.6+: schema.Validate, once the backend is recovered and before the WAL is read.
  if (modern && db.kind === 'opens' && db.storageVersion !== undefined) {
    const sv = db.storageVersion.split('.').map(Number);
    if ((sv[0] ?? 0) === 3 && (sv[1] ?? 0) > Number(v.split('.')[1])) {
      return fail({ code: 'storage-version', storageVersion: `${sv[0]}.${sv[1]}.0` }, { snapshot: chosen, snapsRenamedBroken: renamed });
    }
  }

  // 3. wal.Open at the snapshot.
  const start = chosen ?? { term: 0n, index: 0n, name: '' };
  let k = -1;
  for (let i = segs.length - 1; i >= 0; i--) {
    if (segs[i]!.parsed!.index <= start.index) {
      k = i;
      break;
    }
  }
  const at = { snapshot: chosen, snapsRenamedBroken: renamed };
  if (k < 0) return fail({ code: 'wal-not-found', index: start.index }, at);
  for (let i = k + 1; i < segs.length; i++) {
    const prev = segs[i - 1]!.parsed!.seq;
    if (prev !== 0n && segs[i]!.parsed!.seq !== prev + 1n) return fail({ code: 'wal-seq-gap', nameIndex: k }, at);
  }

  // ReadAll from segment k, possibly after one Repair of the last segment.
  let stop = segs.length - 1;
  let stopErr: Classified = { kind: 'clean' };
  for (let i = k; i < segs.length; i++) {
    const c = classifyEnd(segs[i]!.end, segs[i]!, i === segs.length - 1, v);
    if (c.kind !== 'clean') {
      stop = i;
      stopErr = c;
      break;
    }
  }
  let repair: RepairByEtcd | undefined;
  const hazards: Hazard[] = [];
  if (stopErr.kind === 'fatal') return fail({ code: 'wal-decode', phase: 'read', error: stopErr.error }, at);
  if (stopErr.kind === 'unexpected-eof') {
    const last = segs[segs.length - 1]!;
    const lc = classifyEnd(last.end, last, true, v);
    if (lc.kind === 'fatal') return fail({ code: 'wal-repair', eof: stopErr.eof }, at);
    // Repair only ever touches the last segment; the retry fails the same way.
    if (stop !== segs.length - 1) return fail({ code: 'wal-eof-not-last', eof: stopErr.eof }, at);
    repair = {
      segment: last.name,
      truncateAt: last.end.offset,
      brokenCopy: `${last.name}.broken`,
      validRecordsDropped: last.salvage.chained > 0 ? last.salvage.records : 0,
      entriesDropped: last.salvage.entries,
      firstDroppedIndex: last.salvage.firstIndex,
      lastDroppedIndex: last.salvage.lastIndex,
      eof: stopErr.eof,
    };
    if (last.salvage.chained > 0) {
      hazards.push({ code: 'etcd-repair-drops-valid-records', records: last.salvage.records, entries: last.salvage.entries, first: last.salvage.firstIndex, last: last.salvage.lastIndex });
    }
  }
  const withRepair = { ...at, repair };

  const scope = segs.slice(k, stop + 1);
  const inScope = (seg: number, offset: number) => {
    const i = segIndex.get(seg);
    if (i === undefined || i < k || i > stop) return false;
    return i < stop || offset < segs[stop]!.end.offset;
  };
  const unknown = wal.unknownTypes.find((u) => inScope(u.segment, u.offset));
  if (unknown) return fail({ code: 'wal-block-type', recordType: unknown.type }, withRepair);
  if (wal.metadataConflicts.some((m) => inScope(m.segment, m.offset))) return fail({ code: 'wal-metadata-conflict' }, withRepair);

  const firstAbove = scope.find((s) => s.lastEntry !== undefined && s.lastEntry.index > start.index);
  if (firstAbove?.firstEntry && firstAbove.firstEntry.index > start.index + 1n) {
    return fail({ code: 'wal-slice-bounds', snapshot: start, entry: firstAbove.firstEntry, entries: 0n }, withRepair);
  }
  const gap = wal.gaps.find((g) => inScope(g.segment, g.offset) && g.index > start.index + 1n);
  if (gap) {
    return fail({ code: 'wal-slice-bounds', snapshot: start, entry: { index: gap.index, term: gap.term }, entries: gap.prevIndex > start.index ? gap.prevIndex - start.index : 0n }, withRepair);
  }
  const badEntryRecord = wal.undecodable.find((u) => u.type === 2 && inScope(u.segment, u.offset));
  if (badEntryRecord) return fail({ code: 'wal-record-unmarshal', recordType: 2, error: badEntryRecord.error, segment: badEntryRecord.segment, offset: badEntryRecord.offset }, withRepair);
  const snapRecs = wal.snapshots.filter((r) => inScope(r.segment, r.offset) && r.index === start.index);
  if (snapRecs.length === 0) return fail({ code: 'wal-snapshot-not-found' }, withRepair);
  if (snapRecs.some((r) => r.term !== start.term)) return fail({ code: 'wal-snapshot-mismatch' }, withRepair);

  // Records a zero length word hides: etcd's decoder stops there, silently.
  // After the last one, records whose chain cannot be checked (a power cut that lost the block
  // before them) still hide writes when the first is the log's next entry and the db lacks them.
  for (const s of scope) {
    // the log's next entry, or the next after those the db applied (their records lost with the block)
    const upTo = s.lastEntry === undefined ? undefined : s.lastEntry.index > ci ? s.lastEntry.index : ci;
    const next = s.lastEntry !== undefined && upTo !== undefined && s.salvage.firstIndex !== undefined && s.salvage.firstIndex > s.lastEntry.index && s.salvage.firstIndex <= upTo + 1n && (s.salvage.firstTerm ?? 0n) >= s.lastEntry.term;
    const unchained = s === scope[scope.length - 1] && s.salvage.chained === 0 && s.end.kind === 'zero-length' && s.end.nonZeroAfter !== undefined && next && s.salvage.lastIndex !== undefined && s.salvage.lastIndex > ci;
    if ((s.end.kind === 'zero-length' && s.end.nonZeroAfter !== undefined && s.salvage.chained > 0) || unchained) {
      const committedAbove = wal.maxCommitSeen;
      const lastGood = s.lastEntry?.index ?? 0n;
      let committed = 0;
      if (s.salvage.firstIndex !== undefined && s.salvage.lastIndex !== undefined) {
        const top = s.salvage.lastIndex < committedAbove ? s.salvage.lastIndex : committedAbove;
        const from = s.salvage.firstIndex > lastGood ? s.salvage.firstIndex : lastGood + 1n;
        if (top >= from) committed = Number(top - from + 1n);
      }
      hazards.push({ code: 'records-hidden', segment: s.name, offset: s.end.offset, records: s.salvage.records, entries: s.salvage.entries, first: s.salvage.firstIndex, last: s.salvage.lastIndex, committed, unchained: s.salvage.chained === 0, behindIntact: s.salvage.firstOffset === s.end.offset });
    }
  }

  // 4. raft.
  // The last entry record read decides the log's end (a lower index overwrites what follows it).
  const lastSegWithEntry = [...scope].reverse().find((s) => s.lastEntry !== undefined);
  const lastIndex = lastSegWithEntry?.lastEntry && lastSegWithEntry.lastEntry.index > start.index ? lastSegWithEntry.lastEntry.index : start.index;
  const state = hsBefore(stop);
  const finalCommit = state?.commit ?? 0n;
  const raftState = { ...withRepair, lastIndex, commit: finalCommit };
  if (finalCommit > lastIndex || (state !== undefined && finalCommit < start.index)) {
    return fail({ code: 'commit-out-of-range', memberId: wal.metadata?.nodeId, commit: finalCommit, first: start.index, last: lastIndex }, raftState);
  }

  // 5. The lessor and mvcc restore read the db.
  if (db.kind === 'opens' && db.restore) return fail({ code: 'db-restore', failure: db.restore }, raftState);

  // Voters once the committed conf changes after the snapshot are applied (raft applies committed
  // entries at restart without a leader): the snapshot's conf state, then each change in order.
  // 3.7 builds the conf state from the db's members instead.
  const voterSet = new Set<bigint>(v === '3.7' ? (db.kind === 'opens' ? db.voters : []) : (chosenFile?.voters ?? []));
  // 3.6+ check a conf change above the consistent index against the db's members (below it, against
  // the v2 store the .snap and the log rebuild). One they refuse goes to raft with no node ID, and
  // raft, left without a voter, panics. That takes a db whose members are ahead of the index etcd
  // reads: seen on 3.6.16 where a power cut hid `consistent_index` from bbolt's search (read as 0)
  // and the bootstrap's AddNode of the member was replayed (`membership: ID exists`). 3.7 starts
  // raft with the db's voters: it logs the refusal and goes on. (A clash of peer URLs is not modelled.)
  const backend = modern && db.kind === 'opens' && db.members ? { present: new Set(db.members.present), learners: new Set(db.members.learners), removed: new Set(db.members.removed) } : undefined;
  for (const c of wal.confChanges) {
    if (c.index <= start.index || c.index > finalCommit || !inScope(c.segment, c.offset)) continue;
    if (backend && c.index > ci && c.type >= 0) {
      const refusal = refusalOf(c, backend);
      if (refusal !== undefined) {
        if (voterSet.size === 0) return fail({ code: 'conf-change-refused', entry: { index: c.index, segment: c.segment, offset: c.offset }, nodeId: c.nodeId, refusal }, raftState);
        continue;
      }
      if (c.type === 0 || c.type === 3) backend.present.add(c.nodeId);
      else if (c.type === 1) {
        backend.present.delete(c.nodeId);
        backend.removed.add(c.nodeId);
      }
    }
    if (c.type === 0) voterSet.add(c.nodeId);
    else if (c.type === 1 || c.type === 3) voterSet.delete(c.nodeId);
  }
  const voters = [...voterSet];

  // 6. Entries applied at boot: after the snapshot, up to the commit (a single member commits its
  //    whole log once it elects itself).
  const applyTo = voters.length <= 1 ? lastIndex : finalCommit;
  const bad = wal.badEntries.find((b) => b.problems[v] !== undefined && b.index > start.index && b.index <= applyTo && inScope(b.segment, b.offset));
  if (bad) return fail({ code: 'apply-fails', entry: { index: bad.index, segment: bad.segment, offset: bad.offset }, problem: bad.problems[v]! }, raftState);

  if (db.kind === 'opens' && ci > lastIndex) hazards.push({ code: 'db-ahead-of-wal', consistentIndex: ci, lastIndex });

  // 7. A member that is not a voter of its own conf state never campaigns, so never gets a leader
  //    (alone, or when the others do not know it either).
  let stall: Stall | undefined;
  const memberId = wal.metadata?.nodeId;
  if (voters.length === 0) stall = { code: 'no-voters' };
  else if (memberId !== undefined && !voterSet.has(memberId)) stall = { code: 'not-a-voter', memberId, voters };
  // 3.6+ publish the member's attributes through raft at start and serve once that applied: with
  // the db ahead of the log, the attempts at indexes it has applied time out one after the other.
  else if (modern && db.kind === 'opens' && ci > lastIndex + 1n) {
    const gap = ci - lastIndex - 1n;
    stall = { code: 'db-ahead', consistentIndex: ci, lastIndex, timeouts: gap > 1_000_000n ? 1_000_000 : Number(gap) };
  }
  return {
    version: v,
    outcome: stall ? 'never-healthy' : repair ? 'self-repairs' : 'starts',
    failure: undefined,
    stall,
    repair,
    snapshot: chosen,
    snapsRenamedBroken: renamed,
    db,
    lastIndex,
    commit: finalCommit,
    hazards,
  };
}
