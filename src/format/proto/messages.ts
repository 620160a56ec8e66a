/**
 * Typed decoders for the protobuf messages etcd keeps on disk: raft entries, hard states, WAL
 * metadata and snapshot records, conf changes, .snap files.
 *
 * Decoding goes through the project's one wire reader (wire.ts) with gogoproto's failure rules:
 * entries and hard states (read once per WAL record) by hand, field by field, with no BigInt made
 * beyond the values and no object beyond the result; the others through the schema-driven
 * `decodeEtcdMessage` (unmarshal.ts). Bytes that etcd's Unmarshal refuses throw ProtoDecodeError
 * carrying the failure and etcd's exact error text. Returned Uint8Arrays are views into the input.
 *
 * The encoders are in encode.ts (they load protobufjs; nothing here does).
 */
import { type ProtoObject, decodeEtcdMessage } from './unmarshal.js';
import { type UnmarshalFailure, Uint64Memo, WireFailure, WireReader, unmarshalFailureText } from './wire.js';

/** Thrown by the typed decoders on bytes etcd's Unmarshal refuses; the message is etcd's text. */
export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError';
  /** Byte offset, within the decoded buffer, of the field where decoding failed. */
  readonly offset: number;
  /** Full name of the message whose Unmarshal failed (the innermost), e.g. `raftpb.ConfState`. */
  readonly messageType: string;
  constructor(readonly failure: UnmarshalFailure) {
    super(unmarshalFailureText(failure));
    this.offset = failure.at;
    this.messageType = failure.type;
  }
}

// ---------------------------------------------------------------------------------------------
// Typed messages

export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
}

/** raftpb.Entry. type: 0 EntryNormal, 1 EntryConfChange, 2 EntryConfChangeV2 (others kept as read). */
export interface Entry {
  type: number;
  term: bigint;
  index: bigint;
  data?: Uint8Array;
}

export interface HardState {
  term: bigint;
  vote: bigint;
  commit: bigint;
}

/** walpb.Snapshot, the WAL's snapshot marker record. confState only from 3.5 on. */
export interface WalSnapshot {
  index: bigint;
  term: bigint;
  confState?: ConfState;
}

/** etcdserverpb.Metadata, the WAL metadata record. */
export interface Metadata {
  nodeId: bigint;
  clusterId: bigint;
}

/** snappb.snapshot, a whole .snap file. */
export interface SnapFile {
  crc: number;
  data?: Uint8Array;
}

export interface RaftSnapshot {
  data?: Uint8Array;
  metadata: { confState: ConfState; index: bigint; term: bigint };
}

/** raftpb.ConfChange. type: 0 AddNode, 1 RemoveNode, 2 UpdateNode, 3 AddLearnerNode. */
export interface ConfChange {
  id: bigint;
  type: number;
  nodeId: bigint;
  context?: Uint8Array;
}

/** raftpb.ConfChangeV2. transition: 0 Auto, 1 JointImplicit, 2 JointExplicit. */
export interface ConfChangeV2 {
  transition: number;
  changes: { type: number; nodeId: bigint }[];
  context?: Uint8Array;
}

export const EntryType = { EntryNormal: 0, EntryConfChange: 1, EntryConfChangeV2: 2 } as const;
export const ConfChangeType = {
  ConfChangeAddNode: 0,
  ConfChangeRemoveNode: 1,
  ConfChangeUpdateNode: 2,
  ConfChangeAddLearnerNode: 3,
} as const;

function u64(o: ProtoObject, k: string): bigint {
  const v = o[k];
  return typeof v === 'bigint' ? v : 0n;
}
function num(o: ProtoObject, k: string): number {
  const v = o[k];
  return typeof v === 'number' ? v : 0;
}
function bytes(o: ProtoObject, k: string): Uint8Array | undefined {
  const v = o[k];
  return v instanceof Uint8Array ? v : undefined;
}
function sub(o: ProtoObject, k: string): ProtoObject | undefined {
  const v = o[k];
  return typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v) ? v : undefined;
}
function u64s(o: ProtoObject, k: string): bigint[] {
  const v = o[k];
  return Array.isArray(v) ? v.filter((x): x is bigint => typeof x === 'bigint') : [];
}

function withData<T extends object>(o: T, key: string, d: Uint8Array | undefined): T {
  if (d !== undefined) (o as Record<string, unknown>)[key] = d;
  return o;
}

function confStateFrom(o: ProtoObject): ConfState {
  return {
    voters: u64s(o, 'voters'),
    learners: u64s(o, 'learners'),
    votersOutgoing: u64s(o, 'votersOutgoing'),
    learnersNext: u64s(o, 'learnersNext'),
    autoLeave: o['autoLeave'] === true,
  };
}

function decodeAs(typeName: string, b: Uint8Array): ProtoObject {
  const r = decodeEtcdMessage(typeName, b);
  if (!r.ok) throw new ProtoDecodeError(r.failure);
  return r.message;
}

// One reader for the hand-written hot decoders below (they never call each other), and the terms
// and votes they read last: consecutive records mostly repeat them, so no new bigint is made.
const hot = new WireReader(new Uint8Array(0));
const entryTerm = new Uint64Memo();
const stateTerm = new Uint64Memo();
const stateVote = new Uint64Memo();

function rethrow(e: unknown): never {
  if (e instanceof WireFailure) throw new ProtoDecodeError(e.failure);
  throw e;
}

/** raftpb.Entry, as gogo's Unmarshal reads it (Go names Type, Term, Index, Data). */
export function decodeEntry(b: Uint8Array): Entry {
  const r = hot.reset(b, 'raftpb.Entry');
  let type = 0;
  let term = 0n;
  let index = 0n;
  let data: Uint8Array | undefined;
  try {
    while (r.pos < r.end) {
      switch (r.tag()) {
        case 1:
          if (r.wireType !== 0) throw r.wrongWireType('Type');
          type = r.varint() | 0; // EntryType is an int32: any value is kept
          break;
        case 2:
          if (r.wireType !== 0) throw r.wrongWireType('Term');
          term = entryTerm.read(r);
          break;
        case 3:
          if (r.wireType !== 0) throw r.wrongWireType('Index');
          index = r.uint64();
          break;
        case 4:
          if (r.wireType !== 2) throw r.wrongWireType('Data');
          data = r.bytes();
          break;
        default:
          r.skipField();
      }
    }
  } catch (e) {
    rethrow(e);
  }
  return data === undefined ? { type, term, index } : { type, term, index, data };
}

/** raftpb.HardState (Go names Term, Vote, Commit). */
export function decodeHardState(b: Uint8Array): HardState {
  const r = hot.reset(b, 'raftpb.HardState');
  let term = 0n;
  let vote = 0n;
  let commit = 0n;
  try {
    while (r.pos < r.end) {
      const no = r.tag();
      if (no < 1 || no > 3) {
        r.skipField();
        continue;
      }
      if (r.wireType !== 0) throw r.wrongWireType(no === 1 ? 'Term' : no === 2 ? 'Vote' : 'Commit');
      if (no === 1) term = stateTerm.read(r);
      else if (no === 2) vote = stateVote.read(r);
      else commit = r.uint64();
    }
  } catch (e) {
    rethrow(e);
  }
  return { term, vote, commit };
}

export function decodeWalSnapshot(b: Uint8Array): WalSnapshot {
  const o = decodeAs('walpb.Snapshot', b);
  const s: WalSnapshot = { index: u64(o, 'index'), term: u64(o, 'term') };
  const cs = sub(o, 'confState');
  if (cs !== undefined) s.confState = confStateFrom(cs);
  return s;
}

export function decodeMetadata(b: Uint8Array): Metadata {
  const o = decodeAs('etcdserverpb.Metadata', b);
  return { nodeId: u64(o, 'nodeId'), clusterId: u64(o, 'clusterId') };
}

/** Decodes a whole .snap file (snappb.snapshot). Does not check the CRC. */
export function decodeSnapFile(b: Uint8Array): SnapFile {
  const o = decodeAs('snappb.snapshot', b);
  return withData({ crc: num(o, 'crc') >>> 0 }, 'data', bytes(o, 'data'));
}

/** Decodes raftpb.Snapshot (the data of a .snap file). A missing metadata reads as zeros. */
export function decodeRaftSnapshot(b: Uint8Array): RaftSnapshot {
  const o = decodeAs('raftpb.Snapshot', b);
  const md = sub(o, 'metadata') ?? {};
  const cs = sub(md, 'confState') ?? {};
  return withData(
    { metadata: { confState: confStateFrom(cs), index: u64(md, 'index'), term: u64(md, 'term') } },
    'data',
    bytes(o, 'data'),
  );
}

export function decodeConfChange(b: Uint8Array): ConfChange {
  const o = decodeAs('raftpb.ConfChange', b);
  return withData(
    { id: u64(o, 'id'), type: num(o, 'type'), nodeId: u64(o, 'nodeId') },
    'context',
    bytes(o, 'context'),
  );
}

export function decodeConfChangeV2(b: Uint8Array): ConfChangeV2 {
  const o = decodeAs('raftpb.ConfChangeV2', b);
  const raw = o['changes'];
  const changes = (Array.isArray(raw) ? raw : []).map((c) => {
    const co = c as ProtoObject;
    return { type: num(co, 'type'), nodeId: u64(co, 'nodeId') };
  });
  return withData({ transition: num(o, 'transition'), changes }, 'context', bytes(o, 'context'));
}
