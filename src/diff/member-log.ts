/**
 * One member's raft log as etcd replays it, streamed in index order.
 *
 * A WAL is append-only, but raft's log is not: when a new leader replaces an uncommitted tail, the
 * member appends entries whose index is at or below ones already written, and etcd's ReadAll keeps
 * only the later ones (`ents = append(ents[:e.Index-offset-1], e)`). So an entry's fate is known only
 * once the whole WAL has been read. Pass 1 walks the WAL and remembers just the truncation points
 * (record ordinal, index) — a handful in practice; pass 2 walks it again and yields each entry that no
 * later truncation covers. Memory: the truncation list plus one entry.
 *
 * Reading stops at the first damage, as etcd's reader does.
 */
import { basename } from 'node:path';
import { FileSource } from '../io/file-source.js';
import { endsCleanly, walkWal } from '../format/wal/walk.js';
import type { Entry } from '../format/wal/walk.js';

export interface LogEntry {
  entry: Entry;
  segment: string;
  offset: number;
}

interface Truncation {
  ordinal: number;
  index: bigint;
}

function* entryRecords(segmentPaths: string[]): Generator<{ entry: Entry; segment: string; offset: number; ordinal: number }> {
  const sources = segmentPaths.map((p) => ({ name: basename(p), source: new FileSource(p) }));
  try {
    let ordinal = 0;
    for (const ev of walkWal(sources)) {
      if (ev.kind === 'segment-end') {
        if (!endsCleanly(ev.end)) return;
        continue;
      }
      if (ev.kind !== 'record' || ev.payload.type !== 'entry') continue;
      yield { entry: ev.payload.entry, segment: sources[ev.segment]!.name, offset: ev.offset, ordinal: ordinal++ };
    }
  } finally {
    for (const s of sources) s.source.close();
  }
}

export interface MemberLog {
  /** Entries replaced by a later record at a lower or equal index. */
  overwritten: number;
  /** Entries in the replayed log. */
  count: number;
  firstIndex: bigint | undefined;
  lastIndex: bigint | undefined;
  lastTerm: bigint | undefined;
  /** Entries in replay order (strictly increasing index). Each call walks the WAL again. */
  entries(): Generator<LogEntry>;
}

/** Pass 1 over the segments (absolute paths, name order). */
export function readMemberLog(segmentPaths: string[]): MemberLog {
  const truncations: Truncation[] = [];
  let first: bigint | undefined;
  let last: bigint | undefined;
  let lastTerm: bigint | undefined;
  let total = 0;
  for (const r of entryRecords(segmentPaths)) {
    if (last !== undefined && r.entry.index <= last) truncations.push({ ordinal: r.ordinal, index: r.entry.index });
    first ??= r.entry.index;
    last = r.entry.index;
    lastTerm = r.entry.term;
    total++;
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
      while (k < truncations.length && truncations[k]!.ordinal <= r.ordinal) k++;
      const cut = suffixMin[k];
      if (cut !== undefined && cut <= r.entry.index) continue;
      const data = r.entry.data;
      // Copy the data: the walker's window may reuse its buffer once we move on.
      const entry: Entry = { type: r.entry.type, term: r.entry.term, index: r.entry.index, ...(data ? { data: data.slice() } : {}) };
      yield { entry, segment: r.segment, offset: r.offset };
    }
  };
  // The final log runs from the lowest index ever written first or cut back to, up to the last record.
  const firstIndex = first === undefined ? undefined : suffixMin[0] !== undefined && suffixMin[0] < first ? suffixMin[0] : first;
  const entries = firstIndex === undefined || last === undefined ? 0 : Number(last - firstIndex + 1n);
  return { overwritten: total - entries, count: entries, firstIndex, lastIndex: last, lastTerm, entries: survives };
}
