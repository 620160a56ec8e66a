/**
 * Decoding one WAL segment, the way etcd's decoder walks it, but reporting facts instead of
 * stopping with an error: where good data ends, why, and what lies beyond.
 *
 * How etcd reads a segment (spec etcd-wal.md §4.5): read the 8-byte length word (a zero word or
 * the physical end ends the file; 1–7 bytes is unexpected EOF); read N+P bytes; unmarshal the
 * record; for non-crc records continue the running CRC-32C over `data` and compare it with the
 * record's `crc`. On an unmarshal or CRC failure in the *last* file etcd calls the record torn when
 * some 512-byte-sector piece of it is all zeros. crc records carry the running CRC of the previous
 * segment: a fresh decoder (running CRC 0) accepts it, otherwise it must match; either way the
 * running CRC is reset to it.
 *
 * This module only states what it found (`SegmentEnd`); `inspect/` decides what etcd makes of it
 * for each version.
 */
import { crc32cUpdate } from '../crc.js';
import { WireFailure, WireReader } from '../proto/wire.js';
import { type ReadWindow, firstNonZero } from '../bytes.js';
import { type FrameSize, FRAME_HEADER_BYTES, decodeFrameSize, hasZeroSector } from './frame.js';
import { type RecordDecodeFailure, type WalRecord, RecordType, decodeRecord, decodeRecordInto } from './record.js';

export interface DecodedRecord {
  kind: 'record';
  /** 0-based position of the record in its segment. */
  recordNo: number;
  /** File offset of the length word. */
  offset: number;
  recBytes: number;
  padBytes: number;
  record: WalRecord;
  /** For crc records: whether it matched the running CRC ('unchecked' when the decoder was fresh). */
  link?: 'ok' | 'unchecked';
}

/** How the good data of a segment ends. `offset` is always the end of the last good record. */
export type SegmentEnd =
  | { kind: 'eof'; offset: number }
  | { kind: 'zero-length'; offset: number; nonZeroAfter: number | undefined }
  | { kind: 'short-length-word'; offset: number; available: number }
  | { kind: 'oversized'; offset: number; frame: FrameSize; available: number }
  | {
      kind: 'decode-error';
      offset: number;
      recordNo: number;
      frame: FrameSize;
      failure: RecordDecodeFailure;
      zeroSector: boolean;
    }
  | {
      kind: 'crc-mismatch';
      offset: number;
      recordNo: number;
      frame: FrameSize;
      type: number;
      stored: number;
      computed: number;
      zeroSector: boolean;
    }
  | { kind: 'crc-link-mismatch'; offset: number; recordNo: number; stored: number; running: number };

export interface SegmentSummaryEvent {
  kind: 'end';
  end: SegmentEnd;
  /** Running CRC after the last good record (what the next segment's crc record must hold). */
  crc: number;
  records: number;
}

/** A record found by scanning past the point where decoding stopped (forensics only). */
export interface SalvagedRecord {
  kind: 'salvaged';
  offset: number;
  recBytes: number;
  padBytes: number;
  record: WalRecord;
  /** True when its CRC follows from the record before it (or from the damaged record's stored crc). */
  chained: boolean;
}

export type SegmentEvent = DecodedRecord | SegmentSummaryEvent | SalvagedRecord;

export interface DecodeSegmentOptions {
  /** Running CRC entering this segment; 0 for a fresh decoder. */
  crc: number;
  /** After the good data ends, scan the rest of the file for records (`salvaged` events). */
  salvage?: boolean;
  /** Largest record the salvage scan will consider (a bound on memory for garbage). */
  salvageMaxRecordBytes?: number;
}

/**
 * A segment read the way etcd's decoder reads it, one good record at a time, without a generator
 * or an event object per record (the hot path of verify and export; `decodeSegment` wraps it):
 *
 *   const s = new SegmentReader(win, { crc: 0 });
 *   while (s.advance()) use(s.offset, s.record); // fields of the current record
 *   s.end; s.crc; s.records;                      // how the good data ended
 *
 * The current record's fields (and `record.data`, a view into the read window) are valid until
 * the next `advance()`.
 */
export class SegmentReader {
  /** Current record: position in the segment, file offset of its length word, sizes, content. */
  recordNo = -1;
  offset = 0;
  recBytes = 0;
  padBytes = 0;
  readonly record: WalRecord = { type: 0, crc: 0, data: undefined };
  /** For crc records: whether it matched the running CRC ('unchecked' when the decoder was fresh). */
  link: 'ok' | 'unchecked' | undefined;
  /** Set once `advance()` returned false. */
  end: SegmentEnd | undefined;
  /** Running CRC after the last good record. */
  crc: number;
  /** Good records so far. */
  records = 0;
  private next = 0;
  private damagedStoredCrc: number | undefined;

  constructor(
    private readonly win: ReadWindow,
    private readonly opts: DecodeSegmentOptions,
  ) {
    this.crc = opts.crc;
  }

  /** Moves to the next good record; false when the good data has ended (see `end`). */
  advance(): boolean {
    if (this.end !== undefined) return false;
    const win = this.win;
    const size = win.size;
    const offset = this.next;
    const recordNo = this.records;
    const available = size - offset;
    if (available === 0) return this.stop({ kind: 'eof', offset });
    if (available < FRAME_HEADER_BYTES) return this.stop({ kind: 'short-length-word', offset, available });
    // The length word, read in place: N in the low 56 bits, bit 63 set → P in bits 56..58.
    let i = win.locate(offset, FRAME_HEADER_BYTES);
    let buf = win.buffer;
    const lo = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) >>> 0;
    const hi = (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24)) >>> 0;
    if (lo === 0 && hi === 0) {
      const rest = offset + FRAME_HEADER_BYTES < size ? scanNonZero(win, offset + FRAME_HEADER_BYTES) : -1;
      return this.stop({ kind: 'zero-length', offset, nonZeroAfter: rest < 0 ? undefined : rest });
    }
    const recBytes = (hi & 0xffffff) * 0x1_0000_0000 + lo;
    const padBytes = hi & 0x80000000 ? (hi >>> 24) & 0x7 : 0;
    const bodyBytes = recBytes + padBytes;
    if (bodyBytes > available - FRAME_HEADER_BYTES) {
      return this.stop({ kind: 'oversized', offset, frame: this.frameAt(offset), available: available - FRAME_HEADER_BYTES });
    }
    i = win.locate(offset + FRAME_HEADER_BYTES, bodyBytes);
    buf = win.buffer;
    const rec = this.record;
    const failure = decodeRecordInto(buf, i, i + recBytes, rec);
    if (failure !== undefined) {
      return this.stop({
        kind: 'decode-error',
        offset,
        recordNo,
        frame: this.frameAt(offset),
        failure,
        zeroSector: hasZeroSector(win.bytes(offset + FRAME_HEADER_BYTES, bodyBytes), offset + FRAME_HEADER_BYTES),
      });
    }
    let crc = this.crc;
    let link: SegmentReader['link'];
    if (rec.type === RecordType.crc) {
      if (crc !== 0 && crc !== rec.crc) {
        this.damagedStoredCrc = rec.crc;
        return this.stop({ kind: 'crc-link-mismatch', offset, recordNo, stored: rec.crc, running: crc });
      }
      link = crc === 0 ? 'unchecked' : 'ok';
      crc = rec.crc;
    } else {
      const next = rec.data === undefined ? crc : crc32cUpdate(rec.data, crc);
      if (next !== rec.crc) {
        this.damagedStoredCrc = rec.crc;
        const { type, crc: stored } = rec;
        return this.stop({
          kind: 'crc-mismatch',
          offset,
          recordNo,
          frame: this.frameAt(offset),
          type,
          stored,
          computed: next,
          zeroSector: hasZeroSector(win.bytes(offset + FRAME_HEADER_BYTES, bodyBytes), offset + FRAME_HEADER_BYTES),
        });
      }
      crc = next;
    }
    this.crc = crc;
    this.link = link;
    this.recordNo = recordNo;
    this.offset = offset;
    this.recBytes = recBytes;
    this.padBytes = padBytes;
    this.next = offset + FRAME_HEADER_BYTES + bodyBytes;
    this.records = recordNo + 1;
    return true;
  }

  private frameAt(offset: number): FrameSize {
    return decodeFrameSize(this.win.bytes(offset, FRAME_HEADER_BYTES), 0);
  }

  private stop(end: SegmentEnd): false {
    this.end = end;
    return false;
  }

  /** After the end: the records that can still be found past it (forensics; see salvageScan). */
  *salvaged(): Generator<SalvagedRecord> {
    if (this.end === undefined) return;
    let from = salvageStart(this.end);
    let seed = this.damagedStoredCrc ?? this.crc;
    // A zero length word in front of an intact record: the record's own fields say how long it is,
    // and its CRC chaining from the running one proves it. etcd stops at the word and never sees it.
    if (this.end.kind === 'zero-length' && this.end.nonZeroAfter !== undefined) {
      const hidden = hiddenRecord(this.win, this.end.offset, this.crc);
      if (hidden) {
        yield hidden;
        from = hidden.offset + FRAME_HEADER_BYTES + hidden.recBytes + hidden.padBytes;
        seed = hidden.record.crc;
      }
    }
    if (from !== undefined && from < this.win.size) {
      yield* salvageScan(this.win, from, seed, this.opts.salvageMaxRecordBytes ?? 16 << 20);
    }
  }
}

/**
 * Decode a segment. Yields every good record in order, then one `end` event, then (with
 * `salvage`) the records that can still be found after it.
 */
export function* decodeSegment(win: ReadWindow, opts: DecodeSegmentOptions): Generator<SegmentEvent> {
  const s = new SegmentReader(win, opts);
  while (s.advance()) {
    const { type, crc, data } = s.record;
    const ev: DecodedRecord = { kind: 'record', recordNo: s.recordNo, offset: s.offset, recBytes: s.recBytes, padBytes: s.padBytes, record: { type, crc, data } };
    if (s.link !== undefined) ev.link = s.link;
    yield ev;
  }
  yield { kind: 'end', end: s.end!, crc: s.crc, records: s.records };
  if (opts.salvage) yield* s.salvaged();
}

/** Where to start looking for records beyond the end: just past the frame that failed. */
function salvageStart(end: SegmentEnd): number | undefined {
  switch (end.kind) {
    case 'eof':
    case 'short-length-word':
      return undefined;
    case 'zero-length':
      return end.nonZeroAfter === undefined ? undefined : end.offset + FRAME_HEADER_BYTES;
    case 'decode-error':
    case 'crc-mismatch':
      return end.offset + FRAME_HEADER_BYTES + end.frame.recBytes + end.frame.padBytes;
    case 'crc-link-mismatch':
    case 'oversized':
      return end.offset + FRAME_HEADER_BYTES;
  }
}

function scanNonZero(win: ReadWindow, from: number): number {
  const step = 4 << 20;
  for (let off = from; off < win.size; off += step) {
    const b = win.bytes(off, step);
    const i = firstNonZero(b);
    if (i >= 0) return off + i;
  }
  return -1;
}

/**
 * The record whose length word at `offset` is zero: etcd marshals walpb.Record as field 1 (type),
 * field 2 (crc), field 3 (data), so reading those fields gives its length; it is the hidden record
 * only if it decodes, is not a crc record, and its CRC follows from `crc`.
 */
function hiddenRecord(win: ReadWindow, offset: number, crc: number): SalvagedRecord | undefined {
  const start = offset + FRAME_HEADER_BYTES;
  const head = win.bytes(start, 32).slice();
  // Field 1 and 2 (varints), then field 3's length: where the record ends.
  const r = new WireReader(head, 'walpb.Record');
  const field = (n: number, wireType: number): boolean => r.tag() === n && r.wireType === wireType;
  let recBytes: number;
  try {
    if (!field(1, 0)) return undefined;
    r.skipVarint();
    if (!field(2, 0)) return undefined;
    r.skipVarint();
    if (!field(3, 2)) return undefined;
    const len = r.varint();
    if (r.hi !== 0 || len > 16 << 20) return undefined;
    recBytes = r.pos + len;
  } catch (e) {
    if (e instanceof WireFailure) return undefined;
    throw e;
  }
  const padBytes = (8 - (recBytes % 8)) % 8;
  if (start + recBytes + padBytes > win.size) return undefined;
  const decoded = decodeRecord(win.bytes(start, recBytes));
  if (!decoded.ok) return undefined;
  const rec = decoded.record;
  if (rec.type < RecordType.metadata || rec.type > RecordType.snapshot || rec.type === RecordType.crc || rec.data === undefined) return undefined;
  if (crc32cUpdate(rec.data, crc) !== rec.crc) return undefined;
  return { kind: 'salvaged', offset, recBytes, padBytes, record: { type: rec.type, crc: rec.crc, data: rec.data.slice() }, chained: true };
}

/**
 * Look for plausible frames at every 8-byte aligned offset from `from`: a well-formed length word
 * that fits in the file and a record of a known type that decodes. A record is `chained` when its
 * CRC follows from the previous one found (or, for the first, from `seed`): two such records
 * confirm each other, which proves valid data lies after the damage.
 */
function* salvageScan(win: ReadWindow, from: number, seed: number, maxRecordBytes: number): Generator<SalvagedRecord> {
  const size = win.size;
  let offset = from + ((8 - (from % 8)) % 8);
  let prevCrc: number | undefined = seed;
  while (offset + FRAME_HEADER_BYTES <= size) {
    const head = win.bytes(offset, FRAME_HEADER_BYTES);
    const frame = decodeFrameSize(head, 0);
    if (frame.word === 0n) {
      // Skip runs of zeros quickly.
      const next = scanNonZero(win, offset);
      if (next < 0) return;
      offset = next - (next % 8);
      prevCrc = undefined;
      continue;
    }
    const bodyBytes = frame.recBytes + frame.padBytes;
    if (
      frame.wellFormed &&
      frame.recBytes >= 4 &&
      frame.recBytes <= maxRecordBytes &&
      bodyBytes <= size - offset - FRAME_HEADER_BYTES
    ) {
      const body = win.bytes(offset + FRAME_HEADER_BYTES, bodyBytes);
      const decoded = decodeRecord(body.subarray(0, frame.recBytes));
      if (decoded.ok && decoded.record.type >= 1 && decoded.record.type <= 5) {
        const rec = decoded.record;
        let chained = false;
        if (rec.type === RecordType.crc) chained = prevCrc !== undefined && prevCrc === rec.crc;
        else if (prevCrc !== undefined && rec.data !== undefined) chained = crc32cUpdate(rec.data, prevCrc) === rec.crc;
        yield { kind: 'salvaged', offset, recBytes: frame.recBytes, padBytes: frame.padBytes, record: rec, chained };
        prevCrc = rec.crc;
        offset += FRAME_HEADER_BYTES + bodyBytes;
        continue;
      }
    }
    prevCrc = undefined;
    offset += 8;
  }
}
