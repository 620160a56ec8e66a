/**
 * The schema of etcd's messages, as the decoders in this directory need it.
 *
 * Our .proto files (compiled into descriptor.generated.ts by scripts/gen-proto.mjs) are loaded
 * once with protobufjs, which is good at that; each message is then turned into a small table
 * (`MessageSpec`) that the wire reader walks: field number → wire type, value kind, the Go field
 * name gogoproto prints in `wrong wireType = N for field <Name>` (gogo's CamelCase of the proto
 * name, or the `(gogoproto.customname)` option where etcd's name differs), whether the field takes
 * the packed form, and the first etcd release that knows it (`(waldoctor.since)`: older releases
 * skip it as an unknown field), the last release that knows it (`(waldoctor.until)`: a field etcd
 * later made `reserved`), and whether protobuf-go checks its text is UTF-8 (proto3 strings).
 *
 * Releases up to 3.6 decode with gogoproto's generated Unmarshal methods; from 3.7 on etcd
 * generates every message it stores or applies with protobuf-go (raft v3.7's raftpb too) and
 * decodes with `proto.Unmarshal`, whose rules differ (see unmarshal.ts, `usesProtobufGo`).
 */
import protobuf from 'protobufjs';
import { descriptor } from './descriptor.generated.js';

/** etcd releases whose Unmarshal the decoders reproduce (checked against their Go code). */
export type EtcdRelease = '3.5' | '3.6' | '3.7';
export const DEFAULT_RELEASE: EtcdRelease = '3.5';
/** Every release the decoders reproduce, oldest first. */
export const RELEASES: readonly EtcdRelease[] = ['3.5', '3.6', '3.7'];

/** First release (as releaseNumber gives it) whose messages are protobuf-go's, not gogoproto's. */
export const PROTOBUF_GO_SINCE = 307;

/** Whether `release` (a number from releaseNumber) decodes with protobuf-go's proto.Unmarshal. */
export function usesProtobufGo(release: number): boolean {
  return release >= PROTOBUF_GO_SINCE;
}

export const root = protobuf.Root.fromJSON(descriptor);
root.resolveAll();

const types = new Map<string, protobuf.Type>();
/** A message type by full proto name (`raftpb.Entry`); throws on a name not in our schema (a bug). */
export function lookupType(name: string): protobuf.Type {
  let t = types.get(name);
  if (!t) {
    t = root.lookupType(name);
    types.set(name, t);
  }
  return t;
}

/** How a field's value is read. */
export const Kind = { Uint64: 0, Int64: 1, Uint32: 2, Int32: 3, Bool: 4, String: 5, Bytes: 6, Message: 7 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface FieldSpec {
  no: number;
  /** protobufjs' camelCase name: the key in decoded objects. */
  key: string;
  /** The name gogo's error text uses. */
  goName: string;
  /** Wire type the field must have (2 also accepted for packed lists when `packable`). */
  wire: number;
  kind: Kind;
  repeated: boolean;
  packable: boolean;
  sub: MessageSpec | undefined;
  /** Keys of the other members of its oneof (setting one clears them), if in a oneof. */
  oneofOthers: string[] | undefined;
  /** Its oneof's bit among the message's oneofs (1 << the oneof's position); 0 when not in one. */
  oneofBit: number;
  /** Release as a number (3.6 → 306) from which etcd's Unmarshal knows the field. */
  since: number;
  /** Last release that knows it (Infinity: still known). */
  until: number;
  /** protobuf-go refuses text that is not UTF-8 in this field (a proto3 string; gogo never checks). */
  utf8: boolean;
  /** Every release in RELEASES knows the field. */
  inEveryRelease: boolean;
}

export interface MessageSpec {
  /** Full proto name, e.g. `etcdserverpb.InternalRaftRequest`. */
  name: string;
  /** Fields numbered below 128, by number. */
  small: (FieldSpec | undefined)[];
  /** The others (InternalRaftRequest's 100, 1000..1302, 9900). */
  large: Map<number, FieldSpec>;
}

export function releaseNumber(r: EtcdRelease | string): number {
  const m = /^(\d+)\.(\d+)$/.exec(r);
  if (!m) throw new Error(`bad etcd release ${r}`);
  return Number(m[1]) * 100 + Number(m[2]);
}

/** gogoproto's generator.CamelCase: `_x` → `X`, other underscores stay (`remaining_TTL` → `Remaining_TTL`). */
export function goCamelCase(s: string): string {
  let t = '';
  let i = 0;
  const lower = (c: string | undefined) => c !== undefined && c >= 'a' && c <= 'z';
  if (s[0] === '_') {
    t += 'X';
    i++;
  }
  for (; i < s.length; i++) {
    let c = s[i]!;
    if (c === '_' && lower(s[i + 1])) continue;
    if (c >= '0' && c <= '9') {
      t += c;
      continue;
    }
    if (lower(c)) c = c.toUpperCase();
    t += c;
    while (lower(s[i + 1])) t += s[++i]!;
  }
  return t;
}

function scalarKind(type: string, where: string): { kind: Kind; wire: number } {
  switch (type) {
    case 'uint64':
      return { kind: Kind.Uint64, wire: 0 };
    case 'int64':
      return { kind: Kind.Int64, wire: 0 };
    case 'uint32':
      return { kind: Kind.Uint32, wire: 0 };
    case 'int32':
      return { kind: Kind.Int32, wire: 0 };
    case 'bool':
      return { kind: Kind.Bool, wire: 0 };
    case 'string':
      return { kind: Kind.String, wire: 2 };
    case 'bytes':
      return { kind: Kind.Bytes, wire: 2 };
    default:
      // No etcd message uses fixed, zigzag or floating-point fields; adding one needs code here.
      throw new Error(`${where}: field type ${type} is not supported by the wire decoder`);
  }
}

/** protobufjs resolves each field's edition features (proto3: utf8_validation VERIFY, proto2: NONE),
 *  the same rule protobuf-go applies (its strs.EnforceUTF8); the property is not in its typings. */
function utf8Validated(f: protobuf.Field): boolean {
  return (f as unknown as { _features?: { utf8_validation?: string } })._features?.utf8_validation === 'VERIFY';
}

/** Whether `release` (a number from releaseNumber) knows field `f`. */
export function knownIn(f: FieldSpec, release: number): boolean {
  return f.since <= release && release <= f.until;
}

const specs = new Map<protobuf.Type, MessageSpec>();

function oneofBit(type: protobuf.Type, oneof: protobuf.OneOf): number {
  const i = type.oneofsArray.indexOf(oneof);
  if (i < 0 || i > 30) throw new Error(`${type.fullName}: oneof ${oneof.name} cannot have a bit`);
  return 1 << i;
}

/** The decoding table of a message type (built once; recursive types share their table). */
export function messageSpec(type: protobuf.Type): MessageSpec {
  const known = specs.get(type);
  if (known) return known;
  const spec: MessageSpec = { name: type.fullName.replace(/^\./, ''), small: [], large: new Map() };
  specs.set(type, spec);
  for (const f of type.fieldsArray) {
    f.resolve();
    const where = `${spec.name}.${f.name}`;
    const opts = (f.options ?? {}) as Record<string, unknown>;
    const custom = opts['(gogoproto.customname)'];
    const since = opts['(waldoctor.since)'];
    const until = opts['(waldoctor.until)'];
    let kind: Kind;
    let wire: number;
    let sub: MessageSpec | undefined;
    if (f.resolvedType instanceof protobuf.Type) {
      kind = Kind.Message;
      wire = 2;
      sub = messageSpec(f.resolvedType);
    } else if (f.resolvedType instanceof protobuf.Enum) {
      kind = Kind.Int32; // gogo: enums are int32 fields; any value is kept
      wire = 0;
    } else {
      ({ kind, wire } = scalarKind(f.type, where));
    }
    const oneof = f.partOf;
    const fs: FieldSpec = {
      no: f.id,
      key: f.name,
      goName: typeof custom === 'string' ? custom : goCamelCase((f as unknown as { protoName?: string }).protoName ?? f.name),
      wire,
      kind,
      repeated: f.repeated,
      packable: f.repeated && wire === 0,
      sub,
      oneofOthers: oneof ? oneof.oneof.filter((n) => n !== f.name) : undefined,
      oneofBit: oneof ? oneofBit(type, oneof) : 0,
      since: typeof since === 'string' ? releaseNumber(since) : 0,
      until: typeof until === 'string' ? releaseNumber(until) : Infinity,
      utf8: kind === Kind.String && utf8Validated(f),
      inEveryRelease: false,
    };
    fs.inEveryRelease = RELEASES.every((r) => knownIn(fs, releaseNumber(r)));
    if (f.id < 128) spec.small[f.id] = fs;
    else spec.large.set(f.id, fs);
  }
  return spec;
}

/** The decoding table for a message by full proto name. */
export function specOf(typeName: string): MessageSpec {
  return messageSpec(lookupType(typeName));
}

/** Every field of a message's table, numbers below 128 first. */
export function fieldsOf(spec: MessageSpec): FieldSpec[] {
  return [...spec.small.filter((f): f is FieldSpec => f !== undefined), ...spec.large.values()];
}
