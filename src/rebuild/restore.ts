/**
 * `snapshot restore` as a library: a new data dir from a bbolt db (a `snapshot save` file, a
 * `member/snap/db`, a `.snap.db`), with what `etcdutl snapshot restore` (3.5) or `etcdctl snapshot
 * restore` (3.4) writes for the same flags (spec etcd-restore.md §7.3, recipe §7.6):
 *
 *   member/snap/db        a copy of the source with one commit on it, as etcdutl makes it:
 *                         `members` replaced by the new members, `members_removed` emptied,
 *                         meta/consistent_index = N and (3.5) meta/term = 1        mode 0600
 *   member/snap/0000000000000001-<N>.snap   the v2 store of the new membership      mode 0644
 *   member/wal/0000000000000000-0000000000000000.wal   see wal.ts, 64,000,000 bytes mode 0600
 *   directories 0700
 *
 * Plan, then write: planRestore is pure (flags → IDs, file bytes, db edits) and throws etcd's own
 * errors for bad flags; writeRestoredDataDir builds everything in `<out>.tmp-<pid>` beside the
 * target (each file temp + fsync + rename, each directory fsynced) and renames that directory to
 * `<out>` at the end, so `<out>` is either absent/empty or complete. A kill leaves only the build
 * dir, which the next restore to the same `<out>` removes (removeStaleBuildDirs). Crash points
 * (WAL_DOCTOR_CRASH_AT): bolt:*, write:* (the .snap, then the WAL as #2), rebuild:built (all files
 * in the build dir, not renamed), rebuild:renamed (renamed, parent not yet fsynced).
 *
 * Where we differ from etcd on purpose:
 *  - 3.4 target: etcdctl 3.4 leaves the source's `members` bucket as it was (its delete misses,
 *    spec §7.3 step 5); we write the new members as 3.5 does. etcd 3.4 reads membership from the
 *    v2 store in the .snap, so this only removes stale data. 3.4 gets no meta/term (as etcdctl).
 *  - A db that check() finds anything wrong with (a bad freelist, keys out of order, a page out of
 *    bounds...) is not copied but rewritten from what its tree still holds, compact, with a fresh
 *    freelist, and the items it cannot keep are listed (etcdutl copies it as it is and panics, or
 *    etcd does later). A sound one is copied by the kernel and edited: one commit, as etcdutl's,
 *    that writes the changed buckets and the root bucket as new pages past the high-water mark and
 *    one meta page with NO_FREELIST (etcd's NoFreelistSync), so the file is the source's size or a
 *    few pages more (etcdutl reuses free pages instead), and the bytes that do not change never pass
 *    through this process.
 *  - meta/confState keeps the source's voters, as etcdutl does, unless `updateConfState` is set.
 */
import { join } from 'node:path';
import { NotEtcdError, RefusedError, UsageError } from '../errors.js';
import { buildThenRename, checkOutDir } from '../io/build-dir.js';
import type { BoltDb } from '../format/bbolt/db.js';
import { check } from '../format/bbolt/check.js';
import { TREE_LOSS_CODES } from '../format/bbolt/findings.js';
import { META_SIZE, decodeMeta } from '../format/bbolt/page.js';
import { copyDb, editDb, withKeys } from '../format/bbolt/writer-copy.js';
import type { BucketTransform, CopySummary } from '../format/bbolt/writer-copy.js';
import type { TrailerCheck } from '../format/bbolt/snapshot-file.js';
import { hex16 } from '../format/wal/names.js';
import { CHUNK_BYTES, ensureDir, fsyncDir, writeFileAtomic } from '../io/atomic.js';
import { assertOutside, enclosingDataDir } from '../io/paths.js';
import { writeBoltFile, writeEditedBoltCopy } from '../io/bolt-write.js';
import { openBoltFile } from '../io/bolt-file.js';
import { bootstrapMembers } from './ids.js';
import type { BootstrapFlags, BootstrapMember, Sha1 } from './ids.js';
import { sha1 as nodeSha1 } from './sha1.js';
import { memberJson } from './v2store.js';
import { SEGMENT_BYTES, restoreFileNames, restoreSnapFile, restoreWalRecords } from './wal.js';
import type { RestoreTarget } from './wal.js';

export type { RestoreTarget } from './wal.js';

export interface RestoreOptions extends BootstrapFlags {
  /** Whose output to reproduce: '3.4' (etcdctl 3.4), '3.5', '3.6' or '3.7' (etcdutl). */
  target: RestoreTarget;
  /** Also set meta/confState to the new voters (etcdutl leaves the source's). Default false. */
  updateConfState?: boolean;
}

export interface PlannedFile {
  /** Relative to the data dir. */
  path: string;
  mode: number;
  /** Final size in bytes. */
  size: number;
}

export interface RestorePlan {
  target: RestoreTarget;
  name: string;
  token: string;
  /** Ascending ID order. */
  members: BootstrapMember[];
  local: BootstrapMember;
  clusterId: bigint;
  /** N: the number of members, the raft index and commit of the restored log. */
  index: bigint;
  wal: PlannedFile & { records: Uint8Array };
  snap: PlannedFile & { bytes: Uint8Array };
  db: PlannedFile & {
    /** `members` bucket after the restore: key (hex ID, unpadded) → member JSON. */
    members: [string, string][];
    consistentIndex: bigint;
    /** meta/term: 1 for 3.5, untouched (undefined) for 3.4. */
    term: bigint | undefined;
    /** meta/confState JSON to write, when updateConfState. */
    confState: string | undefined;
  };
}

function be64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, false);
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Everything a restore writes, from the flags alone: validated as etcd validates them (UsageError
 * with etcd's text), member and cluster IDs, WAL and .snap bytes, the db edits.
 */
export function planRestore(opts: RestoreOptions, sha1: Sha1 = nodeSha1): RestorePlan {
  const boot = bootstrapMembers(opts, sha1);
  const n = boot.members.length;
  const index = BigInt(n);
  const names = restoreFileNames(n);
  const records = concat(restoreWalRecords({ members: boot.members, localId: boot.local.id, clusterId: boot.clusterId, target: opts.target }));
  const snapBytes = restoreSnapFile(boot.members, opts.target);
  const voters = boot.members.map((m) => m.id.toString(10)).join(',');
  return {
    target: opts.target,
    name: opts.name,
    token: opts.initialClusterToken,
    members: boot.members,
    local: boot.local,
    clusterId: boot.clusterId,
    index,
    wal: { path: join('member', 'wal', names.wal), mode: 0o600, size: SEGMENT_BYTES, records },
    snap: { path: join('member', 'snap', names.snap), mode: 0o644, size: snapBytes.length, bytes: snapBytes },
    db: {
      path: join('member', 'snap', 'db'),
      mode: 0o600,
      size: 0,
      members: boot.members.map((m) => [m.id.toString(16), memberJson(m)]),
      consistentIndex: index,
      term: opts.target === '3.4' ? undefined : 1n,
      confState: opts.updateConfState ? `{"voters":[${voters}],"auto_leave":false}` : undefined,
    },
  };
}

/** Buckets etcd's restore creates when the source lacks them (3.4: through the MVCC store). */
function bucketsToEnsure(target: RestoreTarget): string[] {
  return target === '3.4' ? ['key', 'lease', 'members', 'members_removed', 'meta'] : ['cluster', 'members', 'members_removed', 'meta'];
}

/** The db rewrite: the copy's transform (see writer-copy.ts). */
export function restoreDbTransform(plan: RestorePlan): BucketTransform {
  return (bucket, items) => {
    if (bucket === 'members') return withKeys([], plan.db.members);
    if (bucket === 'members_removed') return [];
    if (bucket === 'meta') {
      const edits: [string, Uint8Array | string][] = [['consistent_index', be64(plan.db.consistentIndex)]];
      if (plan.db.term !== undefined) edits.push(['term', be64(plan.db.term)]);
      if (plan.db.confState !== undefined) edits.push(['confState', plan.db.confState]);
      return withKeys(items, edits);
    }
    return items;
  };
}

/** Whether a copy of `db` that starts with `head` has the meta pages `db` was opened with: the same commit, so the same tree. */
function sameMetas(db: BoltDb, head: Uint8Array): boolean {
  const P = db.pageSize;
  return ([0, 1] as const).every((slot) => {
    const had = db.metas[slot];
    if (!had || head.length < slot * P + META_SIZE) return false;
    const now = decodeMeta(head.subarray(slot * P, slot * P + META_SIZE), slot);
    return now.checksum === had.checksum && now.txid === had.txid && now.root === had.root && now.pgid === had.pgid;
  });
}

export interface RestoreResult {
  /** The data dir written (absolute). */
  dataDir: string;
  memberId: bigint;
  clusterId: bigint;
  /** Files written, relative to dataDir, with their sizes and modes. */
  files: PlannedFile[];
  /** What the db copy did: buckets, keys, pages, and any source items it had to leave out. */
  db: CopySummary;
  /** Build dirs of earlier, killed restores to the same --out that were removed first. */
  staleBuildDirs: string[];
}

/**
 * Write the restored data dir `outDir` from `source` (an opened bbolt db) according to `plan`.
 * Refuses a non-empty `outDir` (UsageError). Builds in `<out>.tmp-<pid>` beside it and renames
 * that to `outDir` at the end; on any error the build dir is removed and `outDir` is untouched.
 * The WAL segment is written in full (zeros up to 64,000,000 bytes), not sparse, as etcd's
 * preallocation reserves the space.
 */
export function writeRestoredDataDir(source: BoltDb, plan: RestorePlan, outDir: string, opts: { sourcePath?: string; salvage?: boolean } = {}): RestoreResult {
  if (!source.meta) throw new NotEtcdError(`the source has no valid bbolt meta page: nothing to restore from`);
  // A sound source is copied and edited, as etcdutl does; a damaged one is rewritten from what its
  // tree still holds (the check reads every page either way, through the one reader).
  const findings = check(source).findings;
  // Damage outside the tree (the freelist, pages neither reachable nor free) loses nothing in the
  // rewrite; damage inside it does: what an unreadable page holds is left out, silently. A root page
  // zeroed made an empty db and a report of success: refused, unless the operator asks to salvage.
  const lost = findings.find((f) => TREE_LOSS_CODES.has(f.code));
  if (lost !== undefined && opts.salvage !== true) {
    throw new RefusedError(
      `${opts.sourcePath ?? 'the source db'}: its tree cannot be read whole (${lost.code} at byte ${lost.offset}${'pgid' in lost ? `, page ${lost.pgid}` : ''}): a rebuild would leave out what the unreadable pages hold; rebuild from a backup or another member's db, or pass --salvage to keep what can be read`,
    );
  }
  const edit = opts.sourcePath !== undefined && findings.length === 0 ? opts.sourcePath : undefined;
  const built = buildThenRename(outDir, (build) => {
    ensureDir(join(build, 'member', 'snap'));
    ensureDir(join(build, 'member', 'wal'));
    const copy = { transform: restoreDbTransform(plan), ensureBuckets: bucketsToEnsure(plan.target) };
    const dbPath = join(build, plan.db.path);
    const db =
      edit !== undefined
        ? writeEditedBoltCopy(edit, source.source.size, { bytes: 2 * source.pageSize, matches: (head) => sameMetas(source, head) }, dbPath, (sink) => editDb(source, sink, copy), { mode: plan.db.mode })
        : writeBoltFile(dbPath, (sink) => copyDb(source, sink, copy), { mode: plan.db.mode });
    writeFileAtomic(join(build, plan.snap.path), [plan.snap.bytes], { mode: plan.snap.mode });
    writeFileAtomic(
      join(build, plan.wal.path),
      (write) => {
        write(plan.wal.records);
        const zeros = new Uint8Array(CHUNK_BYTES);
        for (let pos = plan.wal.records.length; pos < plan.wal.size; pos += zeros.length) {
          write(pos + zeros.length <= plan.wal.size ? zeros : zeros.subarray(0, plan.wal.size - pos));
        }
      },
      { mode: plan.wal.mode },
    );
    fsyncDir(join(build, 'member'));
    return db;
  });
  const db = built.result;
  return {
    dataDir: built.dataDir,
    staleBuildDirs: built.staleBuildDirs,
    memberId: plan.local.id,
    clusterId: plan.clusterId,
    files: [
      { path: plan.db.path, mode: plan.db.mode, size: db.fileSize },
      { path: plan.snap.path, mode: plan.snap.mode, size: plan.snap.size },
      { path: plan.wal.path, mode: plan.wal.mode, size: plan.wal.size },
    ],
    db,
  };
}

/** Go's %v of a []byte: `[1 2 3]`. */
function goBytes(hex: string): string {
  const out: number[] = [];
  for (let i = 0; i < hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return `[${out.join(' ')}]`;
}

/**
 * The trailer check etcd's restore makes (spec §7.3 step 4), with its error texts: a file with a
 * trailer must match it; one without is refused unless `skipHashCheck` (a raw `member/snap/db`).
 */
export function checkTrailer(trailer: TrailerCheck | undefined, skipHashCheck: boolean): void {
  if (skipHashCheck) return;
  if (!trailer || !trailer.present) throw new UsageError('snapshot missing hash but --skip-hash-check=false');
  if (!trailer.ok) throw new UsageError(`expected sha256 ${goBytes(trailer.stored ?? '')}, got ${goBytes(trailer.computed ?? '')}`);
}

/**
 * `snapshot restore <file>`: open the bbolt file (a `snapshot save` file with its SHA-256 trailer,
 * or with `skipHashCheck` any db), check it as etcd does, plan and write the data dir.
 * Flags and `outDir` are checked before the (possibly large) file is hashed.
 */
export function restoreFromFile(
  path: string,
  opts: RestoreOptions & { skipHashCheck?: boolean; salvage?: boolean; onProgress?: (bytesDone: number, bytesTotal: number) => void },
  outDir: string,
  sha1: Sha1 = nodeSha1,
): RestoreResult & { plan: RestorePlan; trailer: TrailerCheck | undefined } {
  const plan = planRestore(opts, sha1);
  checkOutDir(outDir);
  assertOutside(outDir, '--out', [enclosingDataDir(path)]); // never rebuild into the data dir being read
  // With skipHashCheck the trailer is not hashed (etcd does not either); it is still cut off.
  const src = openBoltFile(path, { verifyTrailer: opts.skipHashCheck !== true, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  try {
    checkTrailer(src.trailer, opts.skipHashCheck === true);
    const result = writeRestoredDataDir(src.db, plan, outDir, { sourcePath: path, salvage: opts.salvage === true });
    return { ...result, plan, trailer: src.trailer };
  } finally {
    src.close();
  }
}

/** `<16-digit hex member ID>` and cluster ID, for messages. */
export function describeIds(plan: RestorePlan): string {
  return `member ${hex16(plan.local.id)} (${plan.name}) of cluster ${hex16(plan.clusterId)}, ${plan.members.length} member${plan.members.length === 1 ? '' : 's'}`;
}
