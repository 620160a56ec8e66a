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

function u64OrNull(n: bigint | undefined): string | null {
  return n === undefined ? null : `${n}`;
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
  switch (e.kind) {
    case 'eof':
      return undefined;
    case 'zero-length':
      if (e.nonZeroAfter === undefined) return undefined;
      if (seg.salvage.chained > 0) {
        return { code: 'records-hidden-after-zero-length', kind: 'segment', severity: 'error', file, offset: e.offset, recordNo: seg.records, expected: 'zeros after the end marker', found: `non-zero bytes at byte ${e.nonZeroAfter}`, records: seg.salvage.records, firstRecordOffset: seg.salvage.firstOffset!, nonZeroAt: e.nonZeroAfter };
      }
      return { code: 'garbage-after-end', severity: isLast ? 'info' : 'warning', file, offset: e.nonZeroAfter, recordNo: seg.records, expected: '0x00', found: 'non-zero bytes', endOffset: e.offset, lastSegment: isLast };
    case 'short-length-word':
      return { code: 'truncated-length-word', severity: 'error', file, offset: e.offset, recordNo: seg.records, expected: '8 bytes', found: `${e.available} bytes`, available: e.available };
    case 'oversized': {
      const { recBytes, padBytes } = e.frame;
      if (e.frame.wellFormed && recBytes < LEGACY_MAX_RECORD_BYTES) {
        const f = { severity: 'error', file, offset: e.offset, recordNo: seg.records, expected: `${recBytes + padBytes} bytes`, found: `${e.available} bytes`, recBytes, padBytes, available: e.available } as const;
        return isLast ? { code: 'torn-tail', kind: 'cut-short', ...f } : { code: 'truncated-record', ...f };
      }
      return { code: 'oversized-length', kind: 'past-eof', severity: 'error', file, offset: e.offset, recordNo: seg.records, expected: `<= ${e.available} bytes`, found: `${recBytes} bytes`, lengthWord: `${e.frame.word}`, recBytes, padBytes, available: e.available, wellFormed: e.frame.wellFormed };
    }
    case 'decode-error':
      if (e.frame.recBytes >= LEGACY_MAX_RECORD_BYTES) {
        return { code: 'oversized-length', kind: 'over-legacy-limit', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, expected: `< ${LEGACY_MAX_RECORD_BYTES} bytes`, found: `${e.frame.recBytes} bytes`, recBytes: e.frame.recBytes, zeroSector: e.zeroSector };
      }
      if (isLast && e.zeroSector) {
        return { code: 'torn-tail', kind: 'zero-sector-undecodable', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, expected: 'a walpb.Record', found: 'a partly written record', validRecordsFollow: seg.salvage.chained > 0 };
      }
      return { code: 'record-decode-error', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, expected: 'a walpb.Record', found: e.failure.kind, recBytes: e.frame.recBytes, failure: e.failure.kind, at: e.failure.at };
    case 'crc-mismatch':
      if (isLast && e.zeroSector) {
        return { code: 'torn-tail', kind: 'zero-sector-crc', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, expected: hexCrc(e.stored), found: hexCrc(e.computed), stored: e.stored >>> 0, computed: e.computed >>> 0, validRecordsFollow: seg.salvage.chained > 0 };
      }
      return { code: 'crc-mismatch', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, expected: hexCrc(e.stored), found: hexCrc(e.computed), stored: e.stored >>> 0, computed: e.computed >>> 0 };
    case 'crc-link-mismatch':
      return { code: 'crc-chain-broken', severity: 'error', file, offset: e.offset, recordNo: e.recordNo, expected: hexCrc(e.running), found: hexCrc(e.stored), stored: e.stored >>> 0, running: e.running >>> 0 };
  }
}

export function walFindings(wal: WalAnalysis, rel: (abs: string) => string, add: (f: Finding) => void): void {
  const n = wal.segments.length;
  let prevSeq: bigint | undefined;
  for (const [i, s] of wal.segments.entries()) {
    const file = rel(s.path);
    if (s.size === 0) add({ code: 'empty-segment', severity: 'error', file, offset: 0, expected: 'a crc record', found: '0 bytes' });
    const f = endFinding(s, i === n - 1, file);
    if (f) add(f);
    const damaged = s.end.kind !== 'eof' && s.end.kind !== 'zero-length';
    if (damaged && s.salvage.chained > 0) {
      // chained > 0: the salvage scan found a record, so firstOffset is set.
      add({ code: 'valid-records-after-damage', severity: 'warning', file, offset: s.salvage.firstOffset!, details: { records: s.salvage.chained, entries: s.salvage.entries }, damageOffset: s.end.offset, records: s.salvage.chained, entries: s.salvage.entries, firstIndex: u64OrNull(s.salvage.firstIndex), lastIndex: u64OrNull(s.salvage.lastIndex) });
    }
    if (s.parsed) {
      if (prevSeq !== undefined && s.parsed.seq !== prevSeq + 1n) {
        add({ code: 'segment-seq-gap', severity: 'error', file, expected: `${prevSeq + 1n}`, found: `${s.parsed.seq}`, seq: `${s.parsed.seq}`, prevSeq: `${prevSeq}` });
      }
      prevSeq = s.parsed.seq;
      if (s.firstEntry && s.firstEntry.index < s.parsed.index) {
        add({ code: 'segment-name-index-mismatch', severity: 'info', file, nameIndex: `${s.parsed.index}`, firstIndex: `${s.firstEntry.index}` });
      }
    }
  }
  if (!wal.metadata) add({ code: 'no-metadata', severity: 'error' });
  for (const m of wal.metadataConflicts.slice(0, 10)) {
    const s = wal.segments[m.segment]!;
    add({ code: 'metadata-conflict', severity: 'error', file: rel(s.path), offset: m.offset, expected: hex16(wal.metadata!.nodeId), found: hex16(m.nodeId), memberId: hex16(m.nodeId), clusterId: hex16(m.clusterId), firstMemberId: hex16(wal.metadata!.nodeId), firstClusterId: hex16(wal.metadata!.clusterId) });
  }
  for (const g of wal.gaps.slice(0, 10)) {
    const s = wal.segments[g.segment]!;
    add({ code: 'entry-index-gap', severity: 'error', file: rel(s.path), offset: g.offset, expected: `${g.prevIndex + 1n}`, found: `${g.index}`, index: `${g.index}`, prevIndex: `${g.prevIndex}` });
  }
  for (const o of wal.overwrites.slice(0, 10)) {
    const s = wal.segments[o.segment]!;
    add({ code: 'log-overwrite', severity: 'info', file: rel(s.path), offset: o.offset, index: `${o.index}`, term: `${o.term}`, prevLastIndex: `${o.prevLastIndex}`, prevLastTerm: `${o.prevLastTerm}` });
  }
  for (const t of wal.termRegressions.slice(0, 10)) {
    const s = wal.segments[t.segment]!;
    add({ code: 'term-regression', severity: 'warning', file: rel(s.path), offset: t.offset, expected: `>= ${t.prevTerm}`, found: `${t.term}`, index: `${t.index}`, term: `${t.term}`, prevTerm: `${t.prevTerm}` });
  }
  for (const u of wal.unknownTypes.slice(0, 10)) {
    const s = wal.segments[u.segment]!;
    add({ code: 'unknown-record-type', severity: 'error', file: rel(s.path), offset: u.offset, expected: '1..5', found: `${u.type}`, type: u.type });
  }
  for (const u of wal.undecodable.slice(0, 10)) {
    const s = wal.segments[u.segment]!;
    add({ code: 'undecodable-payload', severity: 'error', file: rel(s.path), offset: u.offset, found: u.error, type: u.type, error: u.error });
  }
}

