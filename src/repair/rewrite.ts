/**
 * The records a repair writes, framed and chained exactly as etcd writes them (gogoproto encoding,
 * CRC-32C chain continued): empty entries and a HardState appended at the end of the log, and
 * segments re-framed from a point on (records kept, destroyed bytes replaced by empty entries,
 * entries etcd cannot apply replaced by empty ones). Reads the original segment while the temp copy
 * is written; emits each frame as soon as it is made, so memory stays bounded.
 */
import { basename } from 'node:path';
import { FileSource } from '../io/file-source.js';
import { ReadWindow } from '../format/bytes.js';
import { decodeSegment } from '../format/wal/decoder.js';
import type { RecordEncoder } from '../format/wal/encoder.js';
import { RecordType } from '../format/wal/record.js';
import { encodeEntry, encodeHardState } from '../format/proto/encode.js';
import type { AppendSpec, RepairAction } from './plan.js';
import { MAX_BRIDGE_ENTRIES } from './records.js';

export function appendRecords(enc: RecordEncoder, a: AppendSpec, emit: (b: Uint8Array) => void): void {
  if (a.entries) {
    const first = BigInt(a.entries.firstIndex);
    const last = BigInt(a.entries.lastIndex);
    const term = BigInt(a.entries.term);
    if (last - first + 1n > MAX_BRIDGE_ENTRIES) throw new RangeError(`bridge of ${last - first + 1n} entries is larger than ${MAX_BRIDGE_ENTRIES}`);
    for (let i = first; i <= last; i++) emit(enc.record(RecordType.entry, encodeEntry({ type: 0, term, index: i })));
  }
  const hs = a.hardState;
  emit(enc.record(RecordType.state, encodeHardState({ term: BigInt(hs.term), vote: BigInt(hs.vote), commit: BigInt(hs.commit) })));
}

function* records(path: string, crc: number): Generator<{ offset: number; type: number; data: Uint8Array | undefined }> {
  const src = new FileSource(path);
  try {
    for (const ev of decodeSegment(new ReadWindow(src), { crc, salvage: true })) {
      if (ev.kind === 'end') continue;
      yield { offset: ev.offset, type: ev.record.type, data: ev.record.data };
    }
  } finally {
    src.close();
  }
}

/** The part of a `rewrite-segment` after its kept prefix: fill, then the kept records re-chained. */
export function reencodeSegmentTail(path: string, enc: RecordEncoder, a: Extract<RepairAction, { kind: 'rewrite-segment' }>, emit: (b: Uint8Array) => void): void {
  if (a.fill) {
    const term = BigInt(a.fill.term);
    for (let i = BigInt(a.fill.first); i <= BigInt(a.fill.last); i++) emit(enc.record(RecordType.entry, encodeEntry({ type: 0, term, index: i })));
  }
  const subst = new Map(a.substitute.map((x) => [x.offset, x]));
  let kept = 0;
  for (const r of records(path, a.scanCrc)) {
    if (r.offset < a.resumeAt || r.offset >= a.keepTo || r.type === RecordType.crc) continue;
    const sub = subst.get(r.offset);
    if (sub) emit(enc.record(RecordType.entry, encodeEntry({ type: 0, term: BigInt(sub.term), index: BigInt(sub.index) })));
    else emit(enc.record(r.type, r.data ?? new Uint8Array(0)));
    kept++;
  }
  if (a.keepRecords >= 0 && kept !== a.keepRecords) throw new Error(`${basename(path)}: found ${kept} records to keep in bytes ${a.resumeAt}..${a.keepTo}, the plan saw ${a.keepRecords}; nothing was changed`);
}

/** A later segment: a crc record carrying the new chain, then every record of the original. */
export function rechainSegment(path: string, enc: RecordEncoder, emit: (b: Uint8Array) => void): void {
  emit(enc.crcRecord());
  const src = new FileSource(path);
  try {
    for (const ev of decodeSegment(new ReadWindow(src), { crc: 0 })) {
      if (ev.kind !== 'record' || ev.record.type === RecordType.crc) continue;
      emit(enc.record(ev.record.type, ev.record.data ?? new Uint8Array(0)));
    }
  } finally {
    src.close();
  }
}
