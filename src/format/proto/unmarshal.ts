/**
 * etcd's `Unmarshal`, reproduced: decoding any message of our schema (src/format/proto/*.proto)
 * with the wire reader, failing exactly where and how gogoproto's generated code for etcd fails
 * (see wire.ts), in one pass that also builds the decoded value when asked.
 *
 * The generated code this mirrors recurses into embedded messages (a nested failure fails the
 * whole message, with the nested type's name in the text), merges a repeated non-oneof embedded
 * message into the one already read, replaces a oneof member, appends repeated fields (packed or
 * not), keeps the last scalar, reads enums as int32 whatever their value, and sends every field it
 * does not know — including fields of later releases — through the package's skip function.
 *
 * From etcd 3.7 on (`release: '3.7'`) the same schema is decoded as protobuf-go's proto.Unmarshal
 * does (see wire.ts for its rules): a field with the wrong wire type is skipped, not refused; a
 * oneof message read twice is merged, as any other message field; proto3 strings must be UTF-8;
 * every malformed input is the one error `proto: cannot parse invalid wire-format data`; messages
 * nest at most 10000 deep — a limit that decoder reaches without recursion (it keeps its own stack).
 *
 * `etcdAppliesEntryData` is what etcd's apply loop makes of an EntryNormal's data.
 */
import { type EtcdRelease, DEFAULT_RELEASE, Kind, type FieldSpec, type MessageSpec, fieldsOf, knownIn, releaseNumber, specOf, usesProtobufGo } from './schema.js';
import { GO_RECURSION_LIMIT, MAX_NESTING, type UnmarshalFailure, WireFailure, WireReader, decodeText, int64Of, isValidUtf8, uint64Of, unmarshalFailureText } from './wire.js';

export type { EtcdRelease } from './schema.js';
export type { UnmarshalFailure } from './wire.js';
export { unmarshalFailureText } from './wire.js';

/** A decoded message as plain data: only fields present on the wire, keyed by protobufjs' camelCase
 *  names; 64-bit integers as bigint, 32-bit ones and enums as numbers, bytes as Uint8Array views
 *  into the input (no copies), repeated fields as arrays, oneof members under their own names. */
export type ProtoValue = bigint | number | boolean | string | Uint8Array | ProtoObject | ProtoValue[];
export interface ProtoObject {
  [field: string]: ProtoValue;
}

export interface UnmarshalOptions {
  /** Whose Unmarshal: fields newer than this release are unknown to it (skipped); 3.7 is
   *  protobuf-go's proto.Unmarshal. Default 3.5. */
  release?: EtcdRelease;
}

export type UnmarshalOutcome = { ok: true } | { ok: false; failure: UnmarshalFailure };
export type DecodeOutcome = { ok: true; message: ProtoObject } | { ok: false; failure: UnmarshalFailure };

const releases = new Map<string, number>();
function releaseOf(opts: UnmarshalOptions | undefined): number {
  const r = opts?.release ?? DEFAULT_RELEASE;
  let n = releases.get(r);
  if (n === undefined) {
    n = releaseNumber(r);
    releases.set(r, n);
  }
  return n;
}

const applyReader = new WireReader(new Uint8Array(0));
const GOGO_RELEASE = releaseNumber('3.5');

function isObject(v: ProtoValue | undefined): v is ProtoObject {
  return typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v);
}

function store(out: ProtoObject, f: FieldSpec, v: ProtoValue): void {
  if (f.repeated) {
    const list = out[f.key];
    if (Array.isArray(list)) list.push(v);
    else out[f.key] = [v];
    return;
  }
  if (f.oneofOthers !== undefined) clearOneof(out, f);
  out[f.key] = v;
}

/** A oneof keeps its last member: the others go. `delete` only when one is there: deleting a
 *  property (even an absent one) turns the object into a slow dictionary. */
function clearOneof(out: ProtoObject, f: FieldSpec): void {
  for (const k of f.oneofOthers!) if (out[k] !== undefined) delete out[k];
}

function scalar(r: WireReader, kind: Kind): ProtoValue {
  switch (kind) {
    case Kind.Uint64:
      return r.uint64();
    case Kind.Int64:
      return r.int64();
    case Kind.Uint32:
      return r.varint(); // gogo keeps the low 32 bits
    case Kind.Int32:
      return r.varint() | 0;
    default: {
      const lo = r.varint(); // bool: any of the 64 bits set
      return (lo | r.hi) !== 0;
    }
  }
}

// While `watching`, readFields sets `differs` on anything in the bytes that gogoproto's releases or
// protobuf-go could read differently (see etcdAppliesEntryDataInEachRelease): a field not every
// release knows (unknown ones included), the packed form, a message field read twice (gogo replaces
// a oneof member that protobuf-go merges), a proto3 string that is not UTF-8.
let watching = false;
let differs = false;

/**
 * gogo's store of one value into a message being built: `mayHave` false promises that the field
 * is not in `out` yet, `clear` that another member of its oneof may be (both spare a lookup of a
 * property that is usually absent, the costliest kind on these many-shaped objects).
 */
function put(out: ProtoObject, f: FieldSpec, v: ProtoValue, mayHave: boolean, clear: boolean): void {
  if (f.repeated) {
    if (mayHave) {
      const list = out[f.key];
      if (Array.isArray(list)) {
        list.push(v);
        return;
      }
    }
    out[f.key] = [v];
    return;
  }
  if (clear) clearOneof(out, f);
  out[f.key] = v;
}

/** The fields of one message type that are built, by number (a lookup per field read). */
interface Keep {
  small: boolean[];
  large: ReadonlySet<number>;
}

function keepOf(spec: MessageSpec, keys: Iterable<string>): Keep {
  const fields = fieldsOf(spec);
  const keep: Keep = { small: new Array<boolean>(128).fill(false), large: new Set() };
  for (const k of keys) {
    const f = fields.find((x) => x.key === k);
    if (f === undefined) throw new Error(`field selection: ${spec.name} has no field ${k}`);
    if (f.no < 128) keep.small[f.no] = true;
    else (keep.large as Set<number>).add(f.no);
  }
  return keep;
}

/**
 * Which fields of the messages a caller reads it needs built, by message type (full proto name):
 * a type named here is built with only the fields listed (every other field is read and checked
 * all the same); a type not named is built whole. Made by `fieldSelection`.
 */
export interface FieldSelection {
  /** As given: field keys by type name. */
  readonly fields: Readonly<Record<string, readonly string[]>>;
  /** The same for the reader, by message spec. */
  readonly keep: ReadonlyMap<MessageSpec, Keep>;
}

/**
 * A FieldSelection from `{ 'etcdserverpb.PutRequest': ['key', 'value'], ... }`; a type or a field
 * the schema does not have is a programming error and throws.
 */
export function fieldSelection(fields: Record<string, readonly string[]>): FieldSelection {
  const keep = new Map<MessageSpec, Keep>();
  for (const [typeName, keys] of Object.entries(fields)) {
    const spec = specOf(typeName);
    keep.set(spec, keepOf(spec, keys));
  }
  return { fields, keep };
}

/**
 * Reads the fields of a message of `spec` occupying [r.pos, r.end); fills `out` when given, with
 * only the fields named in `only` when that is given (the others are read and checked all the same),
 * and in the messages nested in it those `select` names for their type.
 * `fresh`: `out` starts empty (not a message being merged into), so the fields and oneofs this call
 * has not stored are known to be absent.
 */
function readFields(r: WireReader, spec: MessageSpec, whole: ProtoObject | undefined, fresh: boolean, depth: number, release: number, only?: Keep, select?: FieldSelection): void {
  const outerType = r.type;
  const outerBase = r.base;
  r.type = spec.name;
  r.base = r.pos;
  let fieldsSet = 0; // fields 0..30 stored by this call (when fresh)
  let oneofsSet = 0; // oneofs one of whose members this call stored (when fresh)
  while (r.pos < r.end) {
    const no = r.tag();
    let f = no < 128 ? spec.small[no] : spec.large.get(no);
    const out = only === undefined || (no < 128 ? only.small[no] === true : only.large.has(no)) ? whole : undefined;
    if (watching && (f === undefined || !f.inEveryRelease)) differs = true;
    if (f !== undefined && !knownIn(f, release)) f = undefined;
    if (f === undefined) {
      r.skipField();
      continue;
    }
    let mayHave = true;
    let clear = f.oneofOthers !== undefined;
    if (fresh && out !== undefined) {
      if (no <= 30) {
        mayHave = (fieldsSet & (1 << no)) !== 0;
        fieldsSet |= 1 << no;
      }
      if (f.oneofBit !== 0) {
        clear = (oneofsSet & f.oneofBit) !== 0;
        oneofsSet |= f.oneofBit;
      }
    }
    if (r.wireType !== f.wire) {
      if (r.wireType !== 2 || !f.packable) throw r.wrongWireType(f.goName);
      if (watching) differs = true;
      // Packed: elements are read until the packed length is used up, but each varint is only
      // bounded by the message (gogo's loop), so the last one may run past the packed bytes.
      const e = r.lengthEnd();
      while (r.pos < e) {
        if (out) {
          put(out, f, scalar(r, f.kind), mayHave, clear);
          mayHave = true;
        } else r.skipVarint();
      }
      continue;
    }
    switch (f.kind) {
      case Kind.Message: {
        const e = r.lengthEnd();
        if (depth + 1 >= MAX_NESTING) throw new WireFailure({ kind: 'too-deep', type: spec.name, at: r.fieldAt, depth: MAX_NESTING });
        let sub: ProtoObject | undefined;
        let merged = false;
        if (out) {
          const had = mayHave ? out[f.key] : undefined;
          if (watching && had !== undefined && !f.repeated) differs = true;
          if (!f.repeated && f.oneofOthers === undefined && isObject(had)) {
            sub = had; // merged, as gogo does
            merged = true;
          } else {
            sub = {};
            put(out, f, sub, mayHave, clear);
          }
        }
        const outerEnd = r.end;
        r.end = e;
        readFields(r, f.sub!, sub, !merged, depth + 1, release, select?.keep.get(f.sub!), select);
        r.end = outerEnd;
        break;
      }
      case Kind.Bytes:
        if (out) put(out, f, r.bytes(), mayHave, clear);
        else r.pos = r.lengthEnd();
        break;
      case Kind.String:
        if (watching && f.utf8) {
          const e = r.lengthEnd();
          if (!isValidUtf8(r.buf, r.pos, e)) differs = true;
          if (out) put(out, f, decodeText(r.buf, r.pos, e), mayHave, clear);
          r.pos = e;
        } else if (out) put(out, f, r.string(), mayHave, clear);
        else r.pos = r.lengthEnd();
        break;
      default:
        if (out) put(out, f, scalar(r, f.kind), mayHave, clear);
        else r.skipVarint();
    }
  }
  r.type = outerType;
  r.base = outerBase;
}

/** A scalar read protobuf-go's way (the same values as gogo's, from a stricter varint). */
function goScalar(r: WireReader, kind: Kind): ProtoValue {
  const lo = r.goVarint();
  switch (kind) {
    case Kind.Uint64:
      return uint64Of(lo, r.hi);
    case Kind.Int64:
      return int64Of(lo, r.hi);
    case Kind.Uint32:
      return lo;
    case Kind.Int32:
      return lo | 0;
    default:
      return (lo | r.hi) !== 0;
  }
}

/** A message protobuf-go's decoder has entered and not finished (its own stack: no recursion). */
interface GoFrame {
  spec: MessageSpec;
  out: ProtoObject | undefined;
  end: number;
}

/**
 * Reads a message of `spec` occupying [r.pos, r.end) as protobuf-go's unmarshalPointer does
 * (google.golang.org/protobuf/internal/impl/decode.go and the field coders of codec_gen.go and
 * codec_field.go); fills `out` when given.
 */
function readFieldsGo(r: WireReader, top: MessageSpec, topOut: ProtoObject | undefined, release: number): void {
  const stack: GoFrame[] = [];
  let spec = top;
  let out = topOut;
  r.type = spec.name;
  for (;;) {
    if (r.pos >= r.end) {
      const up = stack.pop();
      if (up === undefined) return;
      ({ spec, out } = up);
      r.end = up.end;
      r.type = spec.name;
      continue;
    }
    const no = r.goTag();
    let f = no < 128 ? spec.small[no] : spec.large.get(no);
    if (f !== undefined && !knownIn(f, release)) f = undefined;
    const wt = r.wireType;
    if (f === undefined || (wt !== f.wire && !(wt === 2 && f.packable))) {
      r.goSkipField(); // unknown, or known with another wire type: protobuf-go's errUnknown
      continue;
    }
    if (wt !== f.wire) {
      // packed: the elements are read within the list's bytes
      const e = r.goLengthEnd();
      const outerEnd = r.end;
      r.end = e;
      while (r.pos < e) {
        const v = goScalar(r, f.kind);
        if (out) store(out, f, v);
      }
      r.end = outerEnd;
      continue;
    }
    switch (f.kind) {
      case Kind.Message: {
        const e = r.goLengthEnd();
        // the nested unmarshalPointer counts its depth down before reading anything
        if (stack.length + 1 >= GO_RECURSION_LIMIT) throw new WireFailure({ kind: 'recursion-depth', type: f.sub!.name, at: r.fieldAt, field: no });
        let sub: ProtoObject | undefined;
        if (out) {
          const had = out[f.key];
          if (!f.repeated && isObject(had)) sub = had; // merged, a oneof member too (when it is the one set)
          else {
            sub = {};
            store(out, f, sub);
          }
        }
        stack.push({ spec, out, end: r.end });
        spec = f.sub!;
        out = sub;
        r.end = e;
        r.type = spec.name;
        break;
      }
      case Kind.Bytes: {
        const e = r.goLengthEnd();
        if (out) {
          const b = r.buf;
          store(out, f, new Uint8Array(b.buffer, b.byteOffset + r.pos, e - r.pos));
        }
        r.pos = e;
        break;
      }
      case Kind.String: {
        const e = r.goLengthEnd();
        if (f.utf8 && !isValidUtf8(r.buf, r.pos, e)) throw new WireFailure({ kind: 'invalid-utf8', type: spec.name, at: r.fieldAt, field: no });
        if (out) store(out, f, decodeText(r.buf, r.pos, e));
        r.pos = e;
        break;
      }
      default: {
        const v = goScalar(r, f.kind);
        if (out) store(out, f, v);
      }
    }
  }
}

function run(typeName: string, bytes: Uint8Array, out: ProtoObject | undefined, opts: UnmarshalOptions | undefined): UnmarshalFailure | undefined {
  const spec = specOf(typeName);
  const r = new WireReader(bytes, spec.name);
  const release = releaseOf(opts);
  try {
    if (usesProtobufGo(release)) readFieldsGo(r, spec, out, release);
    else readFields(r, spec, out, true, 0, release);
  } catch (e) {
    if (e instanceof WireFailure) return e.failure;
    throw e;
  }
  return undefined;
}

/**
 * Whether etcd's generated `(*<typeName>).Unmarshal` accepts `bytes`, and if not, how it fails
 * (`unmarshalFailureText` gives its exact error text). `typeName` is the full proto name of any
 * message in our schema, e.g. `walpb.Record`, `etcdserverpb.InternalRaftRequest`, `mvccpb.KeyValue`.
 *
 *   const r = checkEtcdUnmarshal('mvccpb.KeyValue', value);
 *   if (!r.ok) console.log(unmarshalFailureText(r.failure)); // proto: KeyValue: illegal tag 0 (wire type 0)
 */
export function checkEtcdUnmarshal(typeName: string, bytes: Uint8Array, opts?: UnmarshalOptions): UnmarshalOutcome {
  const failure = run(typeName, bytes, undefined, opts);
  return failure === undefined ? { ok: true } : { ok: false, failure };
}

/** Like checkEtcdUnmarshal, and the decoded message when it is accepted (one pass). */
export function decodeEtcdMessage(typeName: string, bytes: Uint8Array, opts?: UnmarshalOptions): DecodeOutcome {
  const message: ProtoObject = {};
  const failure = run(typeName, bytes, message, opts);
  return failure === undefined ? { ok: true, message } : { ok: false, failure };
}

const fieldReader = new WireReader(new Uint8Array(0));
const keeps = new WeakMap<ReadonlySet<string>, { spec: MessageSpec; keep: Keep }>();

function keepFor(spec: MessageSpec, only: ReadonlySet<string>): Keep {
  let k = keeps.get(only);
  if (k === undefined || k.spec !== spec) keeps.set(only, (k = { spec, keep: keepOf(spec, only) }));
  return k.keep;
}

/**
 * decodeEtcdMessage with gogoproto's rules (3.5) for a caller that needs a few top-level fields:
 * every field is read and checked the same, only those named in `only` are built into `message`
 * (a key out of each of a million KeyValues, without the rest of each).
 */
export function decodeEtcdFields(typeName: string, bytes: Uint8Array, only: ReadonlySet<string>): DecodeOutcome {
  const spec = specOf(typeName);
  const r = fieldReader.reset(bytes, spec.name);
  const message: ProtoObject = {};
  try {
    readFields(r, spec, message, true, 0, GOGO_RELEASE, keepFor(spec, only));
  } catch (e) {
    if (e instanceof WireFailure) return { ok: false, failure: e.failure };
    throw e;
  }
  return { ok: true, message };
}

/** What etcd 3.5/3.6's applyEntryNormal makes of an EntryNormal's Data (see etcdAppliesEntryData). */
export type EntryDataOutcome =
  /** empty data: the leader's no-op, skipped */
  | { as: 'noop' }
  /** `pbutil.MaybeUnmarshal(&InternalRaftRequest)` succeeded */
  | { as: 'internal-raft-request'; request: ProtoObject }
  /** it failed, and the data is a bare v2 `etcdserverpb.Request` */
  | { as: 'v2-request'; request: ProtoObject; irrFailure: UnmarshalFailure }
  /** neither: `pbutil.MustUnmarshal(&Request)` panics with `panic` and etcd crashes on apply */
  | { as: 'panic'; panic: string; irrFailure: UnmarshalFailure; requestFailure: UnmarshalFailure };

/** What etcd 3.7's applyEntryNormal and apply.Apply make of an EntryNormal's Data. */
export type ProtobufGoEntryDataOutcome =
  /** empty data: the leader's no-op, skipped */
  | { as: 'noop' }
  /** an InternalRaftRequest with an ID or a header: applied */
  | { as: 'internal-raft-request'; request: ProtoObject }
  /** `pbutil.MustUnmarshalMessage(&InternalRaftRequest)` panics with `panic` (there is no v2 fallback) */
  | { as: 'panic'; panic: string; irrFailure: UnmarshalFailure }
  /** it decodes, but with neither an ID nor a header: `Apply, could not find a header` (a panic) */
  | { as: 'no-header'; panic: string; request: ProtoObject };

/** etcd 3.7's apply.Apply panic when a request carries neither an ID nor a header. */
export const NO_HEADER_PANIC = 'Apply, could not find a header';

/**
 * What etcd's apply loop makes of an EntryNormal's data, release by release.
 *
 * 3.5 and 3.6 (EtcdServer.applyEntryNormal): no-op when the data is empty; else an
 * InternalRaftRequest if `MaybeUnmarshal` accepts it; else it must be a v2 Request
 * (`MustUnmarshal`), and when that fails too etcd panics with
 * `unmarshal should never fail (<the Request's error>)` — every time it applies the entry.
 *
 * 3.7 (applyEntryNormal, then apply.Apply): no-op when empty; else `MustUnmarshalMessage` into an
 * InternalRaftRequest with protobuf-go (field 2, the v2 request, is reserved there: a bare v2
 * Request is no InternalRaftRequest, and usually not even a well-formed one) or panic
 * `unmarshal should never fail (proto: cannot parse invalid wire-format data)`; a request whose ID
 * is 0 and that has no header (even an empty one counts) panics `Apply, could not find a header`.
 *
 *   const o = etcdAppliesEntryData(entry.data);
 *   if (o.as === 'panic') report(o.panic); // unmarshal should never fail (proto: Request: illegal tag 0 (wire type 0))
 */
export function etcdAppliesEntryData(data: Uint8Array | undefined, opts?: UnmarshalOptions & { release?: '3.5' | '3.6' }): EntryDataOutcome;
export function etcdAppliesEntryData(data: Uint8Array | undefined, opts: UnmarshalOptions & { release: '3.7' }): ProtobufGoEntryDataOutcome;
export function etcdAppliesEntryData(data: Uint8Array | undefined, opts?: UnmarshalOptions): EntryDataOutcome | ProtobufGoEntryDataOutcome;
export function etcdAppliesEntryData(data: Uint8Array | undefined, opts?: UnmarshalOptions): EntryDataOutcome | ProtobufGoEntryDataOutcome {
  if (data === undefined || data.length === 0) return { as: 'noop' };
  const irr = decodeEtcdMessage('etcdserverpb.InternalRaftRequest', data, opts);
  if (usesProtobufGo(releaseOf(opts))) {
    if (!irr.ok) return { as: 'panic', panic: `unmarshal should never fail (${unmarshalFailureText(irr.failure)})`, irrFailure: irr.failure };
    return appliedByProtobufGo(irr.message);
  }
  if (irr.ok) return { as: 'internal-raft-request', request: irr.message };
  const v2 = decodeEtcdMessage('etcdserverpb.Request', data, opts);
  if (v2.ok) return { as: 'v2-request', request: v2.message, irrFailure: irr.failure };
  return {
    as: 'panic',
    panic: `unmarshal should never fail (${unmarshalFailureText(v2.failure)})`,
    irrFailure: irr.failure,
    requestFailure: v2.failure,
  };
}

/** 3.7's apply.Apply on an InternalRaftRequest protobuf-go accepted: it needs an ID or a header. */
function appliedByProtobufGo(request: ProtoObject): ProtobufGoEntryDataOutcome {
  const id = request['id'];
  if ((id === undefined || id === 0n) && request['header'] === undefined) return { as: 'no-header', panic: NO_HEADER_PANIC, request };
  return { as: 'internal-raft-request', request };
}

/** etcdAppliesEntryData's answer for each release line. */
export interface EntryDataOutcomes {
  '3.5': EntryDataOutcome;
  '3.6': EntryDataOutcome;
  '3.7': ProtobufGoEntryDataOutcome;
}


/**
 * etcdAppliesEntryData for 3.5, 3.6 and 3.7 at once — the same three answers — in one pass over the
 * bytes in the common case. The bytes are read once with 3.5's gogoproto rules; when they decode
 * as an InternalRaftRequest and hold nothing the releases' decoders treat differently (every
 * field known to all three, no packed list, no message field twice, proto3 strings valid UTF-8,
 * no 10-byte varint with a last byte above 1, no tag beyond 32 bits), gogo's 3.5 and 3.6 and protobuf-go's 3.7 read the same
 * message, so that one message answers for all. Anything else — a failure included — is read
 * again by each release's own rules (etcdAppliesEntryData). The two `3.5`/`3.6` answers may be
 * one object.
 *
 * `select`: the fields a caller needs, by message type (`id` and `header` of the
 * InternalRaftRequest, the keys and values of a txn's puts, ...): on the one-pass way only those
 * are built into `request`; every other field is read and checked just the same, and left out
 * (building the whole of a Kubernetes txn costs more than reading it).
 */
export function etcdAppliesEntryDataInEachRelease(data: Uint8Array | undefined, opts: { select?: FieldSelection | undefined } = {}): EntryDataOutcomes {
  if (data === undefined || data.length === 0) {
    const noop = { as: 'noop' } as const;
    return { '3.5': noop, '3.6': noop, '3.7': noop };
  }
  const spec = specOf('etcdserverpb.InternalRaftRequest');
  const r = applyReader.reset(data, spec.name);
  r.unusualVarint = false;
  const request: ProtoObject = {};
  let ok = true;
  watching = true;
  differs = false;
  try {
    readFields(r, spec, request, true, 0, GOGO_RELEASE, opts.select?.keep.get(spec), opts.select);
  } catch (e) {
    if (!(e instanceof WireFailure)) throw e;
    ok = false;
  } finally {
    watching = false;
  }
  if (ok && !differs && !r.unusualVarint) {
    const gogo: EntryDataOutcome = { as: 'internal-raft-request', request };
    return { '3.5': gogo, '3.6': gogo, '3.7': appliedByProtobufGo(request) };
  }
  return {
    '3.5': etcdAppliesEntryData(data, { release: '3.5' }),
    '3.6': etcdAppliesEntryData(data, { release: '3.6' }),
    '3.7': etcdAppliesEntryData(data, { release: '3.7' }),
  };
}

const OK: UnmarshalOutcome = { ok: true };

/**
 * checkEtcdUnmarshal with 3.5's rules (gogoproto, the same as 3.6's for the fields both know), and
 * whether every release is sure to answer the same: true when the bytes decode and hold nothing
 * the releases read differently (as for etcdAppliesEntryDataInEachRelease). False only says that
 * the other releases must be asked themselves.
 */
export function checkEtcdUnmarshalInEachRelease(typeName: string, bytes: Uint8Array): { outcome: UnmarshalOutcome; sameInEachRelease: boolean } {
  const spec = specOf(typeName);
  const r = applyReader.reset(bytes, spec.name);
  r.unusualVarint = false;
  watching = true;
  differs = false;
  try {
    readFields(r, spec, undefined, true, 0, GOGO_RELEASE);
  } catch (e) {
    if (!(e instanceof WireFailure)) throw e;
    return { outcome: { ok: false, failure: e.failure }, sameInEachRelease: false };
  } finally {
    watching = false;
  }
  return { outcome: OK, sameInEachRelease: !differs && !r.unusualVarint };
}
