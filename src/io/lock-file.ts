/**
 * wal-doctor's own lock, so two repairs never work on one data dir at once.
 *
 * The lock is a kernel lock on a file BESIDE the data dir, `<parent>/.<basename>.wal-doctor.lock`
 * (etcd warns about unknown entries inside the data dir and the member dir): an exclusive OFD
 * lock (fcntl F_OFD_SETLK, see ofd-lock.ts) on the open file. The kernel decides who holds it and
 * drops it when the holder's fd closes — on release, or when the process dies in any way — so a
 * crashed wal-doctor never leaves a lock behind and nobody has to guess whether a lock is stale
 * (the old scheme read pids and start times from the file and raced when two took over one stale
 * lock at once: two winners under load).
 *
 * The file's content (pid, host, start time) only serves the message a refused taker prints.
 *
 * Taking it: open (O_CREAT, O_NOFOLLOW: never through a symlink), check it is a regular file with
 * one link, try the lock, then check the name still leads to the inode we locked — a holder
 * releasing unlinks the file while it still holds the lock, so a taker that opened the old inode
 * just before sees the mismatch and starts over instead of locking a file nobody else will open.
 *
 * Without OFD locks (no prebuilt binary for this platform, see ofd-lock.ts) the same file is held
 * with flock(1) (flock-helper.ts) and kept, not unlinked, on release: every wal-doctor on a host
 * runs the same build, so all of them use the same one of the two kinds.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants, fstatSync, fsyncSync, ftruncateSync, lstatSync, openSync, readSync, realpathSync, unlinkSync, writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { IoError, LockedError, fsError } from '../errors.js';
import { holdFlock, type FlockHold } from './flock-helper.js';
import { ofdLocks, tryOfdWriteLock } from './ofd-lock.js';
import { fileKind } from './safe-open.js';

export interface RepairLockInfo {
  tool: 'wal-doctor';
  pid: number;
  host: string;
  /** ISO 8601 */
  startedAt: string;
  dataDir: string;
  /** which kernel lock holds it */
  lock: 'ofd' | 'flock';
  /** random: tells one holding from the next */
  nonce: string;
}

export interface RepairLock {
  /** the lock file */
  path: string;
  info: RepairLockInfo;
  /** the flock(1) helper's pid when the lock is a flock (it is the owner /proc/locks names) */
  helperPid?: number;
  /** Throw LockedError unless the lock is still held (always, for an OFD lock until release). Call it just before the first write. */
  assertHeld(): void;
  /** drop the lock (and remove the file, for an OFD lock); safe to call twice */
  release(): Promise<void>;
}

/** `<parent>/.<basename>.wal-doctor.lock` for the data dir (symlinks resolved, so every path to a dir shares one lock). */
export function repairLockPath(dataDir: string): string {
  let real = resolve(dataDir);
  try {
    real = realpathSync(real);
  } catch { /* not there (yet): use the path as given */ }
  return join(dirname(real), `.${basename(real)}.wal-doctor.lock`);
}

function myInfo(dataDir: string, lock: 'ofd' | 'flock'): RepairLockInfo {
  return { tool: 'wal-doctor', pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), dataDir, lock, nonce: randomBytes(8).toString('hex') };
}

/** What a holder wrote into the file (best effort: it may be mid-write or from an older version). */
function readHolder(fd: number): RepairLockInfo | undefined {
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const j = JSON.parse(buf.subarray(0, n).toString('utf8')) as Partial<RepairLockInfo>;
    return typeof j.pid === 'number' && typeof j.host === 'string' ? (j as RepairLockInfo) : undefined;
  } catch {
    return undefined;
  }
}

function lockedBy(path: string, dataDir: string, holder: RepairLockInfo | undefined): LockedError {
  const who = holder
    ? `pid ${holder.pid}${holder.host === hostname() ? '' : ` on host ${holder.host}`}, since ${holder.startedAt}`
    : 'its pid is not written yet';
  return new LockedError(`${dataDir} is being repaired by another wal-doctor (${who}; lock ${path}): wait for it to finish`);
}

const OPEN_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Open the lock file, refusing anything but a regular file with one link (never a symlink or a hard link to elsewhere). */
function openLockFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw new IoError(`${path}: is a symbolic link; wal-doctor's lock file must be a plain file (remove it)`);
    throw fsError(e, path, 'opening the repair lock');
  }
  const st = fstatSync(fd);
  if (!st.isFile() || st.nlink !== 1) {
    closeSync(fd);
    throw new IoError(`${path}: is ${st.isFile() ? `a file with ${st.nlink} hard links` : fileKind(st)}; wal-doctor's lock file must be a plain file (remove it)`);
  }
  return fd;
}

function writeInfo(fd: number, path: string, info: RepairLockInfo): void {
  try {
    ftruncateSync(fd, 0);
    const b = Buffer.from(`${JSON.stringify(info)}\n`);
    writeSync(fd, b, 0, b.length, 0);
    fsyncSync(fd);
  } catch (e) {
    throw fsError(e, path, 'writing the repair lock');
  }
}

/**
 * Take wal-doctor's lock on `dataDir` (a kernel lock on a file beside it), or throw LockedError
 * (exit 75) naming the other wal-doctor's pid. Never waits.
 */
export async function acquireRepairLock(dataDir: string): Promise<RepairLock> {
  const path = repairLockPath(dataDir);
  const data = resolve(dataDir);
  if (!ofdLocks().available) return acquireWithFlock(path, data);
  const info = myInfo(data, 'ofd');
  for (let attempt = 0; attempt < 100; attempt++) {
    const fd = openLockFile(path);
    let locked: boolean;
    try {
      locked = tryOfdWriteLock(fd);
    } catch (e) {
      closeSync(fd);
      throw fsError(e, path, 'locking the repair lock');
    }
    if (!locked) {
      const holder = readHolder(fd);
      closeSync(fd);
      throw lockedBy(path, data, holder);
    }
    // The holder before us may have released (unlinked the name) between our open and our lock:
    // then we locked an orphan inode and the next taker would create a fresh file. Start over.
    const mine = fstatSync(fd);
    const now = lstatSync(path, { throwIfNoEntry: false });
    if (!now || now.ino !== mine.ino || now.dev !== mine.dev) {
      closeSync(fd);
      continue;
    }
    writeInfo(fd, path, info);
    let open = true;
    return {
      path,
      info,
      assertHeld() {
        if (!open) throw new LockedError(`${path}: wal-doctor's repair lock on ${data} was released: stopping before any write`);
      },
      async release() {
        if (!open) return;
        open = false;
        // unlink first, while the lock is still ours: a taker that opened this inode re-checks the name
        try {
          unlinkSync(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
            closeSync(fd);
            throw fsError(e, path, 'removing the repair lock');
          }
        }
        closeSync(fd);
      },
    };
  }
  throw new LockedError(`${path}: could not take the repair lock (it kept changing hands): another wal-doctor is working on ${data}`);
}

/** The fallback: a flock held by flock(1); the file is kept on release (flock(1) opens it by name). */
async function acquireWithFlock(path: string, data: string): Promise<RepairLock> {
  const fd = openLockFile(path); // creates it, with the same checks, before flock(1) opens it by name
  try {
    const r = await holdFlock(path);
    if ('conflict' in r) throw lockedBy(path, data, readHolder(fd));
    if ('error' in r) throw new IoError(`${path}: cannot take the repair lock: ${r.error} (and ${ofdLocks().available ? '' : (ofdLocks() as { why: string }).why})`);
    const hold: FlockHold = r.held;
    const info = myInfo(data, 'flock');
    writeInfo(fd, path, info);
    let open = true;
    return {
      path,
      info,
      helperPid: hold.pid,
      assertHeld() {
        if (!open || !hold.held()) throw new LockedError(`${path}: wal-doctor's repair lock on ${data} is no longer held (its flock(1) helper ended): stopping before any write`);
      },
      async release() {
        if (!open) return;
        open = false;
        await hold.release();
      },
    };
  } finally {
    closeSync(fd);
  }
}
