/**
 * `wal-doctor rebuild` from start to end: where the outputs may go (never into what is read), which
 * db is the source, the etcd line whose restore to reproduce, then the plan (--dry-run) or the new
 * data dir and, from a data dir, the WAL entries its db never applied. The caller chooses the words.
 */
import { join, resolve } from 'node:path';
import { WRITE_ALARMS, readAlarms } from '../format/bbolt/etcd-meta.js';
import { openBoltFile } from '../io/bolt-file.js';
import { UsageError } from '../errors.js';
import { locate } from '../io/layout.js';
import { assertNotExisting, assertOutside, enclosingDataDir, isDirectory, isInside, realish } from '../io/paths.js';
import type { BootstrapFlags } from './ids.js';
import { type OldIdentity, readOldIdentity } from './old-identity.js';
import { type RestorePlan, planRestore, restoreFromFile } from './restore.js';
import { type Unapplied, chooseSourceDb, dbWriter, writeUnapplied } from './salvage.js';
import type { RestoreTarget } from './wal.js';

export interface RunRebuildOptions extends BootstrapFlags {
  /** A snapshot file, or a data dir whose db survived. */
  from: string;
  /** The new data dir. */
  out: string;
  /** With a data dir: where the unapplied entries go (default `<out>.unapplied.ndjson`; must not exist). */
  unapplied?: string;
  /** Whose restore to reproduce (default: the line that wrote the source db). */
  etcdVersion?: RestoreTarget;
  /** A snapshot file whose SHA-256 trailer is missing or wrong. */
  skipHashCheck?: boolean;
  /** A db whose tree has pages that cannot be read: rebuild from the rest. */
  salvage?: boolean;
  /** Plan only: nothing is written. */
  dryRun?: boolean;
}

/** A progress bar for one long step (copying the db, walking the WAL). */
export interface StepProgress {
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  done(): void;
}

interface Common {
  /** The db read: the snapshot file, or the data dir's db (or its newest usable .snap.db). */
  source: string;
  target: RestoreTarget;
  /** The source db's consistent index, when it is a data dir's. */
  consistentIndex: bigint | undefined;
  /** The member and cluster IDs the source had. */
  old: OldIdentity;
}

export type RebuildOutcome =
  | (Common & { outcome: 'dry-run'; plan: RestorePlan; outDir: string })
  | (Common & {
      outcome: 'rebuilt';
      result: ReturnType<typeof restoreFromFile>;
      unapplied: Unapplied | undefined;
      /** Alarms the new db keeps raised (restore copies the alarm bucket, as etcdutl's does). */
      alarms: ('NOSPACE' | 'CORRUPT')[];
    });

export function runRebuild(o: RunRebuildOptions, hooks: { progress?(): StepProgress } = {}): RebuildOutcome {
  const from = resolve(o.from);
  // Not a directory (or not there): locate() / restoreFromFile give the one-line error.
  const isDir = isDirectory(from);
  const out = resolve(o.out);
  const unappliedPath = resolve(o.unapplied ?? `${o.out.replace(/\/+$/, '')}.unapplied.ndjson`);
  // Outputs never go into what is read: the source data dir (or the one a --from file is in).
  const sourceDirs = [enclosingDataDir(from), ...(isDir ? [from] : [])];
  assertOutside(out, '--out', sourceDirs);
  if (isDir) {
    assertOutside(unappliedPath, '--unapplied', sourceDirs);
    if (isInside(realish(unappliedPath), realish(out))) throw new UsageError(`--unapplied ${unappliedPath} is inside --out ${out}: etcd must not find it in its data dir`);
    // The only record of writes the db never got: an earlier rebuild's must never be overwritten.
    assertNotExisting(unappliedPath, '--unapplied', 'it may hold the only record of writes an earlier rebuild found unapplied: move it away or name another file');
  }
  const flags = { name: o.name, initialCluster: o.initialCluster, initialClusterToken: o.initialClusterToken, initialAdvertisePeerUrls: o.initialAdvertisePeerUrls };
  const step = <T>(fn: (onProgress: StepProgress['onProgress']) => T): T => {
    const p = hooks.progress?.();
    const r = fn(p?.onProgress);
    p?.done();
    return r;
  };
  const progressOption = (onProgress: StepProgress['onProgress']) => (onProgress ? { onProgress } : {});

  if (isDir) {
    const layout = locate(from);
    const src = chooseSourceDb(layout);
    const target = o.etcdVersion ?? src.writer;
    const common = { source: src.path, target, consistentIndex: src.consistentIndex, old: readOldIdentity(src.path, layout.segments[0]) };
    if (o.dryRun) return { outcome: 'dry-run', ...common, plan: planRestore({ ...flags, target }), outDir: out };
    const result = step((onProgress) => restoreFromFile(src.path, { ...flags, target, skipHashCheck: true, salvage: o.salvage ?? false, ...progressOption(onProgress) }, out));
    const unapplied = layout.segments.length > 0 ? step((onProgress) => writeUnapplied(layout, src.consistentIndex, unappliedPath, onProgress)) : undefined;
    return { outcome: 'rebuilt', ...common, result, unapplied, alarms: raisedAlarms(result.dataDir) };
  }
  if (o.dryRun) {
    locate(from); // a missing or foreign file: the one-line error now
    const target = o.etcdVersion ?? dbWriter(from);
    return { outcome: 'dry-run', source: from, target, consistentIndex: undefined, old: readOldIdentity(from, undefined), plan: planRestore({ ...flags, target }), outDir: out };
  }
  const old = readOldIdentity(from, undefined);
  const target = o.etcdVersion ?? dbWriter(from);
  const result = step((onProgress) => restoreFromFile(from, { ...flags, target, skipHashCheck: o.skipHashCheck ?? false, salvage: o.salvage ?? false, ...progressOption(onProgress) }, out));
  return { outcome: 'rebuilt', source: from, target, consistentIndex: undefined, old, result, unapplied: undefined, alarms: raisedAlarms(result.dataDir) };
}

/** The NOSPACE and CORRUPT alarms the rebuilt db keeps: etcd started on it refuses writes until they are disarmed. */
function raisedAlarms(dataDir: string): ('NOSPACE' | 'CORRUPT')[] {
  const opened = openBoltFile(join(dataDir, 'member', 'snap', 'db'));
  try {
    const names = readAlarms(opened.db).flatMap((a) => (a.alarm !== undefined && WRITE_ALARMS[a.alarm] ? [WRITE_ALARMS[a.alarm]!] : []));
    return [...new Set(names)];
  } finally {
    opened.close();
  }
}
