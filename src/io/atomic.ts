/**
 * Crash-safe file changes: the only way wal-doctor changes bytes in a data dir.
 *
 * Every change is built in a temp file in the same directory (`.<name>.wal-doctor-tmp-<pid>`),
 * written, fsynced, renamed over the real name (rename(2) is atomic within a file system), and then
 * the directory is fsynced so the rename itself survives a power loss. A crash at any point leaves
 * the real name holding either the old bytes or the new bytes, never a mix; at worst a temp file is
 * left behind, which `removeStaleTemps` (and `undo`) clean up. Copies stream in bounded chunks:
 * WAL segments are 64 MB and are never read into memory whole.
 *
 * `crashPoint(name)` is the crash-injection hook the tests use: with `WAL_DOCTOR_CRASH_AT=<name>`
 * in the environment the process kills itself with SIGKILL at that point (no cleanup, no exit
 * handlers), exactly as a power loss or an OOM kill would stop it. `<name>#<n>` stops at the n-th
 * time the point is reached.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IoError, fsError } from '../errors.js';
import { openRegularForRead } from './safe-open.js';

/** Opening a directory (to fsync it): never blocks, even if the name turned out to be a FIFO. */
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NONBLOCK;

/** Bytes per read/write when streaming a copy: bounds memory whatever the file size. */
export const CHUNK_BYTES = 1 << 20;

/**
 * Every crash point wal-doctor's own I/O functions pass through, in the order a repair meets them.
 * The repair applier may add its own names; these are stable (tests and scripts rely on them).
 */
export const CRASH_POINTS = [
  'manifest:tmp-synced', //       manifest.json: temp written and fsynced, not renamed (first: createBackup)
  'manifest:renamed', //          manifest.json: renamed in, dir not yet fsynced
  'backup:dir-created', //        `<backup>.tmp` made, empty manifest written; nothing saved yet
  'backup:file-copied', //        a backup copy written, verified and fsynced; not yet in manifest.json
  'backup:file-recorded', //      manifest.json lists the copy
  'backup:renamed', //            commit(): `<backup>.tmp` renamed to `<backup>`, parent not yet fsynced
  'backup:committed', //          commit() done: manifest says committed; the data dir may change from here
  'truncate:prefix-written', //   replaceWithTruncated: the kept prefix is in the temp file, zero fill not yet written
  'truncate:tmp-synced', //       replaceWithTruncated: temp file complete and fsynced, not renamed
  'truncate:renamed', //          replaceWithTruncated: renamed over the segment, dir not yet fsynced
  'append:copied', //             appendAtomic: the temp copy holds the old bytes, the new ones not yet written
  'append:tmp-synced', //         appendAtomic: temp copy with the new bytes fsynced, not renamed
  'append:renamed', //            appendAtomic: renamed in, dir not yet fsynced
  'rewrite:prefix-written', //    rewriteTail: the kept prefix is in the temp file, the re-chained records not yet
  'rewrite:tmp-synced', //        rewriteTail: temp file complete and fsynced, not renamed
  'rewrite:renamed', //           rewriteTail: renamed over the segment, dir not yet fsynced
  'rename:renamed', //            renameNoReplace: a segment renamed, dir not yet fsynced
  'write:first-chunk', //         writeFileAtomic: the first chunk is in the temp file, the rest not yet
  'write:tmp-synced', //          writeFileAtomic: temp fsynced, not renamed
  'write:renamed', //             writeFileAtomic: renamed in, dir not yet fsynced
  'remove:unlinked', //           removeFile: unlinked, dir not yet fsynced
  'backup:step-recorded', //      markApplied(): the step is journaled in manifest.json
  'restore:tmp-synced', //        undo: a restored copy fsynced in its temp file, not renamed
  'restore:renamed', //           undo: restored copy renamed in, dir not yet fsynced
  'undo:file-restored', //        undo: one file put back (more may follow)
  'undo:file-removed', //         undo: one file the repair created (or a moved copy) removed
] as const;
export type CrashPointName = (typeof CRASH_POINTS)[number];

const crashHits = new Map<string, number>();

/** True the n-th time `name` is reached when `want` is `name` or `name#n`. */
function hitPoint(env: string, want: string | undefined, name: string): boolean {
  if (!want) return false;
  const hash = want.lastIndexOf('#');
  const wantName = hash > 0 ? want.slice(0, hash) : want;
  if (wantName !== name) return false;
  const nth = hash > 0 ? Number(want.slice(hash + 1)) : 1;
  const key = `${env}:${name}`;
  const hit = (crashHits.get(key) ?? 0) + 1;
  crashHits.set(key, hit);
  return hit === nth;
}

/**
 * Die here, now, by SIGKILL, when `WAL_DOCTOR_CRASH_AT` names this point (`name`, or `name#n` for the
 * n-th time it is reached). With `WAL_DOCTOR_STOP_AT` the process stops itself (SIGSTOP) instead,
 * so a test can change the world (fill the disk) at exactly this point and let it go on (SIGCONT).
 * A no-op otherwise. For tests only; costs two env lookups.
 */
export function crashPoint(name: string): void {
  if (hitPoint('crash', process.env['WAL_DOCTOR_CRASH_AT'], name)) process.kill(process.pid, 'SIGKILL');
  if (hitPoint('stop', process.env['WAL_DOCTOR_STOP_AT'], name)) process.kill(process.pid, 'SIGSTOP');
}

/** `.<name>.wal-doctor-tmp-<pid>`: where a new version of `<name>` is built. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.wal-doctor-tmp-${process.pid}`);
}

const TEMP_RE = /^\..+\.wal-doctor-tmp-(\d+)$/;

/** True for names `tempPathFor` makes (any pid). */
export function isTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

/** The names in `dir`; none when it does not exist. */
export function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fsError(e, dir, 'listing');
  }
}

/**
 * Delete temp files a killed wal-doctor left in `dir` (not this process's own). They never hold
 * anything a real name depends on. Returns the paths removed.
 */
export function removeStaleTemps(dir: string): string[] {
  const names = namesIn(dir);
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    const p = join(dir, name);
    try {
      unlinkSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, p, 'removing a stale temp file');
    }
    removed.push(p);
  }
  if (removed.length > 0) fsyncDir(dir);
  return removed;
}

/** fsync a directory, so the names created, renamed or removed in it are durable. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, DIR_FLAGS);
  } catch (e) {
    throw fsError(e, dir, 'opening the directory to fsync it');
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    throw fsError(e, dir, 'fsyncing the directory');
  } finally {
    closeSync(fd);
  }
}

/**
 * mkdir -p, and fsync the parent of every directory it created (top down), so the new directories
 * survive a crash along with what goes in them.
 */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  let d = dir;
  for (;;) {
    try {
      fstatDir(d);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, d, 'checking the directory');
      missing.push(d);
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m, { mode: 0o700 }); // backups hold the cluster's data; etcd keeps its dirs 0700 too
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, m, 'creating the directory');
    }
    fsyncDir(dirname(m));
  }
}

function fstatDir(d: string): void {
  const fd = openSync(d, DIR_FLAGS);
  try {
    if (!fstatSync(fd).isDirectory()) throw new IoError(`${d}: exists and is not a directory`);
  } finally {
    closeSync(fd);
  }
}

/** Write all of `b` at `position` (writeSync may write less than asked). */
function writeAll(fd: number, b: Uint8Array, position: number, path: string): void {
  let done = 0;
  try {
    while (done < b.length) done += writeSync(fd, b, done, b.length - done, position + done);
  } catch (e) {
    throw fsError(e, path, `writing ${b.length} bytes at offset ${position}`);
  }
}

/** Read exactly `length` bytes at `position` into `buf`; fewer means the file shrank under us. */
function readExactly(fd: number, buf: Uint8Array, length: number, position: number, path: string): void {
  let got = 0;
  try {
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, position + got);
      if (n === 0) throw new IoError(`${path}: ended at byte ${position + got} while reading ${length} bytes at offset ${position} (did it change under us?)`);
      got += n;
    }
  } catch (e) {
    if (e instanceof IoError) throw e;
    throw fsError(e, path, `reading ${length} bytes at offset ${position}`);
  }
}

/**
 * Copy `length` bytes of `srcFd` from `srcPos` to `dstFd` at `dstPos`, one chunk at a time.
 * Returns nothing; feeds each chunk to `onChunk` (used to hash while copying).
 */
export function copyRange(
  srcFd: number,
  srcPath: string,
  dstFd: number,
  dstPath: string,
  length: number,
  srcPos = 0,
  dstPos = 0,
  onChunk?: (chunk: Uint8Array) => void,
): void {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(length, 1)));
  for (let done = 0; done < length; ) {
    const n = Math.min(buf.length, length - done);
    const chunk = buf.subarray(0, n);
    readExactly(srcFd, chunk, n, srcPos + done, srcPath);
    onChunk?.(chunk);
    writeAll(dstFd, chunk, dstPos + done, dstPath);
    done += n;
  }
}

/** sha256 (lower-case hex) and size of a regular file (never a FIFO or a symlink's target), read in bounded chunks. */
export function sha256File(path: string): { sha256: string; size: number } {
  const { fd, st } = openRegularForRead(path, 'hashing');
  try {
    const size = st.size;
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(size, 1)));
    for (let done = 0; done < size; ) {
      const n = Math.min(buf.length, size - done);
      readExactly(fd, buf, n, done, path);
      h.update(buf.subarray(0, n));
      done += n;
    }
    return { sha256: h.digest('hex'), size };
  } finally {
    closeSync(fd);
  }
}

interface Original {
  size: number;
  mode: number;
  uid: number;
  gid: number;
}

function statOriginal(fd: number, path: string): Original {
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new IoError(`${path}: not a regular file`);
    return { size: st.size, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch (e) {
    if (e instanceof IoError) throw e;
    throw fsError(e, path, 'reading its size and mode');
  }
}

/** How replaceVia finishes the file it built. */
export interface ReplaceOptions {
  /** chown the new file to this (only when running as root: a repaired file keeps etcd's user) */
  owner?: { uid: number; gid: number } | undefined;
  /**
   * Never replace an existing `path`: the temp is hard-linked to it (link(2) fails if the name
   * exists, even if it appeared a moment ago) instead of renamed over it. IoError if it exists.
   */
  noReplace?: boolean | undefined;
  /**
   * Called with the finished, fsynced temp file (fd still open for writing) just before it takes
   * the real name. Return true to keep the fd open (the caller now owns it: e.g. it holds an OFD
   * lock on the new inode, so a lock held on the old file carries over to the new one).
   */
  beforeRename?: ((fd: number, tmp: string) => boolean) | undefined;
}

/**
 * The one temp-then-rename sequence every writer here shares: create the temp (exclusively, after
 * removing a leftover of the same name), let `fill` write it, set the mode (and owner when root),
 * fsync, rename over `path`, fsync the directory. On an error the temp is removed and `path` is untouched.
 */
export function replaceVia(
  path: string,
  mode: number,
  pointPrefix: string,
  fill: (fd: number, tmp: string) => void,
  opts: ReplaceOptions = {},
): void {
  const tmp = tempPathFor(path);
  const dir = dirname(path);
  try {
    unlinkSync(tmp);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, tmp, 'removing an old temp file');
  }
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode & 0o777);
  } catch (e) {
    throw fsError(e, tmp, 'creating the temp file');
  }
  let renamed = false;
  try {
    let keepOpen = false;
    try {
      fill(fd, tmp);
      const owner = opts.owner;
      if (owner && typeof process.getuid === 'function' && process.getuid() === 0) fchownSync(fd, owner.uid, owner.gid);
      // after chown (which clears set-id bits) and never beyond rwx: no set-id or sticky bit is ever created
      fchmodSync(fd, mode & 0o777); // openSync's mode is filtered by the umask
      fsyncSync(fd);
      keepOpen = opts.beforeRename?.(fd, tmp) ?? false;
    } finally {
      if (!keepOpen) closeSync(fd);
    }
    crashPoint(`${pointPrefix}:tmp-synced`);
    try {
      if (opts.noReplace) {
        linkSync(tmp, path); // never replaces: EEXIST if the name exists
        renamed = true;
        unlinkSync(tmp);
      } else {
        renameSync(tmp, path);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new IoError(`${path}: already exists; not replacing it`);
      throw fsError(e, path, `renaming ${basename(tmp)} over it`);
    }
    renamed = true;
    crashPoint(`${pointPrefix}:renamed`);
    fsyncDir(dir);
  } catch (e) {
    if (!renamed) {
      try {
        unlinkSync(tmp);
      } catch {
        // the original error is the one worth reporting
      }
    }
    throw e instanceof Error && 'exitCode' in e ? e : fsError(e, path, 'replacing atomically');
  }
}

/**
 * Create or replace `path` with the bytes `chunks` gives, atomically: a crash leaves either the old
 * file (or no file) or the complete new one. `chunks` is a list of byte arrays or a function that
 * calls `write` for each piece (so big outputs can be produced piece by piece).
 */
export function writeFileAtomic(
  path: string,
  chunks: Iterable<Uint8Array> | ((write: (b: Uint8Array) => void) => void),
  opts: { mode: number; noReplace?: boolean },
): void {
  writeAtomicAs(path, chunks, opts.mode, 'write', { noReplace: opts.noReplace });
}

/** writeFileAtomic with its own crash-point names (the backup manifest uses `manifest:`). */
export function writeAtomicAs(
  path: string,
  chunks: Iterable<Uint8Array> | ((write: (b: Uint8Array) => void) => void),
  mode: number,
  pointPrefix: string,
  opts: ReplaceOptions = {},
): void {
  replaceVia(path, mode, pointPrefix, (fd, tmp) => {
    let pos = 0;
    let first = true;
    const write = (b: Uint8Array): void => {
      writeAll(fd, b, pos, tmp);
      pos += b.length;
      if (first && pointPrefix === 'write') crashPoint('write:first-chunk');
      first = false;
    };
    if (typeof chunks === 'function') chunks(write);
    else for (const c of chunks) write(c);
  }, opts);
}

/** Zeros into bytes [from, end) of `fd` (the temp file `tmp`), CHUNK_BYTES at a time: etcd's preallocation. */
function writeZeros(fd: number, tmp: string, from: number, end: number): void {
  const zeros = Buffer.alloc(Math.min(CHUNK_BYTES, Math.max(end - from, 1)));
  for (let pos = from; pos < end; ) {
    const n = Math.min(zeros.length, end - pos);
    writeAll(fd, n === zeros.length ? zeros : zeros.subarray(0, n), pos, tmp);
    pos += n;
  }
}

/**
 * The WAL repair primitive. Replace `path` with a file whose first `keepBytes` are the original's
 * and whose bytes from there up to `zeroFillTo` (default: the original size) are zeros — a segment
 * cut after its last good record and zero-filled as etcd preallocates. Atomic, streamed in
 * CHUNK_BYTES pieces, keeping the file's mode (and owner when run as root).
 */
export function replaceWithTruncated(path: string, keepBytes: number, opts: { zeroFillTo?: number; beforeRename?: ReplaceOptions['beforeRename'] } = {}): void {
  withOriginal(path, (srcFd, orig) => {
    const end = opts.zeroFillTo ?? orig.size;
    if (!Number.isSafeInteger(keepBytes) || keepBytes < 0 || keepBytes > orig.size) {
      throw new Error(`replaceWithTruncated(${path}): keepBytes ${keepBytes} outside the file (0..${orig.size})`);
    }
    if (!Number.isSafeInteger(end) || end < keepBytes) {
      throw new Error(`replaceWithTruncated(${path}): zeroFillTo ${end} is below keepBytes ${keepBytes}`);
    }
    replaceVia(
      path,
      orig.mode,
      'truncate',
      (fd, tmp) => {
        copyRange(srcFd, path, fd, tmp, keepBytes);
        crashPoint('truncate:prefix-written');
        writeZeros(fd, tmp, keepBytes, end);
      },
      { owner: orig, beforeRename: opts.beforeRename },
    );
  });
}

/**
 * Replace `path` with a copy of itself that has `bytes` written at `atOffset` (which may extend
 * it), atomically, keeping mode and owner. Used to add records in the zero-filled end of a segment.
 */
export function appendAtomic(path: string, bytes: Uint8Array, atOffset: number, opts: { beforeRename?: ReplaceOptions['beforeRename'] } = {}): void {
  withOriginal(path, (srcFd, orig) => {
    if (!Number.isSafeInteger(atOffset) || atOffset < 0 || atOffset > orig.size) {
      throw new Error(`appendAtomic(${path}): offset ${atOffset} outside the file (0..${orig.size})`);
    }
    replaceVia(
      path,
      orig.mode,
      'append',
      (fd, tmp) => {
        copyRange(srcFd, path, fd, tmp, orig.size);
        crashPoint('append:copied');
        writeAll(fd, bytes, atOffset, tmp);
      },
      { owner: orig, beforeRename: opts.beforeRename },
    );
  });
}

function withOriginal<T>(path: string, f: (fd: number, orig: Original) => T): T {
  const { fd } = openRegularForRead(path, 'rewriting');
  try {
    return f(fd, statOriginal(fd, path));
  } finally {
    closeSync(fd);
  }
}

/** Unlink `path` and fsync its directory. Returns false (and does nothing) when it is already gone. */
export function removeFile(path: string): boolean {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fsError(e, path, 'removing');
  }
  crashPoint('remove:unlinked');
  fsyncDir(dirname(path));
  return true;
}

/**
 * Replace `path` atomically with its first `keepBytes` bytes, then what `produce` emits, then zeros
 * up to `size` (or 8 bytes past the new data, whichever is larger): a repaired segment keeps its
 * preallocated size, and no byte of the old records is left after the new end for a decoder to
 * trip on. `produce` may read the original file: it stays in place until the rename. Returns the
 * offset where the produced bytes end.
 */
export function rewriteTail(
  path: string,
  keepBytes: number,
  produce: (emit: (b: Uint8Array) => void) => void,
  size: number,
  opts: { beforeRename?: ReplaceOptions['beforeRename'] } = {},
): number {
  return withOriginal(path, (srcFd, orig) => {
    if (!Number.isSafeInteger(keepBytes) || keepBytes < 0 || keepBytes > orig.size) {
      throw new Error(`rewriteTail(${path}): keepBytes ${keepBytes} outside the file (0..${orig.size})`);
    }
    let at = keepBytes;
    replaceVia(
      path,
      orig.mode,
      'rewrite',
      (fd, tmp) => {
        copyRange(srcFd, path, fd, tmp, keepBytes);
        crashPoint('rewrite:prefix-written');
        produce((b) => {
          writeAll(fd, b, at, tmp);
          at += b.length;
        });
        const end = Math.max(size, at + 8);
        writeZeros(fd, tmp, at, end);
      },
      { owner: orig, beforeRename: opts.beforeRename },
    );
    return at;
  });
}

/**
 * Rename `src` to `dst` in the same directory and fsync it. Refuses to replace an existing `dst`:
 * a repair only renames a segment to a name no file has.
 */
export function renameNoReplace(src: string, dst: string): void {
  if (existsSync(dst)) throw new IoError(`${dst}: already exists; not renaming ${basename(src)} over it`);
  try {
    renameSync(src, dst);
  } catch (e) {
    throw fsError(e, dst, `renaming ${basename(src)} to it`);
  }
  crashPoint('rename:renamed');
  fsyncDir(dirname(dst));
}
