/**
 * Random-access bytes for the decoders. The io layer implements it over a file (pg_waldump's
 * page-read callback is the model): decoders never see a path, and a test can hand them a
 * Uint8Array. `read` may return fewer bytes than asked only at the end of the source.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  /** Optional: fill `into` from `offset`; returns the bytes read. Lets a reader reuse one buffer. */
  readInto?(into: Uint8Array, offset: number): number;
}

/** A ByteSource over bytes already in memory (tests, small files). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}

/**
 * Read-ahead window over a ByteSource, so that a decoder asking for many small records costs one
 * read per window rather than one per record. Memory is bounded by the window size, or by the
 * largest single read asked for. The bytes `bytes()` returns stay valid only until its next call
 * (the window's buffer is reused): callers decode them, or copy what they keep.
 */
export class ReadWindow {
  private start = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private store: Uint8Array = new Uint8Array(0);

  constructor(
    private source: ByteSource,
    private readonly windowBytes = 4 << 20,
  ) {}

  /**
   * Go on over another source with the same buffer (the next segment of a walk): a window per
   * segment left each one's 4 MiB for the GC, which a walk of small records seldom runs — 36 MB
   * on a walk of 9 segments.
   */
  moveTo(source: ByteSource): this {
    this.source = source;
    this.start = 0;
    this.buf = new Uint8Array(0);
    return this;
  }

  get size(): number {
    return this.source.size;
  }

  /** Bytes [offset, offset+length) clipped to the end of the source. */
  bytes(offset: number, length: number): Uint8Array {
    const i = this.locate(offset, length);
    return this.buf.subarray(i, Math.min(this.buf.length, i + Math.min(offset + length, this.source.size) - offset));
  }

  /** The window's current bytes; `locate` says where a range starts in it (valid until the next call). */
  get buffer(): Uint8Array {
    return this.buf;
  }

  /**
   * Like `bytes`, without making a view (for a decoder reading a few bytes per record): brings
   * [offset, offset+length) clipped to the end of the source into `buffer`, returns its index there.
   */
  locate(offset: number, length: number): number {
    const end = Math.min(offset + length, this.source.size);
    if (offset >= this.start && end <= this.start + this.buf.length) return offset - this.start;
    const want = Math.max(end - offset, Math.min(this.windowBytes, this.source.size - offset));
    if (this.source.readInto) {
      // One buffer for the whole walk: what a previous call returned is valid until the next call.
      if (this.store.length < want) this.store = new Uint8Array(Math.max(want, this.windowBytes));
      const got = this.source.readInto(this.store.subarray(0, want), offset);
      this.buf = this.store.subarray(0, got);
    } else {
      this.buf = this.source.read(offset, want);
    }
    this.start = offset;
    return 0;
  }
}

/** Zeros to compare runs of bytes with (Buffer#compare is memcmp: ~20x a JS loop over a zeroed tail). */
const ZEROS = Buffer.alloc(64 * 1024);

/** Index of the first non-zero byte in `b` at or after `from`, or -1. */
export function firstNonZero(b: Uint8Array, from = 0): number {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  for (let i = from; i < b.length; ) {
    const n = Math.min(ZEROS.length, b.length - i);
    if (n >= 256 && buf.compare(ZEROS, 0, n, i, i + n) === 0) {
      i += n;
      continue;
    }
    for (const end = i + n; i < end; i++) if (b[i] !== 0) return i;
  }
  return -1;
}
