import { closeSync, readSync } from 'node:fs';
import type { ByteSource } from '../format/bytes.js';
import { fsError } from '../errors.js';
import { openRegularForRead } from './safe-open.js';

/**
 * A read-only ByteSource over a file, read with positioned reads (no whole-file buffering).
 * Only a regular file is opened (O_NONBLOCK|O_NOFOLLOW, then fstat): a FIFO, device or symlink
 * is an IoError naming it, never a read that blocks. The caller closes it.
 */
export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;

  constructor(readonly path: string) {
    const { fd, st } = openRegularForRead(path);
    this.fd = fd;
    this.size = st.size;
  }

  read(offset: number, length: number): Uint8Array {
    const buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.size - offset)));
    const got = this.readInto(buf, offset);
    return got === buf.length ? buf : buf.subarray(0, got);
  }

  readInto(into: Uint8Array, offset: number): number {
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    const want = Math.max(0, Math.min(into.length, this.size - offset));
    let got = 0;
    try {
      while (got < want) {
        const n = readSync(this.fd, into, got, want - got, offset + got);
        if (n === 0) break;
        got += n;
      }
    } catch (e) {
      throw fsError(e, this.path, `reading ${want} bytes at offset ${offset}`);
    }
    return got;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
