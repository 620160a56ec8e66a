/**
 * Walking a whole WAL: every segment in name order with one running CRC, the way etcd's
 * ValidSnapshotEntries reads them, but never stopping early. After a segment whose data ends in
 * damage, the next one is read with a fresh decoder (as if reading started there), so a report
 * can say what lies beyond. Payloads are decoded here once, for every consumer: analysis, export,
 * the terminal UI.
 */
import { ReadWindow, type ByteSource } from '../bytes.js';
import {
  type ConfState,
  type Entry,
  type HardState,
  type Metadata,
  type WalSnapshot,
  decodeEntry,
  decodeHardState,
  decodeMetadata,
  decodeWalSnapshot,
} from '../proto/messages.js';
import { type SegmentEnd, SegmentReader } from './decoder.js';
import { type WalName, parseWalName } from './names.js';
import { RecordType } from './record.js';

export interface SegmentInput {
  name: string;
  source: ByteSource;
}

export type Payload =
  | { type: 'metadata'; metadata: Metadata }
  | { type: 'entry'; entry: Entry }
  | { type: 'state'; state: HardState }
  | { type: 'crc' }
  | { type: 'snapshot'; snapshot: WalSnapshot }
  | { type: 'unknown'; recordType: number }
  | { type: 'undecodable'; recordType: number; error: string };

export interface WalkRecord {
  kind: 'record';
  segment: number;
  offset: number;
  recordNo: number;
  recBytes: number;
  padBytes: number;
  crc: number;
  /** For crc records: whether it continued the chain ('unchecked' when the decoder was fresh). */
  link?: 'ok' | 'unchecked';
  payload: Payload;
  /** Found by scanning past damage, not by etcd's decoder. */
  salvaged?: { chained: boolean };
}

export interface WalkSegmentStart {
  kind: 'segment-start';
  segment: number;
  name: string;
  parsed: WalName | undefined;
  size: number;
  /** Running CRC the decoder entered with (0 = fresh). */
  crcIn: number;
  /** Whether crcIn came from the previous segment (false for the first, or after damage). */
  chained: boolean;
}

export interface WalkSegmentEnd {
  kind: 'segment-end';
  segment: number;
  end: SegmentEnd;
  crcOut: number;
  records: number;
}

export type WalkEvent = WalkSegmentStart | WalkRecord | WalkSegmentEnd;

export interface WalkOptions {
  /** Also yield records found past the end of good data in each segment. */
  salvage?: boolean;
  /** Called as the walk advances (about every MiB and at each segment's end): bytes read so far, of all segments' bytes. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

const PROGRESS_STEP_BYTES = 1 << 20;

/** Whether a segment end lets the chain continue into the next segment. */
export function endsCleanly(end: SegmentEnd): boolean {
  return end.kind === 'eof' || end.kind === 'zero-length';
}

export function* walkWal(segments: readonly SegmentInput[], opts: WalkOptions = {}): Generator<WalkEvent> {
  let crc = 0;
  let chained = false;
  const onProgress = opts.onProgress;
  const total = onProgress ? segments.reduce((a, s) => a + s.source.size, 0) : 0;
  let before = 0;
  let next = 0;
  let win: ReadWindow | undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    // One window for the walk: what a segment's records were read into is reused for the next.
    win = win ? win.moveTo(seg.source) : new ReadWindow(seg.source);
    yield { kind: 'segment-start', segment: i, name: seg.name, parsed: parseWalName(seg.name), size: seg.source.size, crcIn: crc, chained };
    // The pull reader, not decodeSegment's generator: one generator (this one) per record, not two.
    const s = new SegmentReader(win, { crc });
    while (s.advance()) {
      if (onProgress && before + s.offset >= next) {
        onProgress(before + s.offset, total);
        next = before + s.offset + PROGRESS_STEP_BYTES;
      }
      const rec: WalkRecord = {
        kind: 'record',
        segment: i,
        offset: s.offset,
        recordNo: s.recordNo,
        recBytes: s.recBytes,
        padBytes: s.padBytes,
        crc: s.record.crc,
        payload: decodePayload(s.record.type, s.record.data),
      };
      if (s.link !== undefined) rec.link = s.link;
      yield rec;
    }
    const endEvent: WalkSegmentEnd = { kind: 'segment-end', segment: i, end: s.end!, crcOut: s.crc, records: s.records };
    yield endEvent;
    if (opts.salvage) {
      for (const ev of s.salvaged()) {
        if (onProgress && before + ev.offset >= next) {
          onProgress(before + ev.offset, total);
          next = before + ev.offset + PROGRESS_STEP_BYTES;
        }
        yield {
          kind: 'record',
          segment: i,
          offset: ev.offset,
          recordNo: -1,
          recBytes: ev.recBytes,
          padBytes: ev.padBytes,
          crc: ev.record.crc,
          payload: decodePayload(ev.record.type, ev.record.data),
          salvaged: { chained: ev.chained },
        };
      }
    }
    before += seg.source.size;
    onProgress?.(before, total);
    const clean = endsCleanly(endEvent.end);
    crc = clean ? endEvent.crcOut : 0;
    chained = clean;
  }
}

/** Decode a record's data by its type. Never throws: bad payloads become `undecodable`. */
export function decodePayload(type: number, data: Uint8Array | undefined): Payload {
  const bytes = data ?? new Uint8Array(0);
  try {
    switch (type) {
      case RecordType.metadata:
        return { type: 'metadata', metadata: decodeMetadata(bytes) };
      case RecordType.entry:
        return { type: 'entry', entry: decodeEntry(bytes) };
      case RecordType.state:
        return { type: 'state', state: decodeHardState(bytes) };
      case RecordType.crc:
        return { type: 'crc' };
      case RecordType.snapshot:
        return { type: 'snapshot', snapshot: decodeWalSnapshot(bytes) };
      default:
        return { type: 'unknown', recordType: type };
    }
  } catch (e) {
    return { type: 'undecodable', recordType: type, error: e instanceof Error ? e.message : String(e) };
  }
}

export type { ConfState, Entry, HardState, Metadata, WalSnapshot };
