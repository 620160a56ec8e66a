/**
 * The only writer. Carries out a RepairPlan in an order that survives a crash at any point:
 *   1. back up every file the plan touches (byte-exact copies + manifest), then commit the backup;
 *   2. apply each action atomically (temp file, fsync, rename, fsync dir), journaling each step.
 * Killed before step 1 ends: the data dir is untouched and the unfinished backup is ignored.
 * Killed during step 2: every file is either old or new, never half written; `undo` restores
 * the originals, and a rerun of `repair` plans only what is left.
 */
import { dirname, join } from 'node:path';
import { appendAtomic, crashPoint, removeFile, removeStaleTemps, renameNoReplace, replaceWithTruncated, rewriteTail, type ReplaceOptions } from '../io/atomic.js';
import { createBackup, removeIncompleteBackups, undo, type Backup } from '../io/backup.js';
import { blocksOf } from '../io/space.js';
import { fileSize, filesUnder, removeEmptyDir } from '../io/tree.js';
import { IoError } from '../errors.js';
import { encodeFrameSize } from '../format/wal/frame.js';
import { RecordEncoder } from '../format/wal/encoder.js';
import { appendRecords, reencodeSegmentTail, rechainSegment } from './rewrite.js';
import type { RepairPlan } from './plan.js';

export interface ApplyResult {
  backupDir: string;
  applied: string[];
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

  // Room for the copies and for the largest temp file a step builds (one at a time; the old file's
  // blocks are freed when the new one is renamed over it) — checked before the first byte is written.
  const sizes = new Map<string, number>();
  const sizeOf = (rel: string): number => {
    let n = sizes.get(rel);
    if (n === undefined) {
      n = fileSize(join(root, rel));
      sizes.set(rel, n);
    }
    return n;
  };
  const backupBytes = [...new Set(targets.flatMap((t) => t.files))].reduce((sum, f) => sum + blocksOf(sizeOf(f)), 0);
  const dataDirBytes = plan.actions.reduce((most, a, i) => {
    // A rewritten segment keeps its size unless the new records run past it (an append: a bridge
    // of empty entries, about 24 bytes each).
    const bridge = (x: { entries: { firstIndex: string; lastIndex: string } | null } | null) => (x?.entries ? Number(BigInt(x.entries.lastIndex) - BigInt(x.entries.firstIndex) + 1n) * 32 + 64 : 64);
    const temp =
      a.kind === 'truncate-segment'
        ? a.zeroFillTo
        : a.kind === 'append-records'
          ? Math.max(sizeOf(a.file), a.atOffset + bridge(a))
          : a.kind === 'rewrite-segment' || a.kind === 'rechain-segment'
            ? Math.max(sizeOf(a.file), a.size) + bridge(a.append) + (a.kind === 'rewrite-segment' && a.fill ? Number(BigInt(a.fill.last) - BigInt(a.fill.first) + 1n) * 32 : 0)
            : a.kind === 'restore-length-word'
              ? sizeOf(a.file)
              : 0;
    void i;
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
        backup.saveOriginal(f, a.kind === 'truncate-segment' ? 'truncated' : a.kind === 'set-aside' || a.kind === 'rename-segment' ? 'removed' : 'rewritten');
      }
      if (a.kind === 'rename-segment') backup.willCreate(a.to);
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
    applySteps(plan, root, targets, backup, applied, opts.beforeRename);
  } catch (e) {
    if (applied.length === 0) {
      backup.discardIfUnused();
      throw e;
    }
    // A step failed after others were applied (the original no longer read as the plan saw it, an
    // I/O error): put every file back rather than leave the dir half repaired.
    undo(backup.dir);
    const why = e instanceof Error ? e.message : String(e);
    throw new IoError(`repair step failed (${why}); every change was undone from ${backup.dir}`);
  }
  backup.finish();
  return { backupDir: backup.dir, applied };
}

function applySteps(
  plan: RepairPlan,
  root: string,
  targets: { files: string[]; dirs: string[] }[],
  backup: Backup,
  applied: string[],
  beforeRename: ReplaceOptions['beforeRename'],
): void {
  // A rewrite continues the CRC chain of the one before it.
  let chain: RecordEncoder | undefined;
  plan.actions.forEach((a, i) => {
    const abs = join(root, a.file);
    switch (a.kind) {
      case 'truncate-segment':
        replaceWithTruncated(abs, a.keepBytes, { zeroFillTo: a.zeroFillTo, beforeRename });
        break;
      case 'append-records': {
        // The new records, then zeros: none of the old bytes after them for a decoder to read on into.
        const enc = new RecordEncoder(a.crc);
        rewriteTail(abs, a.atOffset, (emit) => appendRecords(enc, a, emit), a.atOffset, { beforeRename });
        break;
      }
      case 'rewrite-segment': {
        // A segment rewritten from byte 0 starts with a crc record carrying the chain it continues.
        const enc = a.from === 0 ? (chain ?? new RecordEncoder(a.crcIn)) : new RecordEncoder(a.crcIn);
        rewriteTail(
          abs,
          a.from,
          (emit) => {
            if (a.from === 0) emit(enc.crcRecord());
            reencodeSegmentTail(abs, enc, a, emit);
            if (a.append) appendRecords(enc, a.append, emit);
          },
          a.size,
          { beforeRename },
        );
        chain = enc;
        break;
      }
      case 'rechain-segment': {
        if (!chain) throw new Error(`applyPlan: ${a.file} is re-chained with no rewrite before it`); // a bug in the plan
        const enc = chain;
        rewriteTail(
          abs,
          0,
          (emit) => {
            rechainSegment(abs, enc, emit);
            if (a.append) appendRecords(enc, a.append, emit);
          },
          a.size,
          { beforeRename },
        );
        break;
      }
      case 'rename-segment':
        renameNoReplace(abs, join(root, a.to));
        break;
      case 'restore-length-word':
        // Only the 8 bytes change: a copy of the whole file with them written back, renamed in.
        appendAtomic(abs, encodeFrameSize(a.recBytes).word, a.offset, { beforeRename });
        break;
      case 'set-aside': {
        const t = targets[i]!;
        for (const f of t.files) removeFile(join(root, f));
        for (const d of t.dirs) removeEmptyDir(join(root, d));
        break;
      }
    }
    const step = `${i + 1}:${a.kind}:${a.file}`;
    backup.markApplied(step);
    applied.push(step);
    crashPoint('repair:step-applied');
  });
}
