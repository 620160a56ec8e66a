/**
 * A bbolt file on disk as a PageSource: positioned reads (fs.readSync) through a small cache of
 * aligned blocks, so walking a tree rereads branch pages from memory while a multi-GB db never is
 * loaded whole. Read-only: the file is opened O_RDONLY|O_NONBLOCK|O_NOFOLLOW, checked to be a regular
 * file, and never written.
 *
 * `read` hands out views of a block that stays valid for as long as the caller keeps it, so every
 * block read is a new buffer. V8 frees those only after tens of MB of them have piled up, which a
 * walk over a large db reaches: `readTransient` serves walks that keep nothing, from blocks that are
 * reused once the cache drops them (see `recyclable`), and reads that span blocks (overflow pages:
 * large values) from a small ring of buffers.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { openBolt } from '../format/bbolt/db.js';
import type { BoltDb, OpenOptions } from '../format/bbolt/db.js';
import type { PageSource } from '../format/bbolt/page.js';
import { verifySnapshotTrailer, withoutTrailer } from '../format/bbolt/snapshot-file.js';
import type { TrailerCheck } from '../format/bbolt/snapshot-file.js';
import { IoError } from '../errors.js';
import { fileKind } from './safe-open.js';

/**
 * An I/O failure on a bbolt file: an IoError (src/errors.ts, exit code "io") that also carries the
 * path, the operation and the OS error code for callers that want to tell them apart.
 */
export class BoltFileError extends IoError {
  readonly code: string | undefined;
  constructor(
    readonly path: string,
    readonly op: string,
    cause: unknown,
    message?: string,
  ) {
    const code = (cause as { code?: string } | undefined)?.code;
    super(message ?? `${path}: ${op} failed: ${code ?? (cause instanceof Error ? cause.message : String(cause))}`);
    this.code = code;
  }
}

export interface BoltFileOptions {
  /** Cache block size in bytes (power of two). Default 64 KiB. */
  blockSize?: number;
  /** Blocks kept. Default 64 (4 MiB with the default block size). */
  cacheBlocks?: number;
  /** Told how far into the file reads have reached (for progress bars on long copies). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

/** A read-only, file-backed PageSource with a bounded LRU block cache. Call close() when done. */
export class BoltFile implements PageSource {
  readonly size: number;
  private fd: number | undefined;
  private readonly blockSize: number;
  private readonly cacheBlocks: number;
  // Map keeps insertion order: re-inserting on hit makes it an LRU.
  private readonly cache = new Map<number, Uint8Array>();
  private readonly onProgress: ((bytesDone: number, bytesTotal: number) => void) | undefined;
  private reached = 0;
  // The block the last read came from: a tree walk reads many elements of one page in a row, and
  // they skip the LRU bookkeeping (it only matters when another block is asked for).
  private lastBlockNo = -1;
  private lastBlock: Uint8Array = new Uint8Array(0);
  // Blocks read for readTransient that no `read` has handed out since: when the cache drops one,
  // nobody may still rely on it, and its memory goes to `free` for the next transient miss.
  private readonly recyclable = new Set<Uint8Array>();
  private readonly free: Uint8Array[] = [];
  // readTransient's reads that span blocks, in turn (each grown to the largest such read).
  private readonly spans: Uint8Array[] = [];
  private nextSpan = 0;

  constructor(
    readonly path: string,
    options: BoltFileOptions = {},
  ) {
    this.onProgress = options.onProgress;
    this.blockSize = options.blockSize ?? 64 * 1024;
    this.cacheBlocks = Math.max(1, options.cacheBlocks ?? 64);
    // Only a regular file (a FIFO or device named db would block or never end), see safe-open.ts.
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw new BoltFileError(path, 'open', e, `${path}: is a symbolic link, expected a regular file; not following it`);
      throw new BoltFileError(path, 'open', e);
    }
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch (e) {
      closeSync(fd);
      throw new BoltFileError(path, 'stat', e);
    }
    if (!st.isFile()) {
      closeSync(fd);
      const code = st.isDirectory() ? 'EISDIR' : 'ENOTREG';
      throw new BoltFileError(path, 'open', { code }, `${path}: is ${fileKind(st)}, expected a regular file (a bbolt db); not reading it (${code})`);
    }
    this.fd = fd;
    this.size = st.size;
  }

  read(offset: number, length: number): Uint8Array {
    return this.readBytes(offset, length, false);
  }

  /**
   * `read` for a caller that keeps nothing: the bytes are valid until `cacheBlocks` more blocks
   * have been read (transiently or not), and until SPAN_RING more transient reads that span
   * blocks; then they may be overwritten.
   */
  readTransient(offset: number, length: number): Uint8Array {
    return this.readBytes(offset, length, true);
  }

  private readBytes(offset: number, length: number, transient: boolean): Uint8Array {
    const start = Math.max(0, offset);
    const end = Math.min(this.size, start + Math.max(0, length));
    if (this.onProgress && end > this.reached) {
      this.reached = end;
      this.onProgress(end, this.size);
    }
    if (end <= start) return new Uint8Array(0);
    const bs = this.blockSize;
    const first = Math.floor(start / bs);
    const last = Math.floor((end - 1) / bs);
    if (first === last) {
      const block = this.block(first, transient);
      // A block `read` hands out may be kept for ever: it is never reused.
      if (!transient && this.recyclable.size > 0) this.recyclable.delete(block);
      return block.subarray(start - first * bs, end - first * bs);
    }
    // Spans blocks (overflow pages, big chunks): read straight into a buffer, bypassing the cache;
    // a fresh one for `read` and for a read larger than etcd writes (a damaged size: kept for no
    // longer than its caller holds it), the next of the ring for a transient read.
    let out: Uint8Array;
    if (transient && end - start <= SPAN_MAX_BYTES) {
      const i = this.nextSpan;
      this.nextSpan = (i + 1) % SPAN_RING;
      let buf = this.spans[i];
      if (buf === undefined || buf.length < end - start) this.spans[i] = buf = unfilled(Math.max(end - start, 2 * bs));
      out = buf.subarray(0, end - start);
    } else out = unfilled(end - start);
    this.readFully(out, start);
    return out;
  }

  /**
   * The bytes at `offset` copied into `into` (as many as the file has), from a cached block when
   * one holds them, else read straight from the file: nothing is cached or allocated, so scattered
   * small rereads (HashKV confirming a key) cost a short read each instead of a 64 KiB block.
   */
  readInto(into: Uint8Array, offset: number): number {
    const start = Math.max(0, offset);
    const end = Math.min(this.size, start + into.length);
    if (end <= start) return 0;
    const bs = this.blockSize;
    const n = Math.floor(start / bs);
    if (n === Math.floor((end - 1) / bs)) {
      const cached = n === this.lastBlockNo ? this.lastBlock : this.cache.get(n);
      if (cached) {
        into.set(cached.subarray(start - n * bs, end - n * bs));
        return end - start;
      }
    }
    this.readFully(into.subarray(0, end - start), start);
    return end - start;
  }

  close(): void {
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      this.cache.clear();
      this.recyclable.clear();
      this.free.length = 0;
      this.spans.length = 0;
      this.lastBlockNo = -1;
      this.lastBlock = new Uint8Array(0);
      try {
        closeSync(fd);
      } catch (e) {
        throw new BoltFileError(this.path, 'close', e);
      }
    }
  }

  private block(n: number, transient: boolean): Uint8Array {
    if (n === this.lastBlockNo) return this.lastBlock;
    const b = this.lruBlock(n, transient);
    this.lastBlockNo = n;
    this.lastBlock = b;
    return b;
  }

  private lruBlock(n: number, transient: boolean): Uint8Array {
    const hit = this.cache.get(n);
    if (hit) {
      this.cache.delete(n);
      this.cache.set(n, hit);
      return hit;
    }
    const start = n * this.blockSize;
    const size = Math.min(this.blockSize, this.size - start);
    // A fresh buffer for `read` (its callers keep subarrays of it); a transient read reuses one.
    const reused = transient && size === this.blockSize ? this.free.pop() : undefined;
    const block = reused ?? unfilled(size);
    this.readFully(block, start);
    this.cache.set(n, block);
    if (transient) this.recyclable.add(block);
    if (this.cache.size > this.cacheBlocks) {
      const oldest = this.cache.keys().next().value as number;
      const dropped = this.cache.get(oldest)!;
      this.cache.delete(oldest);
      if (this.recyclable.delete(dropped) && dropped.length === this.blockSize) this.free.push(dropped);
    }
    return block;
  }

  private readFully(buf: Uint8Array, position: number): void {
    if (this.fd === undefined) throw new BoltFileError(this.path, 'read', new Error('file is closed'));
    let done = 0;
    while (done < buf.length) {
      let n: number;
      try {
        n = readSync(this.fd, buf, done, buf.length - done, position + done);
      } catch (e) {
        throw new BoltFileError(this.path, `read of ${buf.length - done} bytes at offset ${position + done}`, e);
      }
      if (n === 0) {
        buf.fill(0, done); // the file shrank under us: the rest reads as zero, and lengths were checked against size
        break;
      }
      done += n;
    }
  }
}

/** How many transient reads that span blocks are served before their buffer is used again. */
const SPAN_RING = 4;
/** The largest such read served from the ring (etcd's requests are 1.5 MiB by default). */
const SPAN_MAX_BYTES = 16 << 20;

/**
 * A plain Uint8Array of `n` bytes that are not zeroed first (every byte is then read into): a
 * verify reads the db several times over, and zero-filling each fresh 64 KiB block cost as much
 * as reading it. Its own ArrayBuffer, not Node's shared pool, and not a Buffer (whose subarray is
 * slower and whose type would leak into values compared as Uint8Array).
 */
function unfilled(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** SHA-256 over chunks, with node:crypto. */
export function sha256Chunks(chunks: Iterable<Uint8Array>): Uint8Array {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return new Uint8Array(h.digest());
}

export interface OpenedBoltFile {
  file: BoltFile;
  db: BoltDb;
  /** Present when the file has a `snapshot save` trailer (size % 512 == 32). */
  trailer?: TrailerCheck;
  close(): void;
}

/**
 * Open a bbolt file (member/snap/db, a `.snap.db`, or `etcdctl snapshot save` output) read-only.
 * A snapshot-save trailer is verified (SHA-256) and hidden from the reader. Throws BoltFileError on
 * I/O errors only; damage is in `db.findings` and `trailer.findings`.
 */
export function openBoltFile(path: string, options: OpenOptions & BoltFileOptions & { verifyTrailer?: boolean } = {}): OpenedBoltFile {
  const file = new BoltFile(path, options);
  try {
    let trailer: TrailerCheck | undefined;
    if (file.size % 512 === 32 && options.verifyTrailer !== false) trailer = verifySnapshotTrailer(file, sha256Chunks);
    const db = openBolt(withoutTrailer(file), options);
    const opened: OpenedBoltFile = { file, db, close: () => file.close() };
    if (trailer) opened.trailer = trailer;
    return opened;
  } catch (e) {
    file.close();
    throw e;
  }
}
