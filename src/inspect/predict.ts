/**
 * What etcd will do when it boots on this data dir, step by step as its bootstrap does it
 * (spec etcd-wal.md §4.1–4.7, etcd-snap.md §5.5), for each release line:
 *
 *  1. ValidSnapshotEntries reads every segment from the first; the first failure that is not
 *     "unexpected EOF" aborts the start. It keeps snapshot records ≤ the last HardState's commit.
 *  2. The newest valid `.snap` that matches one of them is loaded (invalid ones are renamed
 *     `.broken`); a snapshot newer than the db needs `<index>.snap.db`.
 *  3. wal.Open picks the last segment named at or below the snapshot index; sequence numbers from
 *     there must be consecutive. ReadAll decodes from there; "unexpected EOF" triggers Repair of the
 *     last segment (truncate at the failing record, keep a `.broken` copy) and one retry.
 *  4. raft loads the HardState: a commit beyond the last entry panics.
 *
 * The prediction works from the facts the analysis collected; nothing is re-read.
 */
import type { SegmentEnd } from '../format/wal/decoder.js';
import { LEGACY_MAX_RECORD_BYTES } from '../format/wal/frame.js';
import { hex16 } from '../format/wal/names.js';
import { recordFailureText } from '../format/wal/record.js';
import type { WalAnalysis, WalSnapshotRecord } from './wal-analysis.js';

export const ETCD_VERSIONS = ['3.4', '3.5', '3.6'] as const;
export type EtcdVersion = (typeof ETCD_VERSIONS)[number];

export const VERSION_DETAIL: Record<EtcdVersion, string> = {
  '3.4': '3.4.8 and later (checked against 3.4.23)',
  '3.5': '3.5.7 and later (checked against 3.5.30)',
  '3.6': '3.6 (from its source; no 3.6 binary was available to check)',
};

export interface SnapFileFacts {
  name: string;
  term: bigint;
  index: bigint;
  valid: boolean;
  error: string | undefined;
}

export interface DbFacts {
  present: boolean;
  /** undefined when the db could not be opened at all. */
  openError: string | undefined;
  consistentIndex: bigint | undefined;
  clusterVersion: string | undefined;
}

export interface BootInput {
  wal: WalAnalysis;
  snapFiles: SnapFileFacts[];
  /** Names of `<index>.snap.db` files present. */
  snapDbIndexes: bigint[];
  db: DbFacts;
}

export type Outcome = 'starts' | 'self-repairs' | 'fails';

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
}

export interface BootPrediction {
  version: EtcdVersion;
  detail: string;
  outcome: Outcome;
  /** The error value etcd ends with (or repairs), e.g. `walpb: crc mismatch`. */
  error: string | undefined;
  /** The fatal log message around it (zap `msg`), e.g. `failed to read WAL, cannot be repaired`. */
  log: string | undefined;
  repair: RepairByEtcd | undefined;
  snapshot: { term: bigint; index: bigint; name: string } | undefined;
  /** `.snap` files etcd would rename to `.broken` on the way. */
  snapsRenamedBroken: string[];
  /** Raft state after a successful start. */
  lastIndex: bigint | undefined;
  commit: bigint | undefined;
  /** Problems etcd will not report at boot but that lose or hide data. */
  hazards: Hazard[];
}

export type Hazard =
  | { code: 'db-ahead-of-wal'; consistentIndex: bigint; lastIndex: bigint }
  | { code: 'etcd-repair-drops-valid-records'; records: number; entries: number; first: bigint | undefined; last: bigint | undefined };

type Classified = { kind: 'clean' } | { kind: 'unexpected-eof'; error: string } | { kind: 'fatal'; error: string };

/** How etcd's decoder (of this version) treats the end of a segment's good data. */
export function classifyEnd(end: SegmentEnd, seg: { name: string; size: number }, isLast: boolean, v: EtcdVersion): Classified {
  const legacyTooBig = (n: number, pad: number) => v === '3.4' && n >= LEGACY_MAX_RECORD_BYTES - pad;
  switch (end.kind) {
    case 'eof':
    case 'zero-length':
      return { kind: 'clean' };
    case 'short-length-word':
      return { kind: 'unexpected-eof', error: 'unexpected EOF' };
    case 'oversized': {
      const { recBytes: n, padBytes: pad } = end.frame;
      if (legacyTooBig(n, pad)) return { kind: 'fatal', error: 'wal: max entry size limit exceeded' };
      const limit = seg.size - end.offset - pad;
      if (v !== '3.4' && n > limit) {
        const verb = v === '3.6' ? 'reading' : 'decoding';
        return {
          kind: 'unexpected-eof',
          error: `unexpected EOF: [wal] max entry size limit exceeded when ${verb} "${seg.name}", recBytes: ${n}, fileSize(${seg.size}) - offset(${end.offset}) - padBytes(${pad}) = entryLimit(${limit})`,
        };
      }
      return { kind: 'unexpected-eof', error: 'unexpected EOF' };
    }
    case 'decode-error':
      if (legacyTooBig(end.frame.recBytes, end.frame.padBytes)) return { kind: 'fatal', error: 'wal: max entry size limit exceeded' };
      if (end.failure.kind === 'unexpected-eof' || (isLast && end.zeroSector)) return { kind: 'unexpected-eof', error: 'unexpected EOF' };
      return { kind: 'fatal', error: recordFailureText(end.failure) };
    case 'crc-mismatch':
      if (legacyTooBig(end.frame.recBytes, end.frame.padBytes)) return { kind: 'fatal', error: 'wal: max entry size limit exceeded' };
      if (isLast && end.zeroSector) return { kind: 'unexpected-eof', error: 'unexpected EOF' };
      if (v === '3.6') {
        return {
          kind: 'fatal',
          error: `walpb: crc mismatch: expected: ${end.stored.toString(16)} computed: ${end.computed.toString(16)}: in file '${seg.name}' at position: ${end.offset}`,
        };
      }
      return { kind: 'fatal', error: 'walpb: crc mismatch' };
    case 'crc-link-mismatch':
      return { kind: 'fatal', error: v === '3.6' ? 'walpb: crc mismatch' : 'wal: crc mismatch' };
  }
}

function fail(v: EtcdVersion, error: string, log: string, extra: Partial<BootPrediction> = {}): BootPrediction {
  return {
    version: v,
    detail: VERSION_DETAIL[v],
    outcome: 'fails',
    error,
    log,
    repair: undefined,
    snapshot: undefined,
    snapsRenamedBroken: [],
    lastIndex: undefined,
    commit: undefined,
    hazards: [],
    ...extra,
  };
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

export function predictBoot(input: BootInput, v: EtcdVersion): BootPrediction {
  const { wal, db } = input;
  const segs = wal.segments.filter((s) => s.parsed !== undefined);
  if (segs.length === 0) {
    return fail(v, 'no WAL segment', 'etcd would start a NEW, empty member here (no *.wal file): the cluster state would be lost');
  }
  if (db.clusterVersion !== undefined && cmpVersion(db.clusterVersion, `${v}.0`) > 0) {
    return fail(v, `invalid downgrade; server version is lower than determined cluster version`, `cluster version ${db.clusterVersion} is newer than etcd ${v}`);
  }
  if (db.present && db.openError !== undefined) {
    return fail(v, `failed to open database: ${db.openError}`, 'panic: failed to open database');
  }

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
    if (c.kind === 'fatal') {
      return fail(v, c.error, v === '3.4' ? `etcdmain: ${c.error}` : 'discovery failed');
    }
    if (c.kind === 'unexpected-eof') {
      vseStop = i;
      break;
    }
  }
  const hs = hsBefore(vseStop);
  const commit = hs?.commit ?? 0n;
  const segIndex = new Map(segs.map((s, i) => [s.index, i]));
  const inVse = (r: WalSnapshotRecord) => {
    const i = segIndex.get(r.segment);
    if (i === undefined || i > vseStop) return false;
    return i < vseStop || r.offset < segs[vseStop]!.end.offset;
  };
  const valid = wal.snapshots.filter((r) => inVse(r) && r.index <= commit);

  // 2. Snapshot choice.
  const renamed: string[] = [];
  let chosen: BootPrediction['snapshot'];
  const byNameDesc = [...input.snapFiles].sort((a, b) => (a.name < b.name ? 1 : -1));
  for (const f of byNameDesc) {
    if (!f.valid) {
      renamed.push(f.name);
      continue;
    }
    if (valid.some((r) => r.index === f.index && r.term === f.term)) {
      chosen = { term: f.term, index: f.index, name: f.name };
      break;
    }
  }
  const ci = db.present ? (db.consistentIndex ?? 0n) : 0n;
  if (chosen && chosen.index > ci && !input.snapDbIndexes.includes(chosen.index)) {
    const err = 'failed to find database snapshot file (snap: snapshot file doesn\'t exist)';
    return fail(v, err, v === '3.4' ? `recovering backend from snapshot error: ${err}` : 'failed to recover v3 backend from snapshot', {
      snapshot: chosen,
      snapsRenamedBroken: renamed,
    });
  }
  if (!db.present && !chosen) {
    return fail(v, `database file (member/snap/db) of the backend is missing`, 'failed to recover from the WAL: the backend db is missing', {
      snapsRenamedBroken: renamed,
    });
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
  const openFail = (error: string) =>
    fail(v, error, v === '3.4' ? `open wal error: ${error}` : 'failed to open WAL', { snapshot: chosen, snapsRenamedBroken: renamed });
  if (k < 0) {
    return openFail(v === '3.6' ? `wal: file not found which matches the snapshot index '${start.index}'` : 'wal: file not found');
  }
  for (let i = k + 1; i < segs.length; i++) {
    const prev = segs[i - 1]!.parsed!.seq;
    if (prev !== 0n && segs[i]!.parsed!.seq !== prev + 1n) {
      return openFail(v === '3.6' ? `wal: file sequence numbers (starting from ${segs[k]!.parsed!.seq}) do not increase continuously` : 'wal: file not found');
    }
  }

  // ReadAll from segment k, possibly after one Repair of the last segment.
  const readFail = (error: string, extra: Partial<BootPrediction> = {}) =>
    fail(v, error, v === '3.4' ? `read wal error (${error}) and cannot be repaired` : 'failed to read WAL, cannot be repaired', {
      snapshot: chosen,
      snapsRenamedBroken: renamed,
      ...extra,
    });
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
  if (stopErr.kind === 'fatal') return readFail(stopErr.error);
  if (stopErr.kind === 'unexpected-eof') {
    const last = segs[segs.length - 1]!;
    const lc = classifyEnd(last.end, last, true, v);
    if (lc.kind === 'fatal') {
      return fail(v, stopErr.error, v === '3.4' ? `WAL error (${stopErr.error}) cannot be repaired` : 'failed to repair WAL', {
        snapshot: chosen,
        snapsRenamedBroken: renamed,
      });
    }
    if (stop !== segs.length - 1) {
      // Repair only ever touches the last segment; the retry fails the same way.
      return readFail(stopErr.error);
    }
    repair = {
      segment: last.name,
      truncateAt: last.end.offset,
      brokenCopy: `${last.name}.broken`,
      validRecordsDropped: last.salvage.chained > 0 ? last.salvage.records : 0,
      entriesDropped: last.salvage.entries,
      firstDroppedIndex: last.salvage.firstIndex,
      lastDroppedIndex: last.salvage.lastIndex,
    };
    if (last.salvage.chained > 0) {
      hazards.push({
        code: 'etcd-repair-drops-valid-records',
        records: last.salvage.records,
        entries: last.salvage.entries,
        first: last.salvage.firstIndex,
        last: last.salvage.lastIndex,
      });
    }
  }

  const scope = segs.slice(k, stop + 1);
  const inScope = (seg: number, offset: number) => {
    const i = segIndex.get(seg);
    if (i === undefined || i < k || i > stop) return false;
    return i < stop || offset < segs[stop]!.end.offset;
  };
  const unknown = wal.unknownTypes.find((u) => inScope(u.segment, u.offset));
  if (unknown) return readFail(`unexpected block type ${unknown.type}`, { repair });
  if (wal.metadataConflicts.some((m) => inScope(m.segment, m.offset))) return readFail('wal: conflicting metadata found', { repair });

  const firstAbove = scope.find((s) => s.lastEntry !== undefined && s.lastEntry.index > start.index);
  if (firstAbove?.firstEntry && firstAbove.firstEntry.index > start.index + 1n) {
    return readFail(v === '3.6' ? `wal: slice bounds out of range, snapshot[Index: ${start.index}, Term: ${start.term}], current entry[Index: ${firstAbove.firstEntry.index}, Term: ${firstAbove.firstEntry.term}], len(ents): 0` : 'wal: slice bounds out of range', { repair });
  }
  if (wal.gaps.some((g) => inScope(g.segment, g.offset) && g.index > start.index + 1n)) {
    return readFail('wal: slice bounds out of range', { repair });
  }
  const snapRecs = wal.snapshots.filter((r) => inScope(r.segment, r.offset) && r.index === start.index);
  if (snapRecs.length === 0) return readFail('wal: snapshot not found', { repair });
  if (snapRecs.some((r) => r.term !== start.term)) return readFail('wal: snapshot mismatch', { repair });

  // 4. raft.
  // The last entry record read decides the log's end (a lower index overwrites what follows it).
  const lastSegWithEntry = [...scope].reverse().find((s) => s.lastEntry !== undefined);
  const lastIndex = lastSegWithEntry?.lastEntry && lastSegWithEntry.lastEntry.index > start.index ? lastSegWithEntry.lastEntry.index : start.index;
  const state = hsBefore(stop);
  const finalCommit = state?.commit ?? 0n;
  const outcome: Outcome = repair ? 'self-repairs' : 'starts';
  if (finalCommit > lastIndex) {
    const id = wal.metadata ? hex16(wal.metadata.nodeId).replace(/^0+/, '') : '?';
    return fail(v, `${id} state.commit ${finalCommit} is out of range [${start.index}, ${lastIndex}]`, 'panic in raft: the HardState commits entries the log no longer has', {
      repair,
      snapshot: chosen,
      snapsRenamedBroken: renamed,
      lastIndex,
      commit: finalCommit,
    });
  }
  if (db.present && ci > lastIndex) hazards.push({ code: 'db-ahead-of-wal', consistentIndex: ci, lastIndex });
  return {
    version: v,
    detail: VERSION_DETAIL[v],
    outcome,
    error: repair ? (stopErr.kind === 'unexpected-eof' ? stopErr.error : undefined) : undefined,
    log: repair ? (v === '3.4' ? `repaired WAL error (${(stopErr as { error: string }).error})` : 'repaired WAL') : undefined,
    repair,
    snapshot: chosen,
    snapsRenamedBroken: renamed,
    lastIndex,
    commit: finalCommit,
    hazards,
  };
}

