// Shared by the bbolt tests: locating real files read in place, and byte edits on in-memory copies.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesSource, openBolt } from '../../../src/format/bbolt/index.js';
import type { BboltFinding, BoltDb } from '../../../src/format/bbolt/index.js';

/** Repository root (tests run from dist/test/..., sources live in test/...). */
export const REPO = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
})();

export { EXTERNAL, externalFile } from '../../support/external.js';

/** A writable in-memory copy of a real file, for damaging. */
export function copyOf(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

export function open(bytes: Uint8Array): BoltDb {
  return openBolt(bytesSource(bytes));
}

export function codes(findings: readonly BboltFinding[]): string[] {
  return findings.map((f) => f.code);
}

export function le32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v, true);
}

export function le16(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint16(at, v, true);
}

export function le64(b: Uint8Array, at: number, v: bigint): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setBigUint64(at, v, true);
}

export function rd64(b: Uint8Array, at: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
