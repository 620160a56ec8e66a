/**
 * The schema of etcd's messages, as the decoders in this directory need it.
 *
 * Our .proto files are compiled by scripts/gen-proto.mjs with protobufjs, which is good at that,
 * and each message is turned (spec-derive.ts) into a small table (`MessageSpec`) that the wire
 * reader walks, committed as specs.generated.ts: the decoders load no protobufjs (it cost every
 * command ~40 ms of start-up; only the encoders, encode.ts, use it). A table holds: field number
 * → wire type, value kind, the Go field name gogoproto prints in `wrong wireType = N for field <Name>` (gogo's CamelCase of the proto
 * name, or the `(gogoproto.customname)` option where etcd's name differs), whether the field takes
 * the packed form, and the first etcd release that knows it (`(waldoctor.since)`: older releases
 * skip it as an unknown field), the last release that knows it (`(waldoctor.until)`: a field etcd
 * later made `reserved`), and whether protobuf-go checks its text is UTF-8 (proto3 strings).
 *
 * Releases up to 3.6 decode with gogoproto's generated Unmarshal methods; from 3.7 on etcd
 * generates every message it stores or applies with protobuf-go (raft v3.7's raftpb too) and
 * decodes with `proto.Unmarshal`, whose rules differ (see unmarshal.ts, `usesProtobufGo`).
 */
import { specTable } from './specs.generated.js';

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

/** Whether `release` (a number from releaseNumber) knows field `f`. */
export function knownIn(f: FieldSpec, release: number): boolean {
  return f.since <= release && release <= f.until;
}

/**
 * A field as specs.generated.ts holds it: a FieldSpec whose message is named, not linked, with no
 * `until` for a field every later release knows, and without what follows from the rest
 * (`packable`, `inEveryRelease`).
 */
export type FieldRow = Omit<FieldSpec, 'sub' | 'oneofOthers' | 'until' | 'packable' | 'inEveryRelease'> & {
  /** The message type's full name (Kind.Message only). */
  sub?: string;
  oneofOthers?: string[];
  until?: number;
};

/** Every message of the schema by full proto name, its fields in declaration order. */
export type SpecTable = Record<string, FieldRow[]>;

const specs = new Map<string, MessageSpec>();

/** The decoding table for a message by full proto name (built once; recursive types share their
 *  table); throws on a name not in our schema (a bug). */
export function specOf(typeName: string): MessageSpec {
  const known = specs.get(typeName);
  if (known) return known;
  const rows = specTable[typeName];
  if (rows === undefined) throw new Error(`no message type ${typeName} in the schema`);
  const spec: MessageSpec = { name: typeName, small: [], large: new Map() };
  specs.set(typeName, spec);
  for (const r of rows) {
    const fs: FieldSpec = {
      no: r.no,
      key: r.key,
      goName: r.goName,
      wire: r.wire,
      kind: r.kind,
      repeated: r.repeated,
      packable: r.repeated && r.wire === 0,
      sub: r.sub === undefined ? undefined : specOf(r.sub),
      oneofOthers: r.oneofOthers,
      oneofBit: r.oneofBit,
      since: r.since,
      until: r.until ?? Infinity,
      utf8: r.utf8,
      inEveryRelease: false,
    };
    fs.inEveryRelease = RELEASES.every((rel) => knownIn(fs, releaseNumber(rel)));
    if (r.no < 128) spec.small[r.no] = fs;
    else spec.large.set(r.no, fs);
  }
  return spec;
}

/** Every message type of the schema, by full proto name. */
export function messageNames(): string[] {
  return Object.keys(specTable);
}

/** Every field of a message's table, numbers below 128 first. */
export function fieldsOf(spec: MessageSpec): FieldSpec[] {
  return [...spec.small.filter((f): f is FieldSpec => f !== undefined), ...spec.large.values()];
}
