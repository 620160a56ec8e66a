/**
 * `.snap` files: one snappb.snapshot message — a CRC-32C (not chained, seed 0) of `data`, and
 * `data`, a marshalled raftpb.Snapshot (the v2 store as JSON plus raft metadata). etcd checks them
 * in this order at boot (spec etcd-snap.md §5.2) and renames a failing one to `<name>.broken`.
 */
import CRC32C from 'crc-32/crc32c.js';
import { type RaftSnapshot, decodeRaftSnapshot, decodeSnapFile } from '../proto/messages.js';

export type SnapCheck =
  | { ok: true; snapshot: RaftSnapshot; crc: number; dataBytes: number }
  | { ok: false; code: 'snap-empty'; reason: string }
  | { ok: false; code: 'snap-decode-error'; error: string }
  | { ok: false; code: 'snap-crc-mismatch'; stored: number; computed: number }
  | { ok: false; code: 'snap-raft-decode-error'; error: string };

/** The error text etcd logs for a failed check. */
export function snapCheckError(c: SnapCheck): string | undefined {
  if (c.ok) return undefined;
  switch (c.code) {
    case 'snap-empty':
      return 'snap: empty snapshot';
    case 'snap-crc-mismatch':
      return 'snap: crc mismatch';
    case 'snap-decode-error':
    case 'snap-raft-decode-error':
      return c.error;
  }
}

export function checkSnapFile(b: Uint8Array): SnapCheck {
  if (b.length === 0) return { ok: false, code: 'snap-empty', reason: 'the file is 0 bytes' };
  let file;
  try {
    file = decodeSnapFile(b);
  } catch (e) {
    return { ok: false, code: 'snap-decode-error', error: e instanceof Error ? e.message : String(e) };
  }
  if (file.data === undefined || file.data.length === 0) return { ok: false, code: 'snap-empty', reason: 'no data field' };
  if (file.crc === 0) return { ok: false, code: 'snap-empty', reason: 'crc field is 0' };
  const computed = CRC32C.buf(file.data, 0) >>> 0;
  if (computed !== file.crc >>> 0) return { ok: false, code: 'snap-crc-mismatch', stored: file.crc >>> 0, computed };
  try {
    return { ok: true, snapshot: decodeRaftSnapshot(file.data), crc: computed, dataBytes: file.data.length };
  } catch (e) {
    return { ok: false, code: 'snap-raft-decode-error', error: e instanceof Error ? e.message : String(e) };
  }
}
