/**
 * Rebuilding from a damaged data dir: pick the db to rebuild from, and account for the WAL entries
 * the db never applied (index above its consistent index) — written out in the export format so
 * nothing silently vanishes. Official tools drop them without a word.
 */
import { basename, join } from 'node:path';
import { openBoltFile } from '../io/bolt-file.js';
import { FileSource } from '../io/file-source.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Layout } from '../io/layout.js';
import { readEtcdMeta, writerLine } from '../format/bbolt/etcd-meta.js';
import { firstSegmentFrom, parseSnapDbName } from '../format/wal/names.js';
import { exportLines } from '../export/ndjson.js';
import { NotEtcdError } from '../errors.js';
import type { RestoreTarget } from './wal.js';

export interface SourceDb {
  path: string;
  consistentIndex: bigint;
  /** The release line that wrote the db (writerLine). */
  writer: RestoreTarget;
}

/** The line that wrote the bbolt file at `path` (3.5 when it has no readable meta). */
export function dbWriter(path: string): RestoreTarget {
  const o = openBoltFile(path);
  try {
    return o.db.meta ? writerLine(readEtcdMeta(o.db)) : '3.5';
  } finally {
    o.close();
  }
}

/** The db with the highest consistent index: member/snap/db, or a received `<index>.snap.db`. */
export function chooseSourceDb(layout: Layout): SourceDb {
  const candidates = [layout.db, ...layout.files.filter((f) => parseSnapDbName(basename(f.path)) !== undefined).map((f) => join(layout.root, f.path))].filter(
    (p): p is string => p !== undefined,
  );
  let best: SourceDb | undefined;
  for (const path of candidates) {
    const o = openBoltFile(path);
    try {
      if (!o.db.meta) continue;
      const m = readEtcdMeta(o.db);
      const ci = m.consistentIndex ?? 0n;
      if (!best || ci > best.consistentIndex) best = { path, consistentIndex: ci, writer: writerLine(m) };
    } finally {
      o.close();
    }
  }
  if (!best) throw new NotEtcdError(`${layout.root}: no readable bbolt db (member/snap/db or *.snap.db) to rebuild from`);
  return best;
}

export interface Unapplied {
  path: string;
  entries: number;
  firstIndex: bigint | undefined;
  lastIndex: bigint | undefined;
  /** Entries found only past damage in the WAL (their CRC chain said whether they are intact). */
  damaged: number;
  /** The segment read first, and how many before it were left unread (firstSegmentFrom). */
  firstSegment: string;
  segmentsSkipped: number;
}

/**
 * Write every WAL entry with index > consistentIndex to `outPath` as export NDJSON (atomically).
 * The walk starts one segment before the one holding consistentIndex + 1 (firstSegmentFrom): that
 * one's end is what the crc record opening the next must continue, and a name one segment off
 * still leaves every entry above the index read. The segments before hold only entries the db
 * applied, and are not read: damage in them marks no later entry `damaged`.
 */
export function writeUnapplied(layout: Layout, consistentIndex: bigint, outPath: string, onProgress?: (bytesDone: number, bytesTotal: number) => void): Unapplied {
  const skipped = Math.max(0, firstSegmentFrom(layout.segments.map((p) => basename(p)), consistentIndex + 1n) - 1);
  const segments = layout.segments.slice(skipped).map((p) => ({ name: basename(p), source: new FileSource(p) }));
  const res: Unapplied = { path: outPath, entries: 0, firstIndex: undefined, lastIndex: undefined, damaged: 0, firstSegment: segments[0]!.name, segmentsSkipped: skipped };
  try {
    writeFileAtomic(
      outPath,
      (write) => {
        const enc = new TextEncoder();
        for (const line of exportLines(segments, { fromIndex: consistentIndex + 1n, types: ['entry'], includeDamaged: true, ...(onProgress ? { onProgress } : {}) })) {
          write(enc.encode(JSON.stringify(line) + '\n'));
          const i = BigInt(line.index!);
          res.entries++;
          if (line.damaged) res.damaged++;
          if (res.firstIndex === undefined || i < res.firstIndex) res.firstIndex = i;
          if (res.lastIndex === undefined || i > res.lastIndex) res.lastIndex = i;
        }
      },
      { mode: 0o600, noReplace: true }, // the only record of these writes: never replace an earlier one
    );
  } finally {
    for (const s of segments) s.source.close();
  }
  return res;
}
