/**
 * Writing WAL records the way etcd's encoder does (spec etcd-wal.md §2.8): the running CRC-32C
 * is continued over each record's data (crc records carry the current value and add nothing), the
 * record is marshalled with fields 1, 2, 3, and framed with a length word and 0–7 bytes of padding.
 * The pair of this and decoder.ts is exercised by re-encoding real segments byte for byte.
 */
import { crc32cUpdate } from '../crc.js';
import { encodeFrameSize } from './frame.js';
import { RecordType, encodeRecord } from './record.js';

/** One framed record: length word, walpb.Record bytes, padding. */
export function encodeFrame(type: number, crc: number, data: Uint8Array | undefined): Uint8Array {
  const rec = encodeRecord({ type, crc: crc >>> 0, data });
  const { word, padBytes } = encodeFrameSize(rec.length);
  const out = new Uint8Array(8 + rec.length + padBytes);
  out.set(word, 0);
  out.set(rec, 8);
  return out;
}

/** Frames records continuing a CRC chain from `crc` (0 for the very first segment). */
export class RecordEncoder {
  constructor(public crc: number) {}

  /** A crc record carrying the chain's current value (the first record of every segment). */
  crcRecord(): Uint8Array {
    return encodeFrame(RecordType.crc, this.crc, undefined);
  }

  /** A record of `type` with `data`, continuing the chain. */
  record(type: number, data: Uint8Array): Uint8Array {
    this.crc = crc32cUpdate(data, this.crc);
    return encodeFrame(type, this.crc, data);
  }
}
