/**
 * The WAL's part of the report: per-segment summary, where good data ends, and the findings about
 * the log (how each segment ends, gaps, overwrites, metadata, record types, payloads).
 */
import type { SegmentEnd } from '../format/wal/decoder.js';
import { LEGACY_MAX_RECORD_BYTES } from '../format/wal/frame.js';
import { hex16 } from '../format/wal/names.js';
import type { Finding, Report, Segment } from './report.js';
import type { SegmentInfo, WalAnalysis } from './wal-analysis.js';

function hexCrc(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** How a segment ends, in the report's words. */
export function endingOf(seg: SegmentInfo, isLast: boolean): Segment['ending'] {
  const e = seg.end;
  switch (e.kind) {
    case 'eof':
      return 'exact';
    case 'zero-length':
      return e.nonZeroAfter === undefined ? 'zero-filled' : 'garbage-after-end';
    case 'short-length-word':
      return 'truncated-record';
    case 'oversized':
      if (!e.frame.wellFormed) return 'garbage';
      return e.frame.recBytes < LEGACY_MAX_RECORD_BYTES ? 'truncated-record' : 'oversized-length';
    case 'decode-error':
      return isLast && e.zeroSector ? 'torn-write' : 'garbage';
    case 'crc-mismatch':
      return isLast && e.zeroSector ? 'torn-write' : 'crc-mismatch';
    case 'crc-link-mismatch':
      return 'crc-chain-broken';
  }
}

export function walSummary(wal: WalAnalysis, rel: (abs: string) => string): NonNullable<Report['wal']> {
  let count = 0;
  let firstIndex: bigint | undefined;
  let last: { index: bigint; term: bigint } | undefined;
  let hs: (typeof wal.segments)[number]['lastHardState'];
  let hsSeg: SegmentInfo | undefined;
  let goodUntil: { segment: string; offset: number } | null = null;
  for (const s of wal.segments) {
    if (goodUntil) break;
    count += s.counts.entry;
    if (s.firstEntry && firstIndex === undefined) firstIndex = s.firstEntry.index;
    if (s.lastEntry) last = s.lastEntry;
    if (s.lastHardState) {
      hs = s.lastHardState;
      hsSeg = s;
    }
    if (s.end.kind !== 'eof' && s.end.kind !== 'zero-length') goodUntil = { segment: rel(s.path), offset: s.end.offset };
  }
  const n = wal.segments.length;
  return {
    segments: wal.segments.map((s, i) => ({
      name: s.name,
      seq: s.parsed ? `${s.parsed.seq}` : null,
      startIndex: s.parsed ? `${s.parsed.index}` : null,
      size: s.size,
      records: s.counts,
      firstEntry: s.firstEntry ? { index: `${s.firstEntry.index}`, term: `${s.firstEntry.term}` } : null,
      lastEntry: s.lastEntry ? { index: `${s.lastEntry.index}`, term: `${s.lastEntry.term}` } : null,
      crcChain: s.end.kind === 'crc-link-mismatch' && s.end.recordNo === 0 ? 'broken' : s.first?.type === 4 ? (s.first.link ?? 'unchecked') : 'not-reached',
      goodBytes: s.end.offset,
      end: s.end.kind,
      ending: endingOf(s, i === n - 1),
      salvage: {
        records: s.salvage.records,
        chained: s.salvage.chained,
        entries: s.salvage.entries,
        firstIndex: s.salvage.firstIndex === undefined ? null : `${s.salvage.firstIndex}`,
        lastIndex: s.salvage.lastIndex === undefined ? null : `${s.salvage.lastIndex}`,
      },
    })),
    memberId: wal.metadata ? hex16(wal.metadata.nodeId) : null,
    clusterId: wal.metadata ? hex16(wal.metadata.clusterId) : null,
    hardState: hs && hsSeg ? { term: `${hs.term}`, vote: `${hs.vote}`, vote_hex: hex16(hs.vote), commit: `${hs.commit}`, segment: hsSeg.name, offset: hs.offset } : null,
    entries: { count, firstIndex: firstIndex === undefined ? null : `${firstIndex}`, lastIndex: last ? `${last.index}` : null, lastTerm: last ? `${last.term}` : null },
    snapshotRecords: wal.snapshots.map((r) => ({ index: `${r.index}`, term: `${r.term}`, confState: r.hasConfState, segment: wal.segments[r.segment]?.name ?? '', offset: r.offset })),
    goodUntil,
  };
}

function endFinding(seg: SegmentInfo, isLast: boolean, file: string): Finding | undefined {
  const e: SegmentEnd = seg.end;
  const where = `${file} at byte ${e.offset}`;
  switch (e.kind) {
    case 'eof':
      return undefined;
    case 'zero-length':
      if (e.nonZeroAfter === undefined) return undefined;
      if (seg.salvage.chained > 0) {
        return { code: 'records-hidden-after-zero-length', severity: 'error', file, offset: e.offset, recordNo: seg.records, message: `${where}: a zero length word ends the data, but ${seg.salvage.records} record(s) follow (first at byte ${seg.salvage.firstOffset}); etcd silently skips them`, expected: 'zeros after the end marker', found: `non-zero bytes at byte ${e.nonZeroAfter}` };
      }
      return { code: 'garbage-after-end', severity: isLast ? 'info' : 'warning', file, offset: e.nonZeroAfter, recordNo: seg.records, message: `${file}: non-zero bytes at byte ${e.nonZeroAfter}, after the end of the log at byte ${e.offset}; etcd ignores them${isLast ? ' and zero-fills them on its next start' : ''}`, expected: '0x00', found: 'non-zero bytes' };
    case 'short-length-word':
      return { code: 'truncated-length-word', severity: 'error', file, offset: e.offset, recordNo: seg.records, message: `${where} (record ${seg.records}): file ends ${e.available} byte(s) into an 8-byte length word`, expected: '8 bytes', found: `${e.available} bytes` };
    case 'oversized': {
      const word = `0x${e.frame.word.toString(16).padStart(16, '0')}`;
      if (e.frame.wellFormed && e.frame.recBytes < LEGACY_MAX_RECORD_BYTES) {
        return { code: isLast ? 'torn-tail' : 'truncated-record', severity: 'error', file, offset: e.offset, recordNo: seg.records, message: `${where} (record ${seg.records}): the file ends inside this record: it needs ${e.frame.recBytes} bytes + ${e.frame.padBytes} padding, only ${e.available} remain${isLast ? ' (a write cut short, as by a power loss)' : ''}`, expected: `${e.frame.recBytes + e.frame.padBytes} bytes`, found: `${e.available} bytes` };
      }
      return { code: 'oversized-length', severity: 'error', file, offset: e.offset, recordNo: seg.records, message: `${where} (record ${seg.records}): length word ${word} claims ${e.frame.recBytes} bytes + ${e.frame.padBytes} padding but only ${e.available} bytes remain${e.frame.wellFormed ? '' : ' (not a length etcd writes: garbage)'}`, expected: `<= ${e.available} bytes`, found: `${e.frame.recBytes} bytes` };
    }
    case 'decode-error':
      if (e.frame.recBytes >= LEGACY_MAX_RECORD_BYTES) {
        return { code: 'oversized-length', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): length word claims ${e.frame.recBytes} bytes, over the 10 MiB etcd 3.4 accepts, and what follows does not decode${e.zeroSector ? ' (zeros: a torn write)' : ''}`, expected: `< ${LEGACY_MAX_RECORD_BYTES} bytes`, found: `${e.frame.recBytes} bytes` };
      }
      if (isLast && e.zeroSector) {
        const inside = seg.salvage.chained > 0 ? `; but valid records follow, so this is zeroed data inside the log, not a write cut short` : '';
        return { code: 'torn-tail', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): torn write by etcd's rule — the record does not decode and a 512-byte sector of it is all zeros${inside}`, expected: 'a walpb.Record', found: 'a partly written record' };
      }
      return { code: 'record-decode-error', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): ${e.frame.recBytes}-byte record does not decode (${e.failure.kind} at byte ${e.failure.at} of the record)`, expected: 'a walpb.Record', found: e.failure.kind };
    case 'crc-mismatch':
      if (isLast && e.zeroSector) {
        const inside = seg.salvage.chained > 0 ? `; but valid records follow, so this is zeroed data inside the log, not a write cut short` : '';
        return { code: 'torn-tail', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): torn write by etcd's rule — crc ${hexCrc(e.computed)} computed, ${hexCrc(e.stored)} stored, and a 512-byte sector of the record is all zeros${inside}`, expected: hexCrc(e.stored), found: hexCrc(e.computed) };
      }
      return { code: 'crc-mismatch', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): crc mismatch, expected ${hexCrc(e.stored)} computed ${hexCrc(e.computed)}`, expected: hexCrc(e.stored), found: hexCrc(e.computed) };
    case 'crc-link-mismatch':
      return { code: 'crc-chain-broken', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, message: `${where} (record ${e.recordNo}): crc record holds ${hexCrc(e.stored)} but the chain from the previous segment ends at ${hexCrc(e.running)}`, expected: hexCrc(e.running), found: hexCrc(e.stored) };
  }
}

export function walFindings(wal: WalAnalysis, rel: (abs: string) => string, add: (f: Finding) => void): void {
  const n = wal.segments.length;
  let prevSeq: bigint | undefined;
  for (const [i, s] of wal.segments.entries()) {
    const file = rel(s.path);
    if (s.size === 0) add({ code: 'empty-segment', severity: 'error', file, offset: 0, message: `${file}: 0 bytes (a segment always starts with a crc record)`, expected: 'a crc record', found: '0 bytes' });
    const f = endFinding(s, i === n - 1, file);
    if (f) add(f);
    const damaged = s.end.kind !== 'eof' && s.end.kind !== 'zero-length';
    if (damaged && s.salvage.chained > 0) {
      add({ code: 'valid-records-after-damage', severity: 'warning', file, offset: s.salvage.firstOffset, message: `${file}: ${s.salvage.chained} record(s) after the damage at byte ${s.end.offset} still carry a valid CRC chain (${s.salvage.entries} entries${s.salvage.firstIndex !== undefined ? `, index ${s.salvage.firstIndex}..${s.salvage.lastIndex}` : ''}); truncating there loses them`, details: { records: s.salvage.chained, entries: s.salvage.entries } });
    }
    if (s.parsed) {
      if (prevSeq !== undefined && s.parsed.seq !== prevSeq + 1n) {
        add({ code: 'segment-seq-gap', severity: 'error', file, message: `${file}: sequence ${s.parsed.seq} follows ${prevSeq}; segment(s) in between are missing`, expected: `${prevSeq + 1n}`, found: `${s.parsed.seq}` });
      }
      prevSeq = s.parsed.seq;
      if (s.firstEntry && s.firstEntry.index < s.parsed.index) {
        add({ code: 'segment-name-index-mismatch', severity: 'info', file, message: `${file}: named for index ${s.parsed.index} but its first entry is ${s.firstEntry.index} (entries were overwritten by a new leader)` });
      }
    }
  }
  if (!wal.metadata) add({ code: 'no-metadata', severity: 'error', message: 'no metadata record: member and cluster IDs are unknown' });
  for (const m of wal.metadataConflicts.slice(0, 10)) {
    const s = wal.segments[m.segment]!;
    add({ code: 'metadata-conflict', severity: 'error', file: rel(s.path), offset: m.offset, message: `${rel(s.path)} at byte ${m.offset}: metadata says member ${hex16(m.nodeId)} cluster ${hex16(m.clusterId)}, the first said ${hex16(wal.metadata!.nodeId)} ${hex16(wal.metadata!.clusterId)} (etcd: wal: conflicting metadata found)`, expected: hex16(wal.metadata!.nodeId), found: hex16(m.nodeId) });
  }
  for (const g of wal.gaps.slice(0, 10)) {
    const s = wal.segments[g.segment]!;
    add({ code: 'entry-index-gap', severity: 'error', file: rel(s.path), offset: g.offset, message: `${rel(s.path)} at byte ${g.offset}: entry ${g.index} follows entry ${g.prevIndex}`, expected: `${g.prevIndex + 1n}`, found: `${g.index}` });
  }
  for (const o of wal.overwrites.slice(0, 10)) {
    const s = wal.segments[o.segment]!;
    add({ code: 'log-overwrite', severity: 'info', file: rel(s.path), offset: o.offset, message: `${rel(s.path)} at byte ${o.offset}: entry ${o.index} (term ${o.term}) replaces the log after ${o.prevLastIndex} (term ${o.prevLastTerm}): a new leader overwrote uncommitted entries` });
  }
  for (const t of wal.termRegressions.slice(0, 10)) {
    const s = wal.segments[t.segment]!;
    add({ code: 'term-regression', severity: 'warning', file: rel(s.path), offset: t.offset, message: `${rel(s.path)} at byte ${t.offset}: entry ${t.index} has term ${t.term}, below the previous term ${t.prevTerm}`, expected: `>= ${t.prevTerm}`, found: `${t.term}` });
  }
  for (const u of wal.unknownTypes.slice(0, 10)) {
    const s = wal.segments[u.segment]!;
    add({ code: 'unknown-record-type', severity: 'error', file: rel(s.path), offset: u.offset, message: `${rel(s.path)} at byte ${u.offset}: record type ${u.type} (etcd: unexpected block type ${u.type})`, expected: '1..5', found: `${u.type}` });
  }
  for (const u of wal.undecodable.slice(0, 10)) {
    const s = wal.segments[u.segment]!;
    add({ code: 'undecodable-payload', severity: 'error', file: rel(s.path), offset: u.offset, message: `${rel(s.path)} at byte ${u.offset}: the CRC matches but the payload of this type-${u.type} record does not decode: ${u.error}`, found: u.error });
  }
}

