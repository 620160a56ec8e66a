/**
 * Writing a bbolt file built by src/format/bbolt/writer.ts, crash-safely: the pages go into a temp
 * file in the destination's directory at their offsets (data pages first, the two meta pages at
 * offset 0 last, see the writer's contract), then the temp is fsynced, renamed over the
 * destination and the directory fsynced — atomic.ts's `replaceVia`, the sequence every writer here
 * shares. A crash leaves the old file (or none) or the complete new one, never a mix; an error
 * removes the temp. The file gets mode 0600, as etcd creates `member/snap/db`.
 *
 * Crash points (WAL_DOCTOR_CRASH_AT): `bolt:tmp-synced`, `bolt:renamed`.
 */
import { closeSync, copyFileSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { DoctorError, IoError, UsageError, fsError } from '../errors.js';
import { copyDb } from '../format/bbolt/writer-copy.js';
import type { CopyOptions, CopySummary } from '../format/bbolt/writer-copy.js';
import type { BoltChunk, BoltWriteSummary, ChunkSink } from '../format/bbolt/writer.js';
import { openBoltFile } from './bolt-file.js';
import type { OpenedBoltFile } from './bolt-file.js';
import { replaceVia } from './atomic.js';

export interface BoltWriteFileOptions {
  /** File mode. Default 0o600 (etcd's db mode). */
  mode?: number;
}

/**
 * Create or replace `path` with the file `produce` writes into the sink it is given (typically
 * `sink => writeBolt(buckets, sink)` or `sink => copyDb(db, sink, opts)`), and return what
 * `produce` returned. Every chunk is written at its offset; afterwards the file must be exactly
 * `summary.fileSize` bytes, or this throws (a writer bug) and `path` is left untouched.
 * The directory must exist. Throws IoError/NotEtcdError on I/O failures; anything `produce` throws
 * (e.g. a RangeError for out-of-order keys) is rethrown as is, after the temp file is removed.
 */
export function writeBoltFile<T extends BoltWriteSummary>(path: string, produce: (sink: ChunkSink) => T, options: BoltWriteFileOptions = {}): T {
  return writeBoltVia(path, produce, options, undefined);
}

/** writeBoltFile, with `prepare` filling the temp file first (the copy an edit is written over). */
function writeBoltVia<T extends BoltWriteSummary>(path: string, produce: (sink: ChunkSink) => T, options: BoltWriteFileOptions, prepare: ((fd: number, tmp: string) => void) | undefined): T {
  let result: T | undefined;
  let thrown: { error: unknown } | undefined;
  try {
    replaceVia(path, options.mode ?? 0o600, 'bolt', (fd, tmp) => {
      prepare?.(fd, tmp);
      const sink = (c: BoltChunk): void => writeAt(fd, tmp, c.bytes, c.offset);
      try {
        result = produce(sink);
      } catch (e) {
        // replaceVia would relabel a non-I/O error as one; keep the original for the caller.
        if (!(e instanceof DoctorError)) thrown = { error: e };
        throw e;
      }
      let size: number;
      try {
        size = fstatSync(fd).size;
      } catch (e) {
        throw fsError(e, tmp, 'reading its size');
      }
      if (size !== result.fileSize) {
        const bug = new Error(`${tmp}: the bbolt writer produced ${size} bytes, its summary says ${result.fileSize} (pgid ${result.pgid} × ${result.pageSize})`);
        thrown = { error: bug };
        throw bug;
      }
    });
  } catch (e) {
    throw thrown ? thrown.error : e;
  }
  return result as T;
}

/**
 * Create or replace `path` with a copy of the bbolt file `srcPath`'s first `copyBytes` (a
 * `snapshot save` trailer left off) with the pages `produce` writes into the sink put over it
 * (typically `sink => editDb(db, sink, opts)`: a commit on the copy), crash-safely as
 * writeBoltFile. The copy is made by the kernel (copy_file_range), so the bytes that do not change
 * never pass through this process. Afterwards the file must be exactly `summary.fileSize` bytes,
 * or this throws (a writer bug) and `path` is left untouched.
 *
 * `head.matches` is shown the copy's first `head.bytes` (its two meta pages) and must say they are
 * the ones the edit was planned from, or this throws an IoError and nothing is replaced. bbolt never
 * overwrites a page its current meta reaches (a commit writes new pages, then a meta), so the same
 * metas mean the same tree as the one read, even if the file was being written meanwhile.
 */
export function writeEditedBoltCopy<T extends BoltWriteSummary>(
  srcPath: string,
  copyBytes: number,
  head: { bytes: number; matches: (copied: Uint8Array) => boolean },
  path: string,
  produce: (sink: ChunkSink) => T,
  options: BoltWriteFileOptions = {},
): T {
  if (resolve(srcPath) === resolve(path)) throw new UsageError(`${path}: refusing to edit a bbolt file in place (write the copy elsewhere)`);
  return writeBoltVia(path, produce, options, (fd, tmp) => {
    try {
      // Onto the temp file replaceVia opened (the same inode: libuv opens it without O_EXCL, then truncates it).
      copyFileSync(srcPath, tmp);
      const size = fstatSync(fd).size;
      if (size < copyBytes) throw new IoError(`${srcPath}: shrank while it was copied (${size} bytes, ${copyBytes} expected)`);
      if (size > copyBytes) ftruncateSync(fd, copyBytes);
      // replaceVia's fd is write-only: the copy is read back through its own
      const copied = new Uint8Array(head.bytes);
      const rfd = openSync(tmp, 'r');
      let got: number;
      try {
        got = readSync(rfd, copied, 0, head.bytes, 0);
      } finally {
        closeSync(rfd);
      }
      if (got !== head.bytes || !head.matches(copied)) throw new IoError(`${srcPath}: changed while it was read (its meta pages are not the ones checked): is etcd running on it? Stop it, or rebuild from a copy`);
    } catch (e) {
      throw e instanceof DoctorError ? e : fsError(e, tmp, `copying ${srcPath} into it`);
    }
  });
}

/** Write all of `b` at `position` (writeSync may write less than asked). */
function writeAt(fd: number, tmp: string, b: Uint8Array, position: number): void {
  let done = 0;
  try {
    while (done < b.length) done += writeSync(fd, b, done, b.length - done, position + done);
  } catch (e) {
    throw fsError(e, tmp, `writing ${b.length} bytes at offset ${position}`);
  }
}

export interface CopyDbFileResult {
  summary: CopySummary;
  /** The source as opened (its findings: `source.db.findings`; already closed). */
  source: Pick<OpenedBoltFile, 'db' | 'trailer'>;
}

/**
 * Rewrite the bbolt file at `srcPath` (a db, a `.snap.db` or `snapshot save` output; a trailer is
 * verified and ignored) into a fresh compact file at `dstPath`, through copyDb's transform.
 * `dstPath` must not be `srcPath` (a rebuild writes a new data dir; the source stays as found).
 * A source without a usable meta yields a db with no buckets: look at `source.db.meta` and
 * `summary.buckets` before using the result.
 */
export function copyDbFile(srcPath: string, dstPath: string, options: CopyOptions & BoltWriteFileOptions = {}): CopyDbFileResult {
  if (resolve(srcPath) === resolve(dstPath)) throw new UsageError(`${dstPath}: refusing to rewrite a bbolt file in place (write the copy elsewhere)`);
  const src = openBoltFile(srcPath);
  try {
    const summary = writeBoltFile(dstPath, (sink) => copyDb(src.db, sink, options), options);
    return { summary, source: src.trailer ? { db: src.db, trailer: src.trailer } : { db: src.db } };
  } finally {
    src.close();
  }
}
