/**
 * What a repair plan needs beyond the report, read with the same walker and db reader:
 * which entries lie after the cut (and the keys they touched), and how many members the
 * cluster has (a bridge is only safe for one).
 */
import { basename } from 'node:path';
import { openBoltFile } from '../io/bolt-file.js';
import { FileSource } from '../io/file-source.js';
import { readEtcdMeta, readMembers } from '../format/bbolt/etcd-meta.js';
import { walkWal } from '../format/wal/walk.js';
import { describeEntry } from '../export/payload.js';
import { keyRanges } from '../export/keys.js';
import { type Analysis, truncationPoint } from '../inspect/analyze.js';

export const MAX_KEYS_LISTED = 200;

export interface DroppedEntries {
  /** Records after the cut that decode (found by scanning, or in later segments). */
  records: number;
  entries: number;
  firstIndex: bigint | undefined;
  lastIndex: bigint | undefined;
  /** Keys those entries wrote or deleted (first MAX_KEYS_LISTED, in log order, deduplicated). */
  keys: string[];
  keysTotal: number;
  /** Highest commit in a HardState after the cut. */
  maxCommit: bigint;
}

export interface RepairFacts {
  cut: { segmentIndex: number; offset: number; lastIndex: bigint | undefined } | undefined;
  dropped: DroppedEntries;
  /** Voter IDs known from any source: db confState, db members bucket, WAL conf changes. */
  members: bigint[];
  memberSources: string[];
}

export function gatherRepairFacts(a: Analysis): RepairFacts {
  const dropped: DroppedEntries = { records: 0, entries: 0, firstIndex: undefined, lastIndex: undefined, keys: [], keysTotal: 0, maxCommit: 0n };
  const wal = a.wal;
  let cut: RepairFacts['cut'];
  if (wal) {
    const t = truncationPoint(wal);
    if (t.damaged) {
      cut = { segmentIndex: t.damaged.index, offset: t.damaged.end.offset, lastIndex: t.lastIndex };
      const segs = a.layout.segments.slice(t.damaged.index).map((p) => ({ name: basename(p), source: new FileSource(p) }));
      const seen = new Set<string>();
      try {
        for (const ev of walkWal(segs, { salvage: true })) {
          if (ev.kind !== 'record') continue;
          // In the damaged segment only what lies past the cut is dropped.
          if (ev.segment === 0 && !ev.salvaged) continue;
          dropped.records++;
          const p = ev.payload;
          if (p.type === 'state' && p.state.commit > dropped.maxCommit) dropped.maxCommit = p.state.commit;
          if (p.type !== 'entry') continue;
          const e = p.entry;
          if (t.lastIndex !== undefined && e.index <= t.lastIndex) continue;
          dropped.entries++;
          if (dropped.firstIndex === undefined || e.index < dropped.firstIndex) dropped.firstIndex = e.index;
          if (dropped.lastIndex === undefined || e.index > dropped.lastIndex) dropped.lastIndex = e.index;
          for (const r of keyRanges(describeEntry(e))) {
            const k = Buffer.from(r.key).toString('utf8') + (r.end ? ` .. ${Buffer.from(r.end).toString('utf8')}` : '');
            if (seen.has(k)) continue;
            seen.add(k);
            dropped.keysTotal++;
            if (dropped.keys.length < MAX_KEYS_LISTED) dropped.keys.push(k);
          }
        }
      } finally {
        for (const s of segs) s.source.close();
      }
    }
  }

  const members = new Set<bigint>();
  const sources: string[] = [];
  if (a.layout.db) {
    const opened = openBoltFile(a.layout.db);
    try {
      if (opened.db.meta) {
        const meta = readEtcdMeta(opened.db);
        if (meta.confState) {
          for (const v of [...meta.confState.voters, ...meta.confState.learners]) members.add(v);
          sources.push('db meta/confState');
        }
        const m = readMembers(opened.db);
        if (m.members.length > 0) {
          for (const x of m.members) if (!m.removed.includes(x.id)) members.add(x.id);
          sources.push('db members bucket');
        }
      }
    } finally {
      opened.close();
    }
  }
  if (wal && wal.confChanges.length > 0) {
    const fromWal = new Set<bigint>();
    for (const c of wal.confChanges) {
      if (c.type === 0 || c.type === 3) fromWal.add(c.nodeId);
      else if (c.type === 1) fromWal.delete(c.nodeId);
    }
    for (const v of fromWal) members.add(v);
    sources.push('WAL conf changes');
  }
  return { cut, dropped, members: [...members], memberSources: sources };
}
