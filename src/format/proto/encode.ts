/**
 * Encoders for the messages of messages.ts, reproducing gogoproto's bytes with protobufjs (built
 * from the same .proto files): fields in ascending number, and in the proto2 messages every
 * non-nullable scalar set explicitly so that zeros are written (`08 00`). Nullable fields
 * (Entry.data, walpb.Snapshot.conf_state) are written only when given. Only repair and rebuild
 * write messages: this module, and protobufjs with it, stays out of the read-only commands.
 */
import protobuf from 'protobufjs';
import type { ConfState, ConfChange, Entry, HardState, Metadata, RaftSnapshot, SnapFile, WalSnapshot } from './messages.js';
import { lookupType } from './root.js';

// Types the encoders below write.
const T = {
  walSnapshot: lookupType('walpb.Snapshot'),
  snapFile: lookupType('snappb.snapshot'),
  entry: lookupType('raftpb.Entry'),
  hardState: lookupType('raftpb.HardState'),
  confChange: lookupType('raftpb.ConfChange'),
  raftSnapshot: lookupType('raftpb.Snapshot'),
  metadata: lookupType('etcdserverpb.Metadata'),
};

function view(b: Uint8Array): Uint8Array {
  // protobufjs' Writer may hand out a Buffer; callers get a plain Uint8Array view of the same memory.
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** bigint → the {low, high} pair protobufjs' Writer takes for 64-bit fields. */
interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
}
function bigIntToLong(b: bigint, unsigned: boolean): LongLike {
  const x = BigInt.asUintN(64, b);
  return { low: Number(x & 0xffffffffn) | 0, high: Number(x >> 32n) | 0, unsigned };
}

function encode(type: protobuf.Type, m: Record<string, unknown>): Uint8Array {
  const w = type.encode(type.fromObject(m), protobuf.Writer.create());
  return view(w.finish());
}

function u(b: bigint): LongLike {
  return bigIntToLong(b, true);
}

/**
 * How optional scalars are written. 'gogo' (etcd 3.4-3.6): raftpb's non-nullable fields always, zero
 * or not. 'protobuf-go' (etcd 3.7): raftpb's proto2 fields only when the Go code set them; of the
 * fields encoded here, etcd 3.7 leaves a ConfChange's zero ID and a ConfState's false auto_leave
 * unset (seen in etcdutl 3.7.3's restore output), so they are left out.
 */
export type OptionalForm = 'gogo' | 'protobuf-go';

function confStateObject(cs: ConfState, form: OptionalForm): Record<string, unknown> {
  const m: Record<string, unknown> = {
    voters: cs.voters.map(u),
    learners: cs.learners.map(u),
    votersOutgoing: cs.votersOutgoing.map(u),
    learnersNext: cs.learnersNext.map(u),
  };
  if (form === 'gogo' || cs.autoLeave) m['autoLeave'] = cs.autoLeave;
  return m;
}

export function encodeEntry(e: Entry): Uint8Array {
  const m: Record<string, unknown> = { type: e.type, term: u(e.term), index: u(e.index) };
  if (e.data !== undefined) m['data'] = e.data;
  return encode(T.entry, m);
}

export function encodeHardState(h: HardState): Uint8Array {
  return encode(T.hardState, { term: u(h.term), vote: u(h.vote), commit: u(h.commit) });
}

export function encodeWalSnapshot(s: WalSnapshot, form: OptionalForm = 'gogo'): Uint8Array {
  const m: Record<string, unknown> = { index: u(s.index), term: u(s.term) };
  if (s.confState !== undefined) m['confState'] = confStateObject(s.confState, form);
  return encode(T.walSnapshot, m);
}

export function encodeMetadata(md: Metadata): Uint8Array {
  return encode(T.metadata, { nodeId: u(md.nodeId), clusterId: u(md.clusterId) });
}

export function encodeSnapFile(s: SnapFile): Uint8Array {
  const m: Record<string, unknown> = { crc: s.crc >>> 0 };
  if (s.data !== undefined) m['data'] = s.data;
  return encode(T.snapFile, m);
}

export function encodeRaftSnapshot(s: RaftSnapshot, form: OptionalForm = 'gogo'): Uint8Array {
  const m: Record<string, unknown> = {
    metadata: {
      confState: confStateObject(s.metadata.confState, form),
      index: u(s.metadata.index),
      term: u(s.metadata.term),
    },
  };
  if (s.data !== undefined) m['data'] = s.data;
  return encode(T.raftSnapshot, m);
}

export function encodeConfChange(c: ConfChange, form: OptionalForm = 'gogo'): Uint8Array {
  const m: Record<string, unknown> = { type: c.type, nodeId: u(c.nodeId) };
  if (form === 'gogo' || c.id !== 0n) m['id'] = u(c.id);
  if (c.context !== undefined) m['context'] = c.context;
  return encode(T.confChange, m);
}
