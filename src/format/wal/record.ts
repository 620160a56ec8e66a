/**
 * walpb.Record: `type` (field 1, varint), `crc` (field 2, varint), `data` (field 3, bytes; absent
 * in crc records). Decoding goes through protobufjs's Reader, but the errors are classified the
 * way etcd's gogoproto-generated Unmarshal reports them, because that decides what etcd does at
 * boot: a varint or length that runs past the record is `unexpected EOF`, which etcd treats as a
 * torn write and "repairs" by truncating — even in the middle of a log (spec etcd-wal.md §4.8).
 */
import protobuf from 'protobufjs/minimal.js';

export const RecordType = {
  metadata: 1,
  entry: 2,
  state: 3,
  crc: 4,
  snapshot: 5,
} as const;
export type RecordTypeName = keyof typeof RecordType;

export function recordTypeName(type: number): RecordTypeName | undefined {
  switch (type) {
    case 1:
      return 'metadata';
    case 2:
      return 'entry';
    case 3:
      return 'state';
    case 4:
      return 'crc';
    case 5:
      return 'snapshot';
    default:
      return undefined;
  }
}

export interface WalRecord {
  /** Record type; may be outside 1..5 in damaged files (etcd: `unexpected block type`). */
  type: number;
  crc: number;
  data: Uint8Array | undefined;
}

/**
 * How gogoproto would fail on these bytes:
 * - `unexpected-eof`: a varint, tag or length ran past the end (etcd returns io.ErrUnexpectedEOF);
 * - `illegal-wire-type`, `illegal-tag`, `wrong-wire-type`, `int-overflow`, `end-group`: other
 *   protobuf errors, fatal at etcd's boot.
 */
export type RecordDecodeFailure =
  | { kind: 'unexpected-eof'; at: number }
  | { kind: 'illegal-wire-type'; wireType: number; at: number }
  | { kind: 'illegal-tag'; tag: number; wireType: number; at: number }
  | { kind: 'wrong-wire-type'; field: string; wireType: number; at: number }
  | { kind: 'int-overflow'; at: number }
  | { kind: 'end-group'; at: number };

/** The error text etcd (gogoproto) prints for a failure. */
export function recordFailureText(f: RecordDecodeFailure): string {
  switch (f.kind) {
    case 'unexpected-eof':
      return 'unexpected EOF';
    case 'illegal-wire-type':
      return `proto: illegal wireType ${f.wireType}`;
    case 'illegal-tag':
      return `proto: Record: illegal tag ${f.tag} (wire type ${f.wireType})`;
    case 'wrong-wire-type':
      return `proto: wrong wireType = ${f.wireType} for field ${f.field}`;
    case 'int-overflow':
      return 'proto: integer overflow';
    case 'end-group':
      return 'proto: Record: wiretype end group for non-group';
  }
}

export type RecordDecodeResult = { ok: true; record: WalRecord } | { ok: false; failure: RecordDecodeFailure };

const FIELD_NAMES = ['', 'Type', 'Crc', 'Data'];

/** Decode a walpb.Record from exactly its N bytes (no padding). Never throws on bad bytes. */
export function decodeRecord(b: Uint8Array): RecordDecodeResult {
  const r = protobuf.Reader.create(b);
  let type = 0;
  let crc = 0;
  let data: Uint8Array | undefined;
  try {
    while (r.pos < r.len) {
      const at = r.pos;
      const tag = readVarint32(r);
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (wireType === 4) return { ok: false, failure: { kind: 'end-group', at } };
      if (field === 0) return { ok: false, failure: { kind: 'illegal-tag', tag: 0, wireType, at } };
      if (field === 1 || field === 2) {
        if (wireType !== 0) {
          return { ok: false, failure: { kind: 'wrong-wire-type', field: FIELD_NAMES[field]!, wireType, at } };
        }
        const start = r.pos;
        const v = readVarint32(r);
        // crc is a uint32: gogoproto keeps the low 32 bits, as does uint32(). type is an int64:
        // a value with higher bits set is no record type at all.
        if (field === 1) type = r.pos - start >= 5 && highBitsSet(b, start, r.pos) ? -1 : v;
        else crc = v;
      } else if (field === 3) {
        if (wireType !== 2) {
          return { ok: false, failure: { kind: 'wrong-wire-type', field: 'Data', wireType, at } };
        }
        const start = r.pos;
        const len = readVarint32(r);
        if ((r.pos - start >= 5 && highBitsSet(b, start, r.pos)) || len > r.len - r.pos) return { ok: false, failure: { kind: 'unexpected-eof', at } };
        data = b.subarray(r.pos, r.pos + len);
        r.pos += len;
      } else {
        if (wireType === 6 || wireType === 7) {
          return { ok: false, failure: { kind: 'illegal-wire-type', wireType, at } };
        }
        r.skipType(wireType);
      }
    }
  } catch (e) {
    return { ok: false, failure: classifyReaderError(e, r.pos) };
  }
  return { ok: true, record: { type, crc, data } };
}

/** A varint's low 32 bits; protobufjs throws on one longer than 10 bytes (gogoproto: overflow). */
function readVarint32(r: protobuf.Reader): number {
  return r.uint32();
}

/** Whether the varint in b[start, end) has any bit at or above 2^32 set. */
function highBitsSet(b: Uint8Array, start: number, end: number): boolean {
  if ((b[start + 4]! & 0x7f) >>> 4 !== 0) return true;
  for (let i = start + 5; i < end; i++) if ((b[i]! & 0x7f) !== 0) return true;
  return false;
}

function classifyReaderError(e: unknown, at: number): RecordDecodeFailure {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError || msg.startsWith('index out of range')) return { kind: 'unexpected-eof', at };
  if (msg.startsWith('invalid varint encoding')) return { kind: 'int-overflow', at };
  const wt = /invalid wire type (\d+)/.exec(msg);
  if (wt) return { kind: 'illegal-wire-type', wireType: Number(wt[1]), at };
  if (msg.includes('field number 0')) return { kind: 'illegal-tag', tag: 0, wireType: 0, at };
  // Anything else protobufjs can raise here is a malformed group; gogoproto calls that unexpected EOF
  // when the group runs off the end, which is the only way a well-formed prefix can fail.
  return { kind: 'unexpected-eof', at };
}

/** Encode a walpb.Record the way etcd's gogoproto does: fields 1, 2 always, 3 when data is set. */
export function encodeRecord(rec: WalRecord): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(8).uint32(rec.type);
  w.uint32(16).uint32(rec.crc >>> 0);
  if (rec.data !== undefined) w.uint32(26).bytes(rec.data);
  return w.finish();
}
