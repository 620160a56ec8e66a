/**
 * The WAL segment and `.snap` file a restore writes (spec etcd-restore.md §7.3 steps 6–7, §7.4).
 * Pure: bytes out. They depend only on the members, the local member and the target release line,
 * never on the snapshot's contents.
 *
 * Segment `0000000000000000-0000000000000000.wal`, records in order:
 *   crc 0 · metadata{NodeID, ClusterID} · snapshot{0,0} · N ConfChange entries (term 1, index
 *   1..N, AddNode, ascending ID) · HardState{term 1, vote = smallest ID, commit N} ·
 *   snapshot{N, 1} (+ conf_state{voters} for 3.5+)
 * followed by zeros up to 64,000,000 bytes (etcd preallocates every segment to that size).
 *
 * `.snap` = `0000000000000001-<N %016x>.snap`: snappb.snapshot{crc32c(data), data = raftpb.Snapshot{
 * v2 store JSON, metadata{conf_state{voters}, index N, term 1}}} — the same in 3.4 and 3.5.
 *
 * 3.6 writes what 3.5 writes but for one counter in the v2 store's stats (`getsFail` 1: its restore
 * makes one v2 read that misses). 3.7 writes 3.6's, with raftpb encoded by protobuf-go: a ConfChange
 * without its zero ID, a ConfState without its false auto_leave (checked byte for byte against
 * etcdutl 3.6.16 and 3.7.3 by test/e2e/rebuild.test.ts).
 */
import CRC32C from 'crc-32/crc32c.js';
import {
  type OptionalForm,
  encodeConfChange,
  encodeEntry,
  encodeHardState,
  encodeMetadata,
  encodeRaftSnapshot,
  encodeSnapFile,
  encodeWalSnapshot,
} from '../format/proto/encode.js';
import { type ConfState, ConfChangeType, EntryType } from '../format/proto/messages.js';
import { RecordEncoder } from '../format/wal/encoder.js';
import { RecordType } from '../format/wal/record.js';
import { snapName, walName } from '../format/wal/names.js';
import { memberJson, restoreV2StoreJson } from './v2store.js';
import type { StoreMember } from './v2store.js';

/** etcd's SegmentSizeBytes: every segment is preallocated to this size. */
export const SEGMENT_BYTES = 64_000_000;

/** The release line whose restore output to reproduce. */
export type RestoreTarget = '3.4' | '3.5' | '3.6' | '3.7';

const formOf = (t: RestoreTarget): OptionalForm => (t === '3.7' ? 'protobuf-go' : 'gogo');

export interface RestoreRaftInput {
  /** Every member, any order. */
  members: readonly StoreMember[];
  localId: bigint;
  clusterId: bigint;
  target: RestoreTarget;
}

const utf8 = new TextEncoder();

function ascending(members: readonly StoreMember[]): StoreMember[] {
  return [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** conf_state{voters: all IDs ascending, auto_leave false}. */
export function restoreConfState(members: readonly StoreMember[]): ConfState {
  return { voters: ascending(members).map((m) => m.id), learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/**
 * The records of the restore WAL, framed, without the zero preallocation (concatenate them and
 * pad with zeros to SEGMENT_BYTES for the segment file).
 */
export function restoreWalRecords(input: RestoreRaftInput): Uint8Array[] {
  const ms = ascending(input.members);
  const n = BigInt(ms.length);
  const form = formOf(input.target);
  const enc = new RecordEncoder(0);
  const out: Uint8Array[] = [enc.crcRecord()];
  out.push(enc.record(RecordType.metadata, encodeMetadata({ nodeId: input.localId, clusterId: input.clusterId })));
  out.push(enc.record(RecordType.snapshot, encodeWalSnapshot({ index: 0n, term: 0n })));
  ms.forEach((m, i) => {
    const cc = encodeConfChange({ id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId: m.id, context: utf8.encode(memberJson(m)) }, form);
    out.push(enc.record(RecordType.entry, encodeEntry({ type: EntryType.EntryConfChange, term: 1n, index: BigInt(i + 1), data: cc })));
  });
  out.push(enc.record(RecordType.state, encodeHardState({ term: 1n, vote: (ms[0] as StoreMember).id, commit: n })));
  const snap = input.target === '3.4' ? { index: n, term: 1n } : { index: n, term: 1n, confState: restoreConfState(ms) };
  out.push(enc.record(RecordType.snapshot, encodeWalSnapshot(snap, form)));
  return out;
}

/** The `.snap` file's bytes (identical for 3.4 and 3.5). */
export function restoreSnapFile(members: readonly StoreMember[], target: RestoreTarget): Uint8Array {
  const data = encodeRaftSnapshot(
    {
      data: utf8.encode(restoreV2StoreJson(members, { getsFail: target === '3.6' || target === '3.7' ? 1 : 0 })),
      metadata: { confState: restoreConfState(members), index: BigInt(members.length), term: 1n },
    },
    formOf(target),
  );
  return encodeSnapFile({ crc: CRC32C.buf(data, 0) >>> 0, data });
}

/** File names: the one WAL segment and the `.snap`. */
export function restoreFileNames(memberCount: number): { wal: string; snap: string } {
  return { wal: walName(0n, 0n), snap: snapName(1n, BigInt(memberCount)) };
}
