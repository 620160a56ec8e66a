/**
 * Typed codecs for the protobuf messages etcd keeps on disk (WAL records, entries, hard states,
 * .snap files) and the generic strict decoder the entry-payload exporter uses.
 *
 * How it works: the schema is our own .proto files, compiled by scripts/gen-proto.mjs into
 * descriptor.generated.ts and loaded once with Root.fromJSON. Every decode runs two passes over
 * the bytes with protobufjs' Reader:
 *   1. `checkMessage` walks the wire format against the schema and throws ProtoDecodeError on
 *      anything etcd's gogoproto Unmarshal would refuse: a known field with the wrong wire type
 *      (this is what tells a bare v2 Request from an InternalRaftRequest), a varint or length cut
 *      short, a length prefix larger than the bytes left (checked before anything is sliced), a
 *      field number 0, wire types 6/7, a stray end-group. Unknown fields are skipped, as etcd does.
 *   2. protobufjs' generated decoder builds the message; 64-bit fields come back as Long and are
 *      turned into bigint from their two 32-bit halves (never through Number).
 *
 * Encoders reproduce gogoproto's bytes: fields in ascending number (protobufjs sorts them), and in
 * the proto2 messages every non-nullable scalar is set explicitly so that zeros are written
 * (`08 00`). Nullable fields (Entry.data, Record.data, walpb.Snapshot.conf_state) are written
 * only when given.
 *
 * Byte offsets in errors are relative to the buffer passed in; callers add the file offset.
 * Returned Uint8Arrays are views into the input buffer (no copies).
 */
import { Reader, Root, Type, Writer } from 'protobufjs';
import type { Message } from 'protobufjs';
import { descriptor } from './descriptor.generated.js';

/** Thrown by every decoder here on bytes that are not a valid encoding of the message. */
export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError';
  constructor(
    message: string,
    /** Byte offset, within the decoded buffer, where the problem starts. */
    readonly offset: number,
    /** Fully qualified message being decoded at that point, e.g. `raftpb.Entry`. */
    readonly messageType: string,
  ) {
    super(message);
  }
}

const root = Root.fromJSON(descriptor);
root.resolveAll();

const types = new Map<string, Type>();
function lookup(name: string): Type {
  let t = types.get(name);
  if (!t) {
    t = root.lookupType(name);
    types.set(name, t);
  }
  return t;
}

/** Deepest nesting accepted (Txn inside Txn ...); etcd's own limit is far below protobufjs'. */
const MAX_DEPTH = 64;

// ---------------------------------------------------------------------------------------------
// 64-bit values

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

function isLongLike(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number';
}

/** protobufjs Long (or a plain number default) → bigint, exactly. */
export function longToBigInt(v: unknown, signed: boolean): bigint {
  let u: bigint;
  if (isLongLike(v)) u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  else if (typeof v === 'number') return BigInt(v);
  else if (typeof v === 'bigint') return v;
  else return 0n;
  return signed ? BigInt.asIntN(64, u) : u;
}

/** bigint → the {low, high} pair protobufjs' Writer accepts for 64-bit fields. */
function bigIntToLong(b: bigint, unsigned: boolean): LongLike {
  const u = BigInt.asUintN(64, b);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned };
}

const LONG_TYPES: ReadonlySet<string> = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const SIGNED_LONG: ReadonlySet<string> = new Set(['int64', 'sint64', 'sfixed64']);

// ---------------------------------------------------------------------------------------------
// Pass 1: strict wire-format check

const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'start-group', 'end-group', '32-bit'];

function expectedWireType(type: string, isMessage: boolean): number {
  if (isMessage) return 2;
  switch (type) {
    case 'string':
    case 'bytes':
      return 2;
    case 'fixed64':
    case 'sfixed64':
    case 'double':
      return 1;
    case 'fixed32':
    case 'sfixed32':
    case 'float':
      return 5;
    default:
      return 0; // int32, int64, uint32, uint64, sint*, bool, enums
  }
}

/** What the check needs to know about one field, computed once per message type. */
interface FieldCheck {
  name: string;
  want: number;
  sub: Type | null;
  packable: boolean;
}

interface TypeCheck {
  name: string;
  fields: Map<number, FieldCheck>;
}

const typeChecks = new WeakMap<Type, TypeCheck>();

function typeCheck(type: Type): TypeCheck {
  let tc = typeChecks.get(type);
  if (tc) return tc;
  const fields = new Map<number, FieldCheck>();
  for (const f of type.fieldsArray) {
    f.resolve();
    const sub = f.resolvedType instanceof Type ? f.resolvedType : null;
    const want = expectedWireType(f.type, sub !== null);
    fields.set(f.id, { name: f.name, want, sub, packable: f.repeated && sub === null && want !== 2 });
  }
  tc = { name: type.fullName.replace(/^\./, ''), fields };
  typeChecks.set(type, tc);
  return tc;
}

class Walker {
  constructor(
    private readonly r: Reader,
    private readonly typeName: string,
  ) {}

  private fail(message: string, at: number, typeName = this.typeName): never {
    throw new ProtoDecodeError(message, at, typeName);
  }

  /** Skips one varint of at most 10 bytes. */
  skipVarint(what: string, typeName: string): void {
    const at = this.r.pos;
    try {
      this.r.skip();
    } catch {
      this.fail(`truncated ${what} at byte ${at}`, at, typeName);
    }
    if (this.r.pos - at > 10) this.fail(`${what} longer than 10 bytes at byte ${at}`, at, typeName);
  }

  /** Reads a varint that must fit in 32 bits (tags, lengths); undefined when it does not. */
  small(what: string, typeName: string): number | undefined {
    const at = this.r.pos;
    let v: number;
    try {
      v = this.r.uint32();
    } catch (e) {
      if (e instanceof RangeError) this.fail(`truncated ${what} at byte ${at}`, at, typeName);
      this.fail(`${what} longer than 10 bytes at byte ${at}`, at, typeName);
    }
    const n = this.r.pos - at;
    // A 5-byte varint carries bits above 2^32 in its last byte's high nibble; longer ones always may.
    if (n > 5 || (n === 5 && (this.r.buf[at + 4]! & 0x70) !== 0)) return undefined;
    return v;
  }

  /** Reads a length prefix and checks it against the bytes left before anything is sliced. */
  length(typeName: string): number {
    const at = this.r.pos;
    const n = this.small('length', typeName);
    const left = this.r.len - this.r.pos;
    if (n === undefined || n > left) {
      // Slow path, errors only: the exact value for the message.
      const end = this.r.pos;
      this.r.pos = at;
      const exact = longToBigInt(this.r.uint64(), false);
      this.r.pos = end;
      this.fail(`length ${exact} at byte ${at} exceeds the ${left} bytes left`, at, typeName);
    }
    return n;
  }

  skipFixed(n: number, typeName: string): void {
    const at = this.r.pos;
    const left = this.r.len - at;
    if (left < n) this.fail(`truncated ${n * 8}-bit value at byte ${at} (${left} bytes left)`, at, typeName);
    this.r.pos += n;
  }

  /** Skips one value of wire type wt (fields our schema does not know, as etcd does). */
  skipValue(wt: number, field: number, at: number, typeName: string, depth: number): void {
    switch (wt) {
      case 0:
        this.skipVarint('varint', typeName);
        return;
      case 1:
        this.skipFixed(8, typeName);
        return;
      case 2: {
        const n = this.length(typeName); // read first: `pos += length()` would add to the old pos
        this.r.pos += n;
        return;
      }
      case 5:
        this.skipFixed(4, typeName);
        return;
      case 3: {
        if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} at byte ${at}`, at, typeName);
        for (;;) {
          const tagAt = this.r.pos;
          if (tagAt >= this.r.len) this.fail(`group of field ${field} at byte ${at} has no end`, at, typeName);
          const tag = this.tag(typeName);
          const f = tag >>> 3;
          const w = tag & 7;
          if (w === 4) {
            if (f !== field) this.fail(`end-group for field ${f} at byte ${tagAt}, expected ${field}`, tagAt, typeName);
            return;
          }
          this.checkTag(f, w, tagAt, typeName);
          this.skipValue(w, f, tagAt, typeName, depth + 1);
        }
      }
      default:
        this.fail(`invalid wire type ${wt} at byte ${at}`, at, typeName);
    }
  }

  tag(typeName: string): number {
    const at = this.r.pos;
    const tag = this.small('varint', typeName);
    if (tag === undefined) this.fail(`field tag too large at byte ${at}`, at, typeName);
    return tag;
  }

  checkTag(field: number, wt: number, at: number, typeName: string): void {
    if (field === 0) this.fail(`invalid field number 0 at byte ${at}`, at, typeName);
    if (wt > 5) this.fail(`invalid wire type ${wt} at byte ${at}`, at, typeName);
  }

  /** Checks the message of `type` that occupies bytes [r.pos, end). */
  message(type: Type, end: number, depth: number): void {
    const tc = typeCheck(type);
    const typeName = tc.name;
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} at byte ${this.r.pos}`, this.r.pos, typeName);
    const outerLen = this.r.len;
    this.r.len = end;
    while (this.r.pos < end) {
      const at = this.r.pos;
      const tag = this.tag(typeName);
      const fieldNo = tag >>> 3;
      const wt = tag & 7;
      this.checkTag(fieldNo, wt, at, typeName);
      if (wt === 4) this.fail(`unexpected end-group at byte ${at}`, at, typeName);
      const field = tc.fields.get(fieldNo);
      if (field === undefined) {
        this.skipValue(wt, fieldNo, at, typeName, depth + 1);
        continue;
      }
      const { want, sub, packable } = field;
      if (wt !== want && !(packable && wt === 2)) {
        this.fail(
          `field ${fieldNo} (${field.name}) has wire type ${wt} (${WIRE_NAMES[wt] ?? '?'}) at byte ${at}, ` +
            `expected ${want} (${WIRE_NAMES[want] ?? '?'})`,
          at,
          typeName,
        );
      }
      if (sub !== null) {
        const n = this.length(typeName);
        this.message(sub, this.r.pos + n, depth + 1);
      } else if (wt === 2 && packable) {
        const n = this.length(typeName);
        const packedEnd = this.r.pos + n;
        const saved = this.r.len;
        this.r.len = packedEnd;
        while (this.r.pos < packedEnd) {
          if (want === 0) this.skipVarint('varint', typeName);
          else this.skipFixed(want === 1 ? 8 : 4, typeName);
        }
        this.r.len = saved;
      } else {
        this.skipValue(wt, fieldNo, at, typeName, depth + 1);
      }
    }
    this.r.len = outerLen;
  }
}

function checkMessage(type: Type, b: Uint8Array): void {
  const r = Reader.create(b);
  new Walker(r, typeCheck(type).name).message(type, b.length, 0);
}

// ---------------------------------------------------------------------------------------------
// Pass 2: decode with protobufjs and convert to plain values

function view(b: Uint8Array): Uint8Array {
  // BufferReader hands out Buffer slices; callers get plain Uint8Array views of the same memory.
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function decodeChecked(type: Type, b: Uint8Array): Message & Record<string, unknown> {
  checkMessage(type, b);
  const r = Reader.create(b);
  r.discardUnknown = true;
  try {
    return type.decode(r) as Message & Record<string, unknown>;
  } catch (e) {
    // The check above accepts only what this decoder reads; reaching here means the two disagree.
    const why = e instanceof Error ? e.message : String(e);
    throw new ProtoDecodeError(`${why} at byte ${r.pos}`, r.pos, typeCheck(type).name);
  }
}

/** A decoded message as plain data: only fields present on the wire (proto3 zero scalars are
 *  absent), 64-bit integers as bigint, bytes as Uint8Array, enums as numbers, oneof members under
 *  their own names. */
export type ProtoValue = bigint | number | boolean | string | Uint8Array | ProtoObject | ProtoValue[];
export interface ProtoObject {
  [field: string]: ProtoValue;
}

/** How to turn one field's decoded value into plain data, computed once per message type. */
interface PlainField {
  name: string;
  /** Position in the type's declared field order (the order plain objects list fields in). */
  pos: number;
  sub: Type | null;
  long: 'signed' | 'unsigned' | null;
  repeated: boolean;
}

const plainFields = new WeakMap<Type, Map<string, PlainField>>();

function plainFieldsOf(type: Type): Map<string, PlainField> {
  let m = plainFields.get(type);
  if (m) return m;
  m = new Map();
  type.fieldsArray.forEach((f, pos) => {
    f.resolve();
    const long = LONG_TYPES.has(f.type) ? (SIGNED_LONG.has(f.type) ? 'signed' : 'unsigned') : null;
    m!.set(f.name, { name: f.name, pos, sub: f.resolvedType instanceof Type ? f.resolvedType : null, long, repeated: f.repeated });
  });
  plainFields.set(type, m);
  return m;
}

function plainValue(f: PlainField, v: unknown): ProtoValue {
  if (f.sub !== null) return toPlain(f.sub, v as Record<string, unknown>);
  if (f.long !== null) return longToBigInt(v, f.long === 'signed');
  if (v instanceof Uint8Array) return view(v);
  return v as number | boolean | string;
}

function toPlain(type: Type, m: Record<string, unknown>): ProtoObject {
  const fields = plainFieldsOf(type);
  // protobufjs sets only the fields present on the wire as own properties: look at those (a
  // request message has ~40 fields, of which one or two are set), in declared order.
  const present: PlainField[] = [];
  for (const k of Object.keys(m)) {
    const f = fields.get(k);
    if (f !== undefined) present.push(f);
  }
  if (present.length > 1) present.sort((a, b) => a.pos - b.pos);
  const out: ProtoObject = {};
  for (const f of present) {
    const v = m[f.name];
    if (v === null || v === undefined) continue;
    if (f.repeated) {
      const arr = v as unknown[];
      if (arr.length === 0) continue;
      out[f.name] = arr.map((x) => plainValue(f, x));
    } else {
      out[f.name] = plainValue(f, v);
    }
  }
  return out;
}

/**
 * Strictly decodes `b` as the message `typeName` (e.g. `etcdserverpb.InternalRaftRequest`) into
 * plain data. Throws ProtoDecodeError on malformed bytes.
 */
export function decodeMessage(typeName: string, b: Uint8Array): ProtoObject {
  const type = lookup(typeName);
  return toPlain(type, decodeChecked(type, b));
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

/** walpb.Record. type: 1 metadata, 2 entry, 3 state, 4 crc, 5 snapshot. */
export interface WalRecord {
  type: number;
  crc: number;
  data?: Uint8Array;
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

const T = {
  record: lookup('walpb.Record'),
  walSnapshot: lookup('walpb.Snapshot'),
  snapFile: lookup('snappb.snapshot'),
  entry: lookup('raftpb.Entry'),
  hardState: lookup('raftpb.HardState'),
  confState: lookup('raftpb.ConfState'),
  confChange: lookup('raftpb.ConfChange'),
  confChangeV2: lookup('raftpb.ConfChangeV2'),
  raftSnapshot: lookup('raftpb.Snapshot'),
  metadata: lookup('etcdserverpb.Metadata'),
};

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

function decodeAs(type: Type, b: Uint8Array): ProtoObject {
  return toPlain(type, decodeChecked(type, b));
}

/** Decodes a walpb.Record (the bytes inside one WAL frame, without length word or padding). */
export function decodeRecord(b: Uint8Array): WalRecord {
  const o = decodeAs(T.record, b);
  // int64 on the wire; etcd's types are 1..5, anything else is reported by the caller as is.
  return withData({ type: Number(u64(o, 'type')), crc: num(o, 'crc') >>> 0 }, 'data', bytes(o, 'data'));
}

export function decodeEntry(b: Uint8Array): Entry {
  const o = decodeAs(T.entry, b);
  return withData({ type: num(o, 'type'), term: u64(o, 'term'), index: u64(o, 'index') }, 'data', bytes(o, 'data'));
}

export function decodeHardState(b: Uint8Array): HardState {
  const o = decodeAs(T.hardState, b);
  return { term: u64(o, 'term'), vote: u64(o, 'vote'), commit: u64(o, 'commit') };
}

export function decodeConfState(b: Uint8Array): ConfState {
  return confStateFrom(decodeAs(T.confState, b));
}

export function decodeWalSnapshot(b: Uint8Array): WalSnapshot {
  const o = decodeAs(T.walSnapshot, b);
  const s: WalSnapshot = { index: u64(o, 'index'), term: u64(o, 'term') };
  const cs = sub(o, 'confState');
  if (cs !== undefined) s.confState = confStateFrom(cs);
  return s;
}

export function decodeMetadata(b: Uint8Array): Metadata {
  const o = decodeAs(T.metadata, b);
  return { nodeId: u64(o, 'nodeId'), clusterId: u64(o, 'clusterId') };
}

/** Decodes a whole .snap file (snappb.snapshot). Does not check the CRC. */
export function decodeSnapFile(b: Uint8Array): SnapFile {
  const o = decodeAs(T.snapFile, b);
  return withData({ crc: num(o, 'crc') >>> 0 }, 'data', bytes(o, 'data'));
}

/** Decodes raftpb.Snapshot (the data of a .snap file). A missing metadata reads as zeros. */
export function decodeRaftSnapshot(b: Uint8Array): RaftSnapshot {
  const o = decodeAs(T.raftSnapshot, b);
  const md = sub(o, 'metadata') ?? {};
  const cs = sub(md, 'confState') ?? {};
  return withData(
    { metadata: { confState: confStateFrom(cs), index: u64(md, 'index'), term: u64(md, 'term') } },
    'data',
    bytes(o, 'data'),
  );
}

export function decodeConfChange(b: Uint8Array): ConfChange {
  const o = decodeAs(T.confChange, b);
  return withData(
    { id: u64(o, 'id'), type: num(o, 'type'), nodeId: u64(o, 'nodeId') },
    'context',
    bytes(o, 'context'),
  );
}

export function decodeConfChangeV2(b: Uint8Array): ConfChangeV2 {
  const o = decodeAs(T.confChangeV2, b);
  const raw = o['changes'];
  const changes = (Array.isArray(raw) ? raw : []).map((c) => {
    const co = c as ProtoObject;
    return { type: num(co, 'type'), nodeId: u64(co, 'nodeId') };
  });
  return withData({ transition: num(o, 'transition'), changes }, 'context', bytes(o, 'context'));
}

// ---------------------------------------------------------------------------------------------
// Encoders (gogoproto-identical bytes)

function encode(type: Type, m: Record<string, unknown>): Uint8Array {
  const w: Writer = type.encode(type.fromObject(m) as Message, Writer.create());
  return view(w.finish());
}

function u(b: bigint): LongLike {
  return bigIntToLong(b, true);
}

function confStateObject(cs: ConfState): Record<string, unknown> {
  return {
    voters: cs.voters.map(u),
    learners: cs.learners.map(u),
    votersOutgoing: cs.votersOutgoing.map(u),
    learnersNext: cs.learnersNext.map(u),
    autoLeave: cs.autoLeave,
  };
}

export function encodeRecord(r: WalRecord): Uint8Array {
  const m: Record<string, unknown> = { type: bigIntToLong(BigInt(r.type), false), crc: r.crc >>> 0 };
  if (r.data !== undefined) m['data'] = r.data;
  return encode(T.record, m);
}

export function encodeEntry(e: Entry): Uint8Array {
  const m: Record<string, unknown> = { type: e.type, term: u(e.term), index: u(e.index) };
  if (e.data !== undefined) m['data'] = e.data;
  return encode(T.entry, m);
}

export function encodeHardState(h: HardState): Uint8Array {
  return encode(T.hardState, { term: u(h.term), vote: u(h.vote), commit: u(h.commit) });
}

export function encodeConfState(cs: ConfState): Uint8Array {
  return encode(T.confState, confStateObject(cs));
}

export function encodeWalSnapshot(s: WalSnapshot): Uint8Array {
  const m: Record<string, unknown> = { index: u(s.index), term: u(s.term) };
  if (s.confState !== undefined) m['confState'] = confStateObject(s.confState);
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

export function encodeRaftSnapshot(s: RaftSnapshot): Uint8Array {
  const m: Record<string, unknown> = {
    metadata: {
      confState: confStateObject(s.metadata.confState),
      index: u(s.metadata.index),
      term: u(s.metadata.term),
    },
  };
  if (s.data !== undefined) m['data'] = s.data;
  return encode(T.raftSnapshot, m);
}

export function encodeConfChange(c: ConfChange): Uint8Array {
  const m: Record<string, unknown> = { id: u(c.id), type: c.type, nodeId: u(c.nodeId) };
  if (c.context !== undefined) m['context'] = c.context;
  return encode(T.confChange, m);
}
