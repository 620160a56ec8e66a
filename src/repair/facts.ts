/**
 * What a repair plan needs beyond the report, all from the analysis's one walk: which entries lie
 * after the cut (and the keys they touched), the terms and CRC chain of the entries etcd cannot
 * apply, and how many members the cluster has (a bridge is only safe for one).
 */
import type { Analysis } from '../inspect/analyze.js';
import { truncationPoint } from '../inspect/verdict.js';
import type { PastCut } from '../inspect/wal-analysis.js';

export type DroppedEntries = PastCut;

export interface RepairFacts {
  cut: { segmentIndex: number; offset: number; lastIndex: bigint | undefined } | undefined;
  /** Term of each entry etcd cannot apply (they decode as raftpb.Entry; only their data is bad). */
  entryTerms: Map<bigint, bigint>;
  /** The running CRC just before each of those records (`<segment>:<offset>`): where a rewrite continues the chain. */
  crcAt: Map<string, number>;
  dropped: DroppedEntries;
  /** Voter IDs known from any source: db confState, db members bucket, WAL conf changes. */
  members: bigint[];
  memberSources: string[];
}

export function gatherRepairFacts(a: Analysis): RepairFacts {
  let dropped: DroppedEntries = { records: 0, entries: 0, firstIndex: undefined, lastIndex: undefined, keys: [], keysTotal: 0, maxCommit: 0n };
  const wal = a.wal;
  let cut: RepairFacts['cut'];
  if (wal) {
    const t = truncationPoint(wal);
    if (t.damaged && wal.pastCut) {
      cut = { segmentIndex: t.damaged.index, offset: t.damaged.end.offset, lastIndex: t.lastIndex };
      dropped = { ...wal.pastCut, keys: [...wal.pastCut.keys] };
      // The damaged record itself (unreadable) and any that cannot be found are lost too: count the
      // whole range from the entry after the cut to the last one found.
      if (t.lastIndex !== undefined && dropped.lastIndex !== undefined) {
        dropped.firstIndex = t.lastIndex + 1n;
        dropped.entries = Number(dropped.lastIndex - t.lastIndex);
      }
    }
  }

  // Entries etcd cannot apply: their terms, and the chain just before each.
  const entryTerms = new Map<bigint, bigint>();
  const crcAt = new Map<string, number>();
  for (const b of wal?.badEntries ?? []) {
    entryTerms.set(b.index, b.term);
    crcAt.set(`${b.segment}:${b.offset}`, b.crcIn);
  }

  const members = a.report.cluster.members.map((h) => BigInt('0x' + h));
  return { cut, dropped, members, memberSources: a.report.cluster.sources, entryTerms, crcAt };
}
