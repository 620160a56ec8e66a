/**
 * "Is there room?" asked before the first byte is written, so a full disk is a refusal that names
 * the numbers, not a half-written backup that keeps the disk 100 % full.
 *
 * Space is counted per file system (st_dev of the directory): the backup beside the data dir and
 * the repair's temp files usually share one, and then their needs add up. `f_bavail` is used (what
 * a non-root process may still use), so the blocks the file system reserves for root — which
 * etcd, running as its own user, cannot use anyway — are never counted as free.
 */
import { statSync, statfsSync } from 'node:fs';
import { IoError, fsError } from '../errors.js';

/** What the checks add on top of the bytes counted: manifests, directories, metadata blocks. */
export function spaceMargin(bytes: number): number {
  return Math.max(4 << 20, Math.ceil(bytes / 100));
}

export interface SpaceNeed {
  /** an existing directory on the file system that must hold `bytes` */
  dir: string;
  bytes: number;
  /** for the message: "the backup", "the repair's temp copy of member/wal/x.wal" */
  what: string;
}

/** Round up to whole blocks: a file of 1 byte takes a block. */
export function blocksOf(bytes: number, blockBytes = 4096): number {
  return Math.ceil(bytes / blockBytes) * blockBytes;
}

/**
 * Throw IoError (exit 74) naming the needed and free bytes when any file system lacks room for what
 * `needs` will write there (plus a margin). Nothing is written either way.
 */
export function assertFreeSpace(needs: readonly SpaceNeed[]): void {
  const byDev = new Map<string, { dir: string; bytes: number; whats: string[] }>();
  for (const n of needs) {
    if (n.bytes <= 0) continue;
    let dev: string;
    try {
      dev = String(statSync(n.dir).dev);
    } catch (e) {
      throw fsError(e, n.dir, 'finding its file system');
    }
    const g = byDev.get(dev) ?? { dir: n.dir, bytes: 0, whats: [] };
    g.bytes += n.bytes;
    g.whats.push(`${n.what} ${n.bytes.toLocaleString('en-US')} bytes`);
    byDev.set(dev, g);
  }
  for (const g of byDev.values()) {
    let free: number;
    try {
      const s = statfsSync(g.dir);
      free = s.bavail * s.bsize;
    } catch (e) {
      throw fsError(e, g.dir, 'reading its free space (statfs)');
    }
    const margin = spaceMargin(g.bytes);
    const needed = g.bytes + margin;
    if (free < needed) {
      throw new IoError(
        `not enough free space on the file system of ${g.dir}: ${needed.toLocaleString('en-US')} bytes needed (${g.whats.join(' + ')} + ${margin.toLocaleString('en-US')} margin), ${free.toLocaleString('en-US')} free; nothing was changed`,
      );
    }
  }
}
