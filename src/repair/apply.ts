/**
 * The only writer. Carries out a RepairPlan in an order that survives a crash at any point:
 *   1. back up every file the plan touches (byte-exact copies + manifest), then commit the backup;
 *   2. apply each action atomically (temp file, fsync, rename, fsync dir), journaling each step.
 * Killed before step 1 ends: the data dir is untouched and the unfinished backup is ignored.
 * Killed during step 2: every file is either old or new, never half written; `undo` restores
 * the originals, and a rerun of `repair` plans only what is left.
 */
import { lstatSync, readdirSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { appendAtomic, crashPoint, fsyncDir, removeFile, removeStaleTemps, replaceWithTruncated, type ReplaceOptions } from '../io/atomic.js';
import { createBackup, removeIncompleteBackups, type Backup } from '../io/backup.js';
import { blocksOf } from '../io/space.js';
import { fsError } from '../errors.js';
import type { RepairPlan } from './plan.js';
import { appendBytes } from './records.js';

export interface ApplyResult {
  backupDir: string;
  applied: string[];
}

/** Files under a path, depth first (a set-aside may name a leftover directory such as wal.tmp/). */
function filesUnder(root: string, rel: string): { files: string[]; dirs: string[] } {
  const abs = join(root, rel);
  let st;
  try {
    st = lstatSync(abs); // never into a symlinked dir: its files are not the data dir's
  } catch (e) {
    throw fsError(e, abs, 'reading what to set aside');
  }
  if (!st.isDirectory()) return { files: [rel], dirs: [] };
  const out = { files: [] as string[], dirs: [] as string[] };
  for (const n of readdirSync(abs).sort()) {
    const sub = filesUnder(root, join(rel, n));
    out.files.push(...sub.files);
    out.dirs.push(...sub.dirs);
  }
  out.dirs.push(rel);
  return out;
}

export interface ApplyOptions {
  backupDir?: string;
  /** given each new file before it takes its name (the caller's locks follow the file: see lockEtcdFiles) */
  beforeRename?: ReplaceOptions['beforeRename'];
}

export function applyPlan(plan: RepairPlan, opts: ApplyOptions = {}): ApplyResult {
  if (plan.refusal) throw new Error('applyPlan: the plan was refused'); // a bug in the caller
  const root = plan.dataDir;
  // Leftovers of an earlier run killed mid-way: temp files of ours (never referenced by anything)
  // and backups that were never committed (the data dir was not touched by them).
  for (const d of new Set([root, ...plan.actions.map((a) => dirname(join(root, a.file)))])) removeStaleTemps(d);
  removeIncompleteBackups(root);
  const targets = plan.actions.map((a) => (a.kind === 'set-aside' ? filesUnder(root, a.file) : { files: [a.file], dirs: [] }));
  const appended = plan.actions.map((a) => (a.kind === 'append-records' ? appendBytes(a) : undefined));

  // Room for the copies and for the largest temp file a step builds (one at a time; the old file's
  // blocks are freed when the new one is renamed over it) — checked before the first byte is written.
  const sizes = new Map<string, number>();
  const sizeOf = (rel: string): number => {
    let n = sizes.get(rel);
    if (n === undefined) {
      try {
        n = lstatSync(join(root, rel)).size;
      } catch (e) {
        throw fsError(e, join(root, rel), 'reading its size');
      }
      sizes.set(rel, n);
    }
    return n;
  };
  const backupBytes = [...new Set(targets.flatMap((t) => t.files))].reduce((sum, f) => sum + blocksOf(sizeOf(f)), 0);
  const dataDirBytes = plan.actions.reduce((most, a, i) => {
    const temp =
      a.kind === 'truncate-segment' ? a.zeroFillTo : a.kind === 'append-records' ? Math.max(sizeOf(a.file), a.atOffset + appended[i]!.length) : 0;
    return Math.max(most, blocksOf(temp));
  }, 0);
  const backup = createBackup(root, { plan, space: { backupBytes, dataDirBytes }, ...(opts.backupDir !== undefined ? { backupDir: opts.backupDir } : {}) });

  // 1. Everything the plan touches is saved before the first byte changes. A failure on the way
  //    (a full disk) removes the unfinished backup: the data dir was not touched.
  try {
    const saved = new Set<string>();
    plan.actions.forEach((a, i) => {
      for (const f of targets[i]!.files) {
        if (saved.has(f)) continue;
        saved.add(f);
        backup.saveOriginal(f, a.kind === 'truncate-segment' ? 'truncated' : a.kind === 'append-records' ? 'rewritten' : 'removed');
      }
      // directories the step removes: undo recreates them with their owner, mode and mtime
      for (const d of targets[i]!.dirs) backup.saveDir(d);
    });
    backup.commit();
  } catch (e) {
    backup.abort();
    throw e;
  }

  // 2. The changes, each atomic and journaled. A first step that fails (a full disk) changes
  //    nothing (its temp is removed, the real name untouched): then the backup saves nothing and
  //    is removed too, leaving the disk as it was. After that, the backup is what undo needs.
  const applied: string[] = [];
  try {
    applySteps(plan, root, targets, appended, backup, applied, opts.beforeRename);
  } catch (e) {
    if (applied.length === 0) backup.discardIfUnused();
    throw e;
  }
  backup.finish();
  return { backupDir: backup.dir, applied };
}

function applySteps(
  plan: RepairPlan,
  root: string,
  targets: { files: string[]; dirs: string[] }[],
  appended: (Uint8Array | undefined)[],
  backup: Backup,
  applied: string[],
  beforeRename: ReplaceOptions['beforeRename'],
): void {
  plan.actions.forEach((a, i) => {
    const abs = join(root, a.file);
    switch (a.kind) {
      case 'truncate-segment':
        replaceWithTruncated(abs, a.keepBytes, { zeroFillTo: a.zeroFillTo, beforeRename });
        break;
      case 'append-records':
        appendAtomic(abs, appended[i]!, a.atOffset, { beforeRename });
        break;
      case 'set-aside': {
        const t = targets[i]!;
        for (const f of t.files) removeFile(join(root, f));
        for (const d of t.dirs) {
          try {
            rmdirSync(join(root, d));
          } catch (e) {
            throw fsError(e, join(root, d), 'removing the emptied directory');
          }
          fsyncDir(dirname(join(root, d)));
        }
        break;
      }
    }
    const step = `${i + 1}:${a.kind}:${a.file}`;
    backup.markApplied(step);
    applied.push(step);
    crashPoint('repair:step-applied');
  });
}
