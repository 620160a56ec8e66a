/**
 * The only writer. Carries out a RepairPlan in an order that survives a crash at any point:
 *   1. back up every file the plan touches (byte-exact copies + manifest), then commit the backup;
 *   2. apply each action atomically (temp file, fsync, rename, fsync dir), journaling each step.
 * Killed before step 1 ends: the data dir is untouched and the unfinished backup is ignored.
 * Killed during step 2: every file is either old or new, never half written; `undo` restores
 * the originals, and a rerun of `repair` plans only what is left.
 */
import { readdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { appendAtomic, crashPoint, fsyncDir, removeFile, removeStaleTemps, renameNoReplace, replaceWithTruncated, rewriteTail } from '../io/atomic.js';
import { encodeFrameSize } from '../format/wal/frame.js';
import { RecordEncoder } from '../format/wal/encoder.js';
import { appendRecords, reencodeSegmentTail, rechainSegment } from './rewrite.js';
import { createBackup, removeIncompleteBackups, undo } from '../io/backup.js';
import { IoError, fsError } from '../errors.js';
import type { RepairPlan } from './plan.js';

export interface ApplyResult {
  backupDir: string;
  applied: string[];
}

/** Files under a path, depth first (a set-aside may name a leftover directory such as wal.tmp/). */
function filesUnder(root: string, rel: string): { files: string[]; dirs: string[] } {
  const abs = join(root, rel);
  let st;
  try {
    st = statSync(abs);
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

export function applyPlan(plan: RepairPlan, opts: { backupDir?: string } = {}): ApplyResult {
  if (plan.refusal) throw new Error('applyPlan: the plan was refused'); // a bug in the caller
  const root = plan.dataDir;
  // Leftovers of an earlier run killed mid-way: temp files of ours (never referenced by anything)
  // and backups that were never committed (the data dir was not touched by them).
  for (const d of new Set([root, ...plan.actions.map((a) => dirname(join(root, a.file)))])) removeStaleTemps(d);
  removeIncompleteBackups(root);
  const backup = createBackup(root, { plan, ...(opts.backupDir !== undefined ? { backupDir: opts.backupDir } : {}) });

  // 1. Everything the plan touches is saved before the first byte changes.
  const saved = new Set<string>();
  const targets = plan.actions.map((a) => (a.kind === 'set-aside' ? filesUnder(root, a.file) : { files: [a.file], dirs: [] }));
  plan.actions.forEach((a, i) => {
    for (const f of targets[i]!.files) {
      if (saved.has(f)) continue;
      saved.add(f);
      backup.saveOriginal(f, a.kind === 'truncate-segment' ? 'truncated' : a.kind === 'set-aside' || a.kind === 'rename-segment' ? 'removed' : 'rewritten');
    }
    if (a.kind === 'rename-segment') backup.willCreate(a.to);
  });
  backup.commit();

  // 2. The changes, each atomic and journaled. A rewrite continues the CRC chain of the one before.
  const applied: string[] = [];
  let chain: RecordEncoder | undefined;
  try {
    plan.actions.forEach((a, i) => {
      const abs = join(root, a.file);
      switch (a.kind) {
        case 'truncate-segment':
          replaceWithTruncated(abs, a.keepBytes, { zeroFillTo: a.zeroFillTo });
          break;
        case 'append-records': {
          const enc = new RecordEncoder(a.crc);
          rewriteTail(abs, a.atOffset, (emit) => appendRecords(enc, a, emit), a.atOffset);
          break;
        }
        case 'rewrite-segment': {
          // A segment rewritten from byte 0 starts with a crc record carrying the chain it continues.
          const enc = a.from === 0 ? (chain ?? new RecordEncoder(a.crcIn)) : new RecordEncoder(a.crcIn);
          rewriteTail(abs, a.from, (emit) => {
            if (a.from === 0) emit(enc.crcRecord());
            reencodeSegmentTail(abs, enc, a, emit);
            if (a.append) appendRecords(enc, a.append, emit);
          }, a.size);
          chain = enc;
          break;
        }
        case 'rechain-segment': {
          if (!chain) throw new Error(`applyPlan: ${a.file} is re-chained with no rewrite before it`); // a bug in the plan
          const enc = chain;
          rewriteTail(abs, 0, (emit) => {
            rechainSegment(abs, enc, emit);
            if (a.append) appendRecords(enc, a.append, emit);
          }, a.size);
          break;
        }
        case 'rename-segment':
          renameNoReplace(abs, join(root, a.to));
          break;
        case 'restore-length-word':
          // Only the 8 bytes change: a copy of the whole file with them written back, renamed in.
          appendAtomic(abs, encodeFrameSize(a.recBytes).word, a.offset);
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
  } catch (e) {
    // A step failed after others were applied (the original no longer read as the plan saw it, an
    // I/O error): put every file back rather than leave the dir half repaired.
    undo(backup.dir);
    const why = e instanceof Error ? e.message : String(e);
    throw new IoError(`repair step failed (${why}); every change was undone from ${backup.dir}`);
  }
  backup.finish();
  return { backupDir: backup.dir, applied };
}
