/**
 * walpb.Record: `type` (field 1, varint int64), `crc` (field 2, varint uint32), `data` (field 3,
 * bytes; absent in crc records). Decoded with the project's wire reader (format/proto/wire.ts),
 * which fails exactly as etcd's gogoproto-generated Unmarshal does, because that decides what etcd
 * does at boot: a varint or length that runs past the record is `unexpected EOF`, which etcd treats
 * as a torn write and "repairs" by truncating — even in the middle of a log (spec etcd-wal.md §4.8);
 * any other error is fatal.
 */
import { type UnmarshalFailure, WireFailure, WireReader, pushVarint, unmarshalFailureText } from '../proto/wire.js';

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

/** How etcd's `(*walpb.Record).Unmarshal` fails (the shared gogoproto failure; see proto/wire.ts). */
export type RecordDecodeFailure = UnmarshalFailure;

/** The error text etcd (gogoproto) prints for a failure. */
export const recordFailureText: (f: RecordDecodeFailure) => string = unmarshalFailureText;

export type RecordDecodeResult = { ok: true; record: WalRecord } | { ok: false; failure: RecordDecodeFailure };

// One reader for every record (decodeRecord never re-enters itself).
const reader = new WireReader(new Uint8Array(0));

/** Decode a walpb.Record from exactly its N bytes (no padding). Never throws on bad bytes. */
export function decodeRecord(b: Uint8Array): RecordDecodeResult {
  const record: WalRecord = { type: 0, crc: 0, data: undefined };
  const failure = decodeRecordInto(b, 0, b.length, record);
  return failure === undefined ? { ok: true, record } : { ok: false, failure };
}

/**
 * The record in buf[start, end) decoded into `into` (the WAL decoder's hot path: no result object
 * per record, no view of the record's bytes; `data` is a view into `buf`). Returns the failure,
 * with `at` relative to `start`, when etcd's Unmarshal would refuse the bytes.
 */
export function decodeRecordInto(buf: Uint8Array, start: number, end: number, into: WalRecord): RecordDecodeFailure | undefined {
  const r = reader.reset(buf, 'walpb.Record', start, end);
  let type = 0;
  let crc = 0;
  let data: Uint8Array | undefined;
  try {
    while (r.pos < end) {
      switch (r.tag()) {
        case 1: {
          if (r.wireType !== 0) throw r.wrongWireType('Type');
          const lo = r.varint();
          // An int64 in etcd; its types are 1..5: one with higher bits set is no record type (-1).
          type = r.hi === 0 ? lo : -1;
          break;
        }
        case 2:
          if (r.wireType !== 0) throw r.wrongWireType('Crc');
          crc = r.varint(); // uint32: gogo keeps the low 32 bits
          break;
        case 3:
          if (r.wireType !== 2) throw r.wrongWireType('Data');
          data = r.bytes();
          break;
        default:
          r.skipField();
      }
    }
  } catch (e) {
    if (e instanceof WireFailure) return start === 0 ? e.failure : { ...e.failure, at: e.failure.at - start };
    throw e;
  }
  into.type = type;
  into.crc = crc;
  into.data = data;
  return undefined;
}

/** Where one field of a record sits (bytes [start, end) of the record; value from `valueStart`). */
export interface RecordFieldSpan {
  field: 'type' | 'crc' | 'data' | 'unknown';
  start: number;
  valueStart: number;
  end: number;
}

/**
 * The fields of a record in the order they appear, as far as they read (for the hex view): stops
 * quietly at the first field that does not decode (decodeRecord says why).
 */
export function recordFieldSpans(b: Uint8Array): RecordFieldSpan[] {
  const r = new WireReader(b, 'walpb.Record');
  const out: RecordFieldSpan[] = [];
  try {
    while (r.pos < r.end) {
      const start = r.pos;
      const no = r.tag();
      const valueStart = r.pos;
      const known = (no === 1 || no === 2) && r.wireType === 0 ? (no === 1 ? 'type' : 'crc') : no === 3 && r.wireType === 2 ? 'data' : 'unknown';
      if (known === 'data') {
        const end = r.lengthEnd();
        out.push({ field: known, start, valueStart: r.pos, end });
        r.pos = end;
        continue;
      }
      if (known === 'unknown') r.skipField();
      else r.skipVarint();
      out.push({ field: known, start, valueStart, end: r.pos });
    }
  } catch (e) {
    if (!(e instanceof WireFailure)) throw e;
  }
  return out;
}

/** Encode a walpb.Record the way etcd's gogoproto does: fields 1, 2 always, 3 when data is set. */
export function encodeRecord(rec: WalRecord): Uint8Array {
  const head: number[] = [0x08];
  pushVarint(head, rec.type); // an int64: a negative type is ten bytes of two's complement, as Go writes it
  head.push(0x10);
  pushVarint(head, rec.crc >>> 0);
  if (rec.data === undefined) return Uint8Array.from(head);
  head.push(0x1a);
  pushVarint(head, rec.data.length);
  const out = new Uint8Array(head.length + rec.data.length);
  out.set(head, 0);
  out.set(rec.data, head.length);
  return out;
}
