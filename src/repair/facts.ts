/**
 * What a repair plan needs beyond the report, read with the same walker and db reader:
 * which entries lie after the cut (and the keys they touched), and how many members the
 * cluster has (a bridge is only safe for one).
 */
import { basename } from 'node:path';
import { FileSource } from '../io/file-source.js';
import { walkWal } from '../format/wal/walk.js';
import { ReadWindow } from '../format/bytes.js';
import { decodeSegment } from '../format/wal/decoder.js';
import { decodeEntry } from '../format/proto/messages.js';
import { describeEntry } from '../format/payload/payload.js';
import { keyRanges } from '../format/payload/keys.js';
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
  if (wal && wal.badEntries.length > 0) {
    const wanted = new Set(wal.badEntries.map((b) => `${b.segment}:${b.offset}`));
    for (const segIndex of new Set(wal.badEntries.map((b) => b.segment))) {
      const seg = wal.segments[segIndex]!;
      const src = new FileSource(seg.path);
      try {
        let running = seg.crcIn;
        for (const ev of decodeSegment(new ReadWindow(src), { crc: seg.crcIn })) {
          if (ev.kind !== 'record') continue;
          if (wanted.has(`${segIndex}:${ev.offset}`)) {
            crcAt.set(`${segIndex}:${ev.offset}`, running);
            const e = decodeEntry(ev.record.data ?? new Uint8Array(0));
            entryTerms.set(e.index, e.term);
          }
          running = ev.record.crc;
        }
      } finally {
        src.close();
      }
    }
  }

  const members = a.report.cluster.members.map((h) => BigInt('0x' + h));
  return { cut, dropped, members, memberSources: a.report.cluster.sources, entryTerms, crcAt };
}
