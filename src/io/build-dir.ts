/**
 * A directory built aside and renamed into place, as etcd's own `Create` and etcdutl's restore do:
 * `<out>.tmp-<pid>` is filled by the caller, fsynced, and renamed to `<out>` (which must not exist,
 * or be empty); on any error it is removed and `<out>` is untouched. Build dirs of earlier, killed
 * runs to the same `<out>` are removed first.
 */
import { lstatSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { IoError, UsageError, fsError } from '../errors.js';
import { crashPoint, fsyncDir, namesIn } from './atomic.js';
import { processAlive } from './pids.js';

/** `--out` must not exist, or be an empty directory (etcdutl 3.5's rule). */
export function checkOutDir(outDir: string): void {
  let st;
  try {
    st = lstatSync(outDir, { throwIfNoEntry: false });
  } catch (e) {
    throw fsError(e, outDir, 'checking the output directory');
  }
  if (st === undefined) return;
  let empty = false;
  if (st.isDirectory()) {
    try {
      empty = readdirSync(outDir).length === 0;
    } catch {
      empty = false;
    }
  }
  if (!empty) throw new UsageError(`data-dir ${JSON.stringify(outDir)} not empty or could not be read`);
}

/** `<out>.tmp-<pid>`: where the data dir is built before it is renamed into place. */
export function buildDirFor(outDir: string): string {
  return join(dirname(resolve(outDir)), `${basename(resolve(outDir))}.tmp-${process.pid}`);
}

/**
 * Remove build dirs an earlier, killed restore to the same `outDir` left beside it:
 * `<out>.tmp-<pid>` whose process is gone and which hold nothing but our `member/` tree (a build
 * dir is never the only copy of anything: the source was only read). Returns the paths removed.
 */
export function removeStaleBuildDirs(outDir: string): string[] {
  const out = resolve(outDir);
  const parent = dirname(out);
  const prefix = `${basename(out)}.tmp-`;
  const names = namesIn(parent);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+$/.test(name.slice(prefix.length))) continue;
    const pid = Number(name.slice(prefix.length));
    if (pid === process.pid || processAlive(pid)) continue;
    const dir = join(parent, name);
    let ours = false;
    try {
      ours = lstatSync(dir).isDirectory() && readdirSync(dir).every((n) => n === 'member');
    } catch {
      ours = false;
    }
    if (!ours) continue;
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      throw fsError(e, dir, 'removing a stale build directory');
    }
    removed.push(dir);
  }
  if (removed.length > 0) fsyncDir(parent);
  return removed;
}

/**
 * Run `build` on a fresh `<out>.tmp-<pid>`, then fsync it and rename it to `outDir` (checked with
 * checkOutDir). On any error the build dir is removed and the error rethrown.
 */
export function buildThenRename<T>(outDir: string, build: (dir: string) => T): { result: T; dataDir: string; staleBuildDirs: string[] } {
  checkOutDir(outDir); // etcd names the directory as it was given
  const out = resolve(outDir);
  const dir = buildDirFor(out);
  const staleBuildDirs = removeStaleBuildDirs(out);
  if (lstatSync(dir, { throwIfNoEntry: false }) !== undefined) {
    throw new IoError(`${dir} already exists (left by an earlier run?); remove it and try again`);
  }
  try {
    const result = build(dir);
    fsyncDir(dir);
    crashPoint('rebuild:built');
    // An existing empty `out` is replaced by the rename (rename(2) allows an empty target directory).
    try {
      renameSync(dir, out);
    } catch (e) {
      throw fsError(e, out, `renaming ${basename(dir)} to it`);
    }
    crashPoint('rebuild:renamed');
    fsyncDir(dirname(out));
    return { result, dataDir: out, staleBuildDirs };
  } catch (e) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // the original error is the one worth reporting
    }
    throw e;
  }
}
