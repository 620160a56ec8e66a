/**
 * One member's raft log as etcd replays it, streamed in index order.
 *
 * A WAL is append-only, but raft's log is not: when a new leader replaces an uncommitted tail, the
 * member appends entries whose index is at or below ones already written, and etcd's ReadAll keeps
 * only the later ones (`ents = append(ents[:e.Index-offset-1], e)`). So an entry's fate is known only
 * once the whole WAL has been read. The analysis's walk already found the truncation points (where
 * an entry's index goes back: a handful in practice) and the log's bounds; `entries()` walks the WAL
 * again and yields each entry that no later truncation covers. Memory: the truncation list plus
 * one entry.
 *
 * Reading stops at the first damage, as etcd's reader does.
 */
import { endsCleanly, walkWal } from '../format/wal/walk.js';
import type { Entry, WalkEvent } from '../format/wal/walk.js';
import { type WalAnalysis, type WalAnalyzer, analysisWalk } from '../inspect/wal-analysis.js';
import { type SegmentFile, openSegments } from '../inspect/wal-files.js';

export interface LogEntry {
  entry: Entry;
  segment: string;
  offset: number;
}

/** Where an entry's index went back to (the record at segment/offset replaced the tail from `index`). */
interface Truncation {
  segment: number;
  offset: number;
  index: bigint;
}

function* entryRecords(segmentPaths: string[]): Generator<{ entry: Entry; segmentNo: number; segment: string; offset: number }> {
  const files = openSegments(segmentPaths);
  const sources = files.segments;
  try {
    for (const ev of walkWal(sources)) {
      if (ev.kind === 'segment-end') {
        if (!endsCleanly(ev.end)) return;
        continue;
      }
      if (ev.kind !== 'record' || ev.payload.type !== 'entry') continue;
      yield { entry: ev.payload.entry, segmentNo: ev.segment, segment: sources[ev.segment]!.name, offset: ev.offset };
    }
  } finally {
    files.close();
  }
}

export interface MemberLog {
  /** Records whose index goes back, replacing the log's tail from there. */
  truncations: number;
  /** Entries replaced by a later record at a lower or equal index. */
  overwritten: number;
  /** Entries in the replayed log. */
  count: number;
  firstIndex: bigint | undefined;
  lastIndex: bigint | undefined;
  lastTerm: bigint | undefined;
  /**
   * Entries in replay order (strictly increasing index). Each call walks the WAL again. An entry's
   * `data` is valid only until the next one is asked for (it lies in the walk's read window, reused
   * as it moves on): a caller that keeps an entry copies it.
   */
  entries(): Generator<LogEntry>;
}

/**
 * The log etcd replays from these segments (absolute paths, name order), up to the first damage,
 * from what the analysis's walk of them found.
 */
export function readMemberLog(segmentPaths: string[], wal: WalAnalysis): MemberLog {
  const damaged = wal.segments.findIndex((s) => !endsCleanly(s.end));
  const readable = damaged < 0 ? wal.segments : wal.segments.slice(0, damaged + 1);
  const truncations: Truncation[] =
    wal.overwrites.length < wal.maxEvents
      ? wal.overwrites.filter((o) => damaged < 0 || o.segment <= damaged).map((o) => ({ segment: o.segment, offset: o.offset, index: o.index }))
      : truncationsByWalking(segmentPaths);
  let first: bigint | undefined;
  let last: bigint | undefined;
  let lastTerm: bigint | undefined;
  let total = 0;
  for (const s of readable) {
    if (!s.firstEntry || !s.lastEntry) continue;
    first ??= s.firstEntry.index;
    last = s.lastEntry.index;
    lastTerm = s.lastEntry.term;
    total += s.counts.entry;
  }
  // suffixMin[k]: the lowest index any truncation from the k-th on cuts back to.
  const suffixMin: bigint[] = new Array<bigint>(truncations.length);
  for (let k = truncations.length - 1; k >= 0; k--) {
    const t = truncations[k]!.index;
    const after = suffixMin[k + 1];
    suffixMin[k] = after !== undefined && after < t ? after : t;
  }
  const survives = function* (): Generator<LogEntry> {
    let k = 0;
    for (const r of entryRecords(segmentPaths)) {
      while (k < truncations.length && atOrBefore(truncations[k]!, r.segmentNo, r.offset)) k++;
      const cut = suffixMin[k];
      if (cut !== undefined && cut <= r.entry.index) continue;
      // Not copied: the data lies in the walker's window, valid until the next entry is asked for.
      yield { entry: r.entry, segment: r.segment, offset: r.offset };
    }
  };
  // The final log runs from the lowest index ever written first or cut back to, up to the last record.
  const firstIndex = first === undefined ? undefined : suffixMin[0] !== undefined && suffixMin[0] < first ? suffixMin[0] : first;
  const entries = firstIndex === undefined || last === undefined ? 0 : Number(last - firstIndex + 1n);
  return { truncations: truncations.length, overwritten: total - entries, count: entries, firstIndex, lastIndex: last, lastTerm, entries: survives };
}

function atOrBefore(t: Truncation, segment: number, offset: number): boolean {
  return t.segment < segment || (t.segment === segment && t.offset <= offset);
}

/** Only for a log with more overwrites than the analysis keeps: find them all by walking it. */
function truncationsByWalking(segmentPaths: string[]): Truncation[] {
  const out: Truncation[] = [];
  let last: bigint | undefined;
  for (const r of entryRecords(segmentPaths)) {
    if (last !== undefined && r.entry.index <= last) out.push({ segment: r.segmentNo, offset: r.offset, index: r.entry.index });
    last = r.entry.index;
  }
  return out;
}

/**
 * The log as read in the analysis's own walk: `next` pulls the walk's events, feeds each to the
 * analyzer, and returns the entries entryRecords would (in record order, up to the first damage);
 * `finish` feeds the rest of the walk and gives the analysis. Which of these entries survive is
 * known only at the end: they are the member's log exactly when readMemberLog, given the finished
 * analysis, finds no truncation. An entry's `data` is valid until `next` is called again.
 */
export class AnalyzingLog {
  private readonly walk: Generator<WalkEvent>;
  private reading = true;

  constructor(
    private readonly segments: readonly SegmentFile[],
    private readonly analyzer: WalAnalyzer,
  ) {
    this.walk = analysisWalk(segments);
  }

  next(): LogEntry | undefined {
    while (this.reading) {
      const r = this.walk.next();
      if (r.done === true) break;
      const ev = r.value;
      this.analyzer.feed(ev);
      if (ev.kind === 'segment-end') {
        if (!endsCleanly(ev.end)) break;
        continue;
      }
      // Salvaged records (found past a segment's end, clean or not) are not in the log etcd reads.
      if (ev.kind !== 'record' || ev.salvaged || ev.payload.type !== 'entry') continue;
      return { entry: ev.payload.entry, segment: this.segments[ev.segment]!.name, offset: ev.offset };
    }
    this.reading = false;
    return undefined;
  }

  finish(): WalAnalysis {
    this.reading = false;
    for (const ev of this.walk) this.analyzer.feed(ev);
    return this.analyzer.analysis;
  }
}
