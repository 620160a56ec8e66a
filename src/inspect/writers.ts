/**
 * Evidence that two processes appended to one WAL (finding `two-writers`), as opposed to plain
 * corruption. One etcd process writes one CRC chain: a crc record only at the start of a segment,
 * one member/cluster ID, terms that never go down, one file per sequence number. Damage (bit flips,
 * zeroed sectors, garbage, torn writes) breaks the chain but never starts a new one with a crc
 * record and a metadata record that chain from each other; a second writer does exactly that.
 *
 * Rules (each gives one finding, with the file and the byte offset where the second writer's
 * records start):
 *  1. fresh chain inside a segment: a crc record past byte 0 of a segment (etcd writes them only
 *     first in a segment), the record right after it, and at least one more record chaining on from
 *     that one, with a metadata record in the run (its member ID names the second writer);
 *  2. a metadata record (good data or salvaged) whose member/cluster ID differs from the log's first;
 *  3. terms going backwards without a higher-term overwrite;
 *  4. two segment files with the same sequence number;
 *  5. only when none of the above fired for the segment: records after the damage that chain on
 *     with each other but start again at an index at or below the last entry before the damage,
 *     with no higher term (raft overwrites a suffix only with a newer leader's entries, and a torn
 *     write only cuts; a second process appending its own log writes the same indexes again).
 * Rules 1 and 2 past the damage listen to the analysis's own walk (SecondWriterScan): no extra walk.
 */
import { hex16 } from '../format/wal/names.js';
import type { Metadata, WalkEvent } from '../format/wal/walk.js';
import type { Finding } from './report.js';
import type { WalAnalysis } from './wal-analysis.js';

/** The most runs and salvaged metadata records the scan keeps. */
const MAX_KEPT = 1000;

/**
 * Rules 1 and 2 past the damage, heard as the analysis walks the WAL (with salvage): runs of
 * salvaged records that start a fresh CRC chain at a crc record inside a segment, and every
 * salvaged metadata record. Only salvaged records and segment boundaries matter to it.
 */
export class SecondWriterScan {
  readonly runs: Run[] = [];
  readonly salvagedMeta: (Metadata & { segment: number; offset: number })[] = [];
  private cur: Run | undefined;
  private pendingCrc: { segment: number; offset: number } | undefined;

  onEvent(ev: WalkEvent): void {
    if (ev.kind === 'segment-start') {
      this.cur = undefined;
      this.pendingCrc = undefined;
      return;
    }
    if (ev.kind === 'segment-end') {
      // A crc record past byte 0 that etcd's decoder stopped at: the salvage scan begins inside it.
      if (ev.end.kind === 'crc-link-mismatch' && ev.end.offset > 0) this.pendingCrc = { segment: ev.segment, offset: ev.end.offset };
      return;
    }
    if (!ev.salvaged) return;
    const p = ev.payload;
    if (p.type === 'metadata' && this.salvagedMeta.length < MAX_KEPT) this.salvagedMeta.push({ ...p.metadata, segment: ev.segment, offset: ev.offset });
    if (p.type === 'crc' && ev.offset > 0) {
      this.cur = undefined;
      this.pendingCrc = { segment: ev.segment, offset: ev.offset };
      return;
    }
    // The record right after a mid-segment crc record starts the run: the scan cannot always check
    // its link (it resumes inside the crc record's frame), so it is taken by adjacency (a crc frame is
    // 16 bytes) and the records after it must chain.
    const pending = this.pendingCrc;
    const adjacent = pending !== undefined && pending.segment === ev.segment && ev.offset > pending.offset && ev.offset - pending.offset <= 32;
    if (ev.salvaged.chained || (!this.cur && adjacent)) {
      if (!this.cur && pending && pending.segment === ev.segment && this.runs.length < MAX_KEPT) {
        this.cur = { segment: ev.segment, offset: pending.offset, chained: 0, metadata: undefined, entries: 0, firstIndex: undefined, lastIndex: undefined, resumesAt: undefined };
        this.runs.push(this.cur);
        this.pendingCrc = undefined;
      }
      const cur = this.cur;
      if (cur && cur.resumesAt === undefined) {
        cur.chained++;
        if (p.type === 'metadata' && cur.metadata === undefined) cur.metadata = { ...p.metadata, offset: ev.offset };
        if (p.type === 'entry') {
          cur.entries++;
          if (cur.firstIndex === undefined) cur.firstIndex = p.entry.index;
          cur.lastIndex = p.entry.index;
        }
      }
    } else {
      this.pendingCrc = undefined;
      if (this.cur && this.cur.resumesAt === undefined) this.cur.resumesAt = ev.offset;
      this.cur = undefined;
    }
  }
}

interface Run {
  segment: number;
  /** Offset of the crc record that starts the fresh chain. */
  offset: number;
  /** Records in the run that chain from the crc record. */
  chained: number;
  metadata: (Metadata & { offset: number }) | undefined;
  entries: number;
  firstIndex: bigint | undefined;
  lastIndex: bigint | undefined;
  /** Offset of the first record after the run that does not chain from it (the other writer again), if any. */
  resumesAt: number | undefined;
}

export function twoWriterFindings(wal: WalAnalysis, scan: SecondWriterScan, rel: (abs: string) => string): Finding[] {
  const out: Finding[] = [];
  const first = wal.metadata;
  const ids = (m: Metadata, log: Metadata) => ({ memberId: hex16(m.nodeId), clusterId: hex16(m.clusterId), logMemberId: hex16(log.nodeId), logClusterId: hex16(log.clusterId) });

  // Rule 4: the same sequence number twice.
  const bySeq = new Map<bigint, string>();
  for (const s of wal.segments) {
    if (!s.parsed) continue;
    const other = bySeq.get(s.parsed.seq);
    if (other !== undefined) {
      const file = rel(s.path);
      out.push({ code: 'two-writers', kind: 'same-seq', severity: 'error', file, offset: 0, expected: `one file with sequence ${s.parsed.seq}`, found: `${other} and ${s.name}`, seq: `${s.parsed.seq}`, segment: s.name, otherSegment: other });
    } else bySeq.set(s.parsed.seq, s.name);
  }

  // Rule 2 (good data): metadata changing inside the log.
  if (first) {
    for (const m of wal.metadataConflicts) {
      const file = rel(wal.segments[m.segment]!.path);
      out.push({ code: 'two-writers', kind: 'metadata', severity: 'error', file, offset: m.offset, expected: hex16(first.nodeId), found: hex16(m.nodeId), details: { memberId: hex16(m.nodeId), clusterId: hex16(m.clusterId) }, ...ids(m, first) });
    }
  }

  // Rule 3: terms going backwards that no higher-term overwrite explains.
  for (const t of wal.termRegressions) {
    const file = rel(wal.segments[t.segment]!.path);
    out.push({ code: 'two-writers', kind: 'term-regression', severity: 'warning', file, offset: t.offset, expected: `>= ${t.prevTerm}`, found: `${t.term}`, index: `${t.index}`, term: `${t.term}`, prevTerm: `${t.prevTerm}` });
  }

  // Rules 1 and 2 (salvaged): look past the damage, only where there is something to look at.
  const suspect = wal.segments.some((s) => s.end.kind !== 'eof' && s.end.kind !== 'zero-length' && s.salvage.records > 0)
    || wal.segments.some((s) => s.end.kind === 'crc-link-mismatch' && s.end.offset > 0);
  if (!suspect) return out;

  const { runs, salvagedMeta } = scan;
  const foreignMeta = first ? salvagedMeta.filter((m) => m.nodeId !== first.nodeId || m.clusterId !== first.clusterId) : [];
  const reported = new Set<string>();
  for (const r of runs) {
    if (r.metadata === undefined || r.chained < 2) continue;
    const file = rel(wal.segments[r.segment]!.path);
    const m = r.metadata;
    reported.add(`${r.segment}:${m.offset}`);
    const same = first !== undefined && m.nodeId === first.nodeId && m.clusterId === first.clusterId;
    out.push({
      code: 'two-writers',
      kind: 'fresh-chain',
      severity: 'error',
      file,
      offset: r.offset,
      expected: first ? `one CRC chain of member ${hex16(first.nodeId)}` : 'one CRC chain',
      found: `a new chain of member ${hex16(m.nodeId)} at byte ${r.offset}`,
      details: { memberId: hex16(m.nodeId), clusterId: hex16(m.clusterId), metadataOffset: m.offset, chainedRecords: r.chained, entries: r.entries, ...(r.resumesAt !== undefined ? { resumesAt: r.resumesAt } : {}) },
      memberId: hex16(m.nodeId),
      clusterId: hex16(m.clusterId),
      metadataOffset: m.offset,
      logMemberId: first ? hex16(first.nodeId) : null,
      sameIds: same,
      records: r.chained,
      entries: r.entries,
      firstIndex: r.firstIndex === undefined ? null : `${r.firstIndex}`,
      lastIndex: r.lastIndex === undefined ? null : `${r.lastIndex}`,
      resumesAt: r.resumesAt ?? null,
    });
  }
  for (const m of foreignMeta) {
    if (reported.has(`${m.segment}:${m.offset}`) || !first) continue;
    const file = rel(wal.segments[m.segment]!.path);
    out.push({ code: 'two-writers', kind: 'foreign-metadata', severity: 'error', file, offset: m.offset, expected: hex16(first.nodeId), found: hex16(m.nodeId), details: { memberId: hex16(m.nodeId), clusterId: hex16(m.clusterId) }, ...ids(m, first) });
  }
  // Rule 5: the records past the damage rewind the index.
  const flagged = new Set(out.map((f) => f.file));
  for (const s of wal.segments) {
    const file = rel(s.path);
    if (flagged.has(file) || s.end.kind === 'eof' || s.end.kind === 'zero-length') continue;
    const v = s.salvage;
    if (v.chained === 0 || v.firstIndex === undefined || !s.lastEntry || v.firstIndex > s.lastEntry.index || (v.firstTerm ?? 0n) > s.lastEntry.term) continue;
    // chained > 0: the salvage scan found a record, so firstOffset is set.
    out.push({ code: 'two-writers', kind: 'index-rewind', severity: 'error', file, offset: v.firstOffset!, expected: `index > ${s.lastEntry.index}`, found: `index ${v.firstIndex}`, details: { chainedRecords: v.chained, entries: v.entries }, damageOffset: s.end.offset, firstIndex: `${v.firstIndex}`, lastIndexBefore: `${s.lastEntry.index}` });
  }
  return out;
}
