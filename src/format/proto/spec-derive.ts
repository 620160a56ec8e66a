/**
 * Turns our schema, as protobufjs resolves it, into the decoding tables of schema.ts. Run by
 * scripts/gen-proto.mjs, which commits the result as specs.generated.ts; the decoders never load
 * protobufjs. A test derives the tables again from descriptor.generated.ts and compares.
 */
import protobuf from 'protobufjs';
import { type FieldRow, Kind, type SpecTable, releaseNumber } from './schema.js';

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

function oneofBit(type: protobuf.Type, oneof: protobuf.OneOf): number {
  const i = type.oneofsArray.indexOf(oneof);
  if (i < 0 || i > 30) throw new Error(`${type.fullName}: oneof ${oneof.name} cannot have a bit`);
  return 1 << i;
}

const fullName = (t: protobuf.ReflectionObject): string => t.fullName.replace(/^\./, '');

/** One message's fields, in declaration order. */
function rowsOf(type: protobuf.Type): FieldRow[] {
  const name = fullName(type);
  return type.fieldsArray.map((f) => {
    f.resolve();
    const where = `${name}.${f.name}`;
    const opts = (f.options ?? {}) as Record<string, unknown>;
    const custom = opts['(gogoproto.customname)'];
    const since = opts['(waldoctor.since)'];
    const until = opts['(waldoctor.until)'];
    let kind: Kind;
    let wire: number;
    let sub: string | undefined;
    if (f.resolvedType instanceof protobuf.Type) {
      kind = Kind.Message;
      wire = 2;
      sub = fullName(f.resolvedType);
    } else if (f.resolvedType instanceof protobuf.Enum) {
      kind = Kind.Int32; // gogo: enums are int32 fields; any value is kept
      wire = 0;
    } else {
      ({ kind, wire } = scalarKind(f.type, where));
    }
    const oneof = f.partOf;
    const row: FieldRow = {
      no: f.id,
      key: f.name,
      goName: typeof custom === 'string' ? custom : goCamelCase((f as unknown as { protoName?: string }).protoName ?? f.name),
      wire,
      kind,
      repeated: f.repeated,
      oneofBit: oneof ? oneofBit(type, oneof) : 0,
      since: typeof since === 'string' ? releaseNumber(since) : 0,
      utf8: kind === Kind.String && utf8Validated(f),
    };
    if (sub !== undefined) row.sub = sub;
    if (oneof) row.oneofOthers = oneof.oneof.filter((n) => n !== f.name);
    if (typeof until === 'string') row.until = releaseNumber(until);
    return row;
  });
}

/** The tables of every message type under `root` (resolved), by full name, sorted. */
export function deriveSpecTable(root: protobuf.Root): SpecTable {
  const table: SpecTable = {};
  const types: protobuf.Type[] = [];
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const n of ns.nestedArray) {
      if (n instanceof protobuf.Type) types.push(n);
      if (n instanceof protobuf.Namespace || n instanceof protobuf.Type) visit(n);
    }
  };
  visit(root);
  types.sort((a, b) => (fullName(a) < fullName(b) ? -1 : fullName(a) > fullName(b) ? 1 : 0));
  for (const t of types) table[fullName(t)] = rowsOf(t);
  return table;
}
