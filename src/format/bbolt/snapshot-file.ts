/**
 * `etcdctl snapshot save` files: a bbolt image of exactly pgid × P bytes followed by the SHA-256 of
 * that image as 32 raw bytes. etcd recognises the trailer by size alone (size % 512 == 32); a raw
 * copy of `member/snap/db` is a whole number of pages and so has none.
 *
 * This module does no hashing itself (format/ stays free of node:crypto): the caller passes a
 * SHA-256 function that consumes the image in chunks.
 */
import type { BboltFinding } from './findings.js';
import type { PageSource } from './page.js';

export const TRAILER_SIZE = 32;
const CHUNK = 1 << 20;

/** True when etcd would treat the last 32 bytes as a SHA-256 trailer. */
export function hasSnapshotTrailer(size: number): boolean {
  return size % 512 === TRAILER_SIZE;
}

/** A streaming SHA-256: gets the image in order, returns the 32-byte digest. */
export type Sha256 = (chunks: Iterable<Uint8Array>) => Uint8Array;

export interface TrailerCheck {
  present: boolean;
  /** Bytes before the trailer (the whole file when there is none). */
  imageSize: number;
  /** Hex of the stored trailer and of the computed digest, when present. */
  stored?: string;
  computed?: string;
  ok: boolean;
  findings: BboltFinding[];
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** The image part in chunks of at most 1 MiB (bounded memory for multi-GB files). */
export function* imageChunks(source: PageSource, imageSize: number): Generator<Uint8Array> {
  for (let off = 0; off < imageSize; off += CHUNK) yield source.read(off, Math.min(CHUNK, imageSize - off));
}

/**
 * Verify a snapshot-save trailer. No trailer is a finding too (`bbolt-snapshot-no-trailer`); for a
 * raw `member/snap/db` that is expected, and the caller decides whether it matters.
 */
export function verifySnapshotTrailer(source: PageSource, sha256: Sha256): TrailerCheck {
  if (!hasSnapshotTrailer(source.size)) {
    return { present: false, imageSize: source.size, ok: false, findings: [{ code: 'bbolt-snapshot-no-trailer', offset: source.size, found: source.size % 512 }] };
  }
  const imageSize = source.size - TRAILER_SIZE;
  const stored = hex(source.read(imageSize, TRAILER_SIZE));
  const computed = hex(sha256(imageChunks(source, imageSize)));
  const ok = stored === computed;
  return {
    present: true,
    imageSize,
    stored,
    computed,
    ok,
    findings: ok ? [] : [{ code: 'bbolt-snapshot-hash-mismatch', offset: imageSize, expected: computed, found: stored }],
  };
}

/** A view of the source without its trailer (bbolt ignores bytes past pgid × P anyway). */
export function withoutTrailer(source: PageSource): PageSource {
  if (!hasSnapshotTrailer(source.size)) return source;
  const size = source.size - TRAILER_SIZE;
  const readInto = source.readInto?.bind(source);
  const readTransient = source.readTransient?.bind(source);
  return {
    size,
    read: (offset, length) => source.read(offset, Math.max(0, Math.min(length, size - offset))),
    ...(readInto ? { readInto: (into: Uint8Array, offset: number) => readInto(into.subarray(0, Math.max(0, Math.min(into.length, size - offset))), offset) } : {}),
    ...(readTransient ? { readTransient: (offset: number, length: number) => readTransient(offset, Math.max(0, Math.min(length, size - offset))) } : {}),
  };
}
