/**
 * What lies after the first damage in a WAL, record by record, for a repair that loses only the
 * bytes actually destroyed: the run of valid records after the damage in the damaged segment (found
 * by the salvage scan: each CRC follows from the one before), the later segments, the raft indexes
 * the destroyed bytes held, and — when a zeroed length word is all that hides the records after it
 * — the length word to write back.
 *
 * The bytes are re-framed (rewrite.ts) with the CRC chain continued from the last good record:
 * etcd's CRC covers every byte of data since the log began, so once one record changes, every later
 * record needs its CRC rewritten.
 */
import { FileSource } from '../io/file-source.js';
import { ReadWindow } from '../format/bytes.js';
import { decodeSegment, type SegmentEvent } from '../format/wal/decoder.js';
import { FRAME_HEADER_BYTES } from '../format/wal/frame.js';
import { RecordType } from '../format/wal/record.js';
import { decodeEntry, decodeHardState } from '../format/proto/messages.js';
import type { WalAnalysis } from '../inspect/wal-analysis.js';

/** The valid records after the damage in the damaged segment. */
export interface KeptRun {
  /** Offset of the first kept record and of the first byte after the run. */
  from: number;
  to: number;
  records: number;
  entries: number;
  firstIndex: bigint | undefined;
  lastIndex: bigint | undefined;
  firstTerm: bigint | undefined;
  /** Highest commit in a HardState of the run. */
  maxCommit: bigint;
  /** Nothing but zeros (or the end of the file) after the run: the segment's data ends with it. */
  toEnd: boolean;
}

export interface LaterSegment {
  segmentIndex: number;
  /** Ends cleanly (zero word or end of file) and chains internally from its crc record. */
  clean: boolean;
  entries: number;
  firstIndex: bigint | undefined;
  firstTerm: bigint | undefined;
  lastIndex: bigint | undefined;
}

export interface LogTail {
  segmentIndex: number;
  /** Where the damaged bytes start: the end of the last good record. */
  damageAt: number;
  /** Last entry before the damage (undefined: none in the log). */
  before: { index: bigint; term: bigint } | undefined;
  run: KeptRun | undefined;
  later: LaterSegment[];
  /** Indexes the damaged bytes held: between the entry before the damage and the first kept one. */
  missing: { first: bigint; last: bigint } | undefined;
  /** Everything after the damage can be kept (the run reaches the segment's end, later segments are clean). */
  keepable: boolean;
  /**
   * The kept records go back to an index at or below the last one before the damage with no higher
   * term: not a log continued after a torn record but another writer's records over this one's
   * (raft overwrites a suffix only with entries of a newer leader, so of a higher term).
   */
  rewinds: boolean;
}

function* segmentEvents(path: string, crc: number, salvage: boolean): Generator<SegmentEvent> {
  const src = new FileSource(path);
  try {
    yield* decodeSegment(new ReadWindow(src), { crc, salvage });
  } finally {
    src.close();
  }
}

/** Read the damaged segment's tail and the later segments (one pass over each, bounded memory). */
export function describeTail(wal: WalAnalysis, segmentIndex: number): LogTail {
  const seg = wal.segments[segmentIndex]!;
  let before: LogTail['before'];
  for (let i = segmentIndex; i >= 0 && !before; i--) if (wal.segments[i]!.lastEntry) before = wal.segments[i]!.lastEntry;

  // The run: consecutive salvaged records, each (after the first) chaining from the one before.
  let run: KeptRun | undefined;
  let expectNext: number | undefined;
  let closed = false;
  for (const ev of segmentEvents(seg.path, seg.crcIn, true)) {
    if (ev.kind !== 'salvaged' || closed) continue;
    const contiguous = run !== undefined && ev.offset === expectNext && ev.chained && ev.record.type !== RecordType.crc;
    if (run && !contiguous) {
      closed = true;
      run.toEnd = false;
      continue;
    }
    if (!run) {
      if (ev.record.type === RecordType.crc) continue;
      run = { from: ev.offset, to: ev.offset, records: 0, entries: 0, firstIndex: undefined, lastIndex: undefined, firstTerm: undefined, maxCommit: 0n, toEnd: true };
    }
    run.records++;
    run.to = ev.offset + FRAME_HEADER_BYTES + ev.recBytes + ev.padBytes;
    expectNext = run.to;
    const data = ev.record.data ?? new Uint8Array(0);
    try {
      if (ev.record.type === RecordType.entry) {
        const e = decodeEntry(data);
        run.entries++;
        if (run.firstIndex === undefined) {
          run.firstIndex = e.index;
          run.firstTerm = e.term;
        }
        run.lastIndex = e.index;
      } else if (ev.record.type === RecordType.state) {
        const hs = decodeHardState(data);
        if (hs.commit > run.maxCommit) run.maxCommit = hs.commit;
      }
    } catch {
      closed = true;
      run.toEnd = false;
    }
  }
  // A run that ends where the scan found only zeros after it reaches the segment's end.
  if (run && run.toEnd && !closed) {
    const src = new FileSource(seg.path);
    try {
      const w = new ReadWindow(src);
      if (run.to + FRAME_HEADER_BYTES <= src.size) {
        const word = w.bytes(run.to, FRAME_HEADER_BYTES);
        if (word.some((b) => b !== 0)) run.toEnd = false;
      }
    } finally {
      src.close();
    }
  }

  const later: LaterSegment[] = [];
  for (let i = segmentIndex + 1; i < wal.segments.length; i++) {
    const s = wal.segments[i]!;
    // Read on its own: its crc record is taken as it is; what follows must chain from it.
    let clean = false;
    let entries = 0;
    let firstIndex: bigint | undefined;
    let firstTerm: bigint | undefined;
    let lastIndex: bigint | undefined;
    for (const ev of segmentEvents(s.path, 0, false)) {
      if (ev.kind === 'end') clean = ev.end.kind === 'eof' || (ev.end.kind === 'zero-length' && ev.end.nonZeroAfter === undefined);
      if (ev.kind !== 'record' || ev.record.type !== RecordType.entry) continue;
      const e = decodeEntry(ev.record.data ?? new Uint8Array(0));
      entries++;
      if (firstIndex === undefined) {
        firstIndex = e.index;
        firstTerm = e.term;
      }
      lastIndex = e.index;
    }
    later.push({ segmentIndex: i, clean, entries, firstIndex, firstTerm, lastIndex });
  }

  const firstLater = later.find((l) => l.firstIndex !== undefined);
  const firstKept = run?.firstIndex ?? firstLater?.firstIndex;
  const firstKeptTerm = run?.firstIndex !== undefined ? run.firstTerm : firstLater?.firstTerm;
  const lastBefore = before?.index ?? 0n;
  const missing = firstKept !== undefined && firstKept > lastBefore + 1n ? { first: lastBefore + 1n, last: firstKept - 1n } : undefined;
  // With no run, whatever followed the damage in this segment is gone (a cut file, a torn or
  // zeroed tail): the later segments can still follow once the missing indexes are filled.
  const runOk = run === undefined || run.toEnd;
  const rewinds = firstKept !== undefined && before !== undefined && firstKept <= before.index && (firstKeptTerm ?? 0n) <= before.term;
  return { segmentIndex, damageAt: seg.end.offset, before, run, later, missing, keepable: runOk && later.every((l) => l.clean) && !rewinds, rewinds };
}

/**
 * The record behind a zeroed length word at `offset`, as the decoder's salvage found it (its length
 * from its own fields, its CRC chaining): the length word to write back, or undefined.
 */
export function hiddenRecordAt(path: string, crcIn: number, offset: number): { recBytes: number; padBytes: number } | undefined {
  for (const ev of segmentEvents(path, crcIn, true)) {
    if (ev.kind === 'salvaged' && ev.offset === offset && ev.chained) return { recBytes: ev.recBytes, padBytes: ev.padBytes };
  }
  return undefined;
}
