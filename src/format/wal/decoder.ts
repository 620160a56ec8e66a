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
import { type ReadWindow, firstNonZero } from '../bytes.js';
import { type FrameSize, FRAME_HEADER_BYTES, decodeFrameSize, hasZeroSector } from './frame.js';
import { type RecordDecodeFailure, type WalRecord, RecordType, decodeRecord } from './record.js';

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
 * Decode a segment. Yields every good record in order, then one `end` event, then (with
 * `salvage`) the records that can still be found after it.
 */
export function* decodeSegment(win: ReadWindow, opts: DecodeSegmentOptions): Generator<SegmentEvent> {
  const size = win.size;
  let crc = opts.crc;
  let offset = 0;
  let recordNo = 0;
  let end: SegmentEnd | undefined;
  let damagedStoredCrc: number | undefined;

  while (end === undefined) {
    const available = size - offset;
    if (available === 0) {
      end = { kind: 'eof', offset };
      break;
    }
    if (available < FRAME_HEADER_BYTES) {
      end = { kind: 'short-length-word', offset, available };
      break;
    }
    const frame = decodeFrameSize(win.bytes(offset, FRAME_HEADER_BYTES), 0);
    if (frame.word === 0n) {
      const rest = offset + FRAME_HEADER_BYTES < size ? scanNonZero(win, offset + FRAME_HEADER_BYTES) : -1;
      end = { kind: 'zero-length', offset, nonZeroAfter: rest < 0 ? undefined : rest };
      break;
    }
    const bodyBytes = frame.recBytes + frame.padBytes;
    if (bodyBytes > available - FRAME_HEADER_BYTES) {
      end = { kind: 'oversized', offset, frame, available: available - FRAME_HEADER_BYTES };
      break;
    }
    const body = win.bytes(offset + FRAME_HEADER_BYTES, bodyBytes);
    const decoded = decodeRecord(body.subarray(0, frame.recBytes));
    if (!decoded.ok) {
      end = {
        kind: 'decode-error',
        offset,
        recordNo,
        frame,
        failure: decoded.failure,
        zeroSector: hasZeroSector(body, offset + FRAME_HEADER_BYTES),
      };
      break;
    }
    const rec = decoded.record;
    let link: DecodedRecord['link'];
    if (rec.type === RecordType.crc) {
      if (crc !== 0 && crc !== rec.crc) {
        end = { kind: 'crc-link-mismatch', offset, recordNo, stored: rec.crc, running: crc };
        damagedStoredCrc = rec.crc;
        break;
      }
      link = crc === 0 ? 'unchecked' : 'ok';
      crc = rec.crc;
    } else {
      const next = rec.data === undefined ? crc : crc32cUpdate(rec.data, crc);
      if (next !== rec.crc) {
        end = {
          kind: 'crc-mismatch',
          offset,
          recordNo,
          frame,
          type: rec.type,
          stored: rec.crc,
          computed: next,
          zeroSector: hasZeroSector(body, offset + FRAME_HEADER_BYTES),
        };
        damagedStoredCrc = rec.crc;
        break;
      }
      crc = next;
    }
    const ev: DecodedRecord = { kind: 'record', recordNo, offset, recBytes: frame.recBytes, padBytes: frame.padBytes, record: rec };
    if (link !== undefined) ev.link = link;
    yield ev;
    offset += FRAME_HEADER_BYTES + bodyBytes;
    recordNo++;
  }

  yield { kind: 'end', end, crc, records: recordNo };

  if (opts.salvage) {
    const from = salvageStart(end);
    if (from !== undefined && from < size) {
      yield* salvageScan(win, from, damagedStoredCrc ?? crc, opts.salvageMaxRecordBytes ?? 16 << 20);
    }
  }
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
