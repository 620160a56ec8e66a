/**
 * wal-doctor's own lock, so two repairs never work on one data dir at once.
 *
 * The lock is a file BESIDE the data dir, `<parent>/.<basename>.wal-doctor.lock` (etcd warns about
 * unknown entries inside the data dir and the member dir), created with O_CREAT|O_EXCL and holding
 * one JSON line: pid, host, startedAt, plus what tells a live owner from a dead one — the owner's
 * start time (/proc/PID/stat field 22, against PID reuse), the boot id and the PID namespace.
 *
 * Crash safety: a lock whose owner is gone (no such pid, a pid now used by another process, or a
 * machine rebooted since) is stale and taken over; the caller gets the reason in `tookOver`.
 * A lock from another host, or from another PID namespace, cannot be checked and is taken as held.
 *
 * The race two takers of one stale lock would run (A removes it and creates its own; B, acting on
 * what it read before, removes A's): nobody unlinks the lock by name. A taker renames it to a
 * private name, which succeeds for exactly one taker, then reads what it moved. Only if that is
 * byte for byte the stale content it judged (each lock carries a random nonce, so a newer lock
 * never looks the same) is it deleted; otherwise it is someone's fresh lock and is put back with
 * link() (which never overwrites) and the taker starts over. Release, likewise, only removes a
 * lock file whose content is its own.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants, fsyncSync, linkSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { IoError, LockedError, fsError } from '../errors.js';
import { processStartTime } from './lock-proc.js';

export interface RepairLockInfo {
  tool: 'wal-doctor';
  pid: number;
  host: string;
  /** ISO 8601 */
  startedAt: string;
  dataDir: string;
  /** /proc/PID/stat start time of the owner (clock ticks since boot), Linux only */
  procStart?: string;
  /** /proc/sys/kernel/random/boot_id, Linux only */
  bootId?: string;
  /** readlink /proc/self/ns/pid, e.g. `pid:[4026531836]`, Linux only */
  pidNs?: string;
  /** random, so no two locks ever have the same content */
  nonce: string;
}

export interface RepairLock {
  /** the lock file */
  path: string;
  info: RepairLockInfo;
  /** set when a stale lock was taken over: what it was and why it was stale (one line) */
  tookOver?: string;
  /**
   * Throw LockedError unless the lock file is still ours. Call it just before the first write:
   * it closes the one window the takeover protocol leaves (see takeOverIfUnchanged).
   */
  assertHeld(): void;
  /** remove the lock file (only if it is still ours); safe to call twice */
  release(): void;
}

/** `<parent>/.<basename>.wal-doctor.lock` for the data dir (symlinks resolved, so every path to a dir shares one lock). */
export function repairLockPath(dataDir: string): string {
  let real = resolve(dataDir);
  try {
    real = realpathSync(real);
  } catch { /* not there (yet): use the path as given */ }
  return join(dirname(real), `.${basename(real)}.wal-doctor.lock`);
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function myInfo(dataDir: string): RepairLockInfo {
  const info: RepairLockInfo = {
    tool: 'wal-doctor', pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), dataDir, nonce: randomBytes(8).toString('hex'),
  };
  if (process.platform === 'linux') {
    const start = processStartTime('/proc', process.pid);
    if (start !== undefined) info.procStart = start;
    const boot = readOr('/proc/sys/kernel/random/boot_id');
    if (boot) info.bootId = boot;
    try {
      info.pidNs = readlinkSync('/proc/self/ns/pid');
    } catch { /* no /proc */ }
  }
  return info;
}

function parseInfo(text: string): RepairLockInfo | undefined {
  try {
    const j = JSON.parse(text) as Partial<RepairLockInfo>;
    return typeof j.pid === 'number' && Number.isInteger(j.pid) && j.pid > 0 && typeof j.host === 'string' ? (j as RepairLockInfo) : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only, nothing is delivered
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** undefined: the owner may be alive (the lock holds); else why the lock is stale */
function staleReason(info: RepairLockInfo, mine: RepairLockInfo): string | undefined {
  if (info.host !== mine.host) return undefined; // cannot see another host's processes
  if (info.bootId && mine.bootId && info.bootId !== mine.bootId) return `the machine has rebooted since ${info.startedAt}`;
  if (info.pidNs && mine.pidNs && info.pidNs !== mine.pidNs) return undefined; // its pid means nothing here
  if (!pidAlive(info.pid)) return `pid ${info.pid} is not running`;
  if (info.procStart && mine.procStart) {
    const now = processStartTime('/proc', info.pid);
    if (now !== undefined && now !== info.procStart) return `pid ${info.pid} is now another process`;
  }
  return undefined;
}

/** a lock file still empty or unparseable after this long was left by a crash while it was written */
const UNREADABLE_GRACE_MS = 5000;

/**
 * Take wal-doctor's lock on `dataDir` (a file beside it), or throw LockedError (exit 75) naming the
 * other wal-doctor's pid. A stale lock (its owner died) is taken over and `tookOver` says so.
 */
export function acquireRepairLock(dataDir: string): RepairLock {
  const path = repairLockPath(dataDir);
  const mine = myInfo(resolve(dataDir));
  const content = `${JSON.stringify(mine)}\n`;
  let tookOver: string | undefined;

  for (let attempt = 0; attempt < 50; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, path, 'creating the repair lock');
      const stale = judgeExisting(path, mine, dataDir);
      if (stale === undefined) continue; // gone meanwhile: try again
      if (takeOverIfUnchanged(path, stale.raw, mine.nonce)) tookOver = `took over a stale wal-doctor lock ${path} (${stale.who}): ${stale.why}`;
      continue;
    }
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } catch (e) {
      try { unlinkSync(path); } catch { /* best effort */ }
      throw fsError(e, path, 'writing the repair lock');
    } finally {
      closeSync(fd);
    }
    syncDir(dirname(path));
    let released = false;
    const lock: RepairLock = {
      path,
      info: mine,
      assertHeld() {
        if (released || readOr(path) !== content.trim()) {
          throw new LockedError(`${path}: wal-doctor's repair lock on ${dataDir} is no longer ours (${released ? 'released' : 'another wal-doctor took it'}): stopping before any write`);
        }
      },
      release() {
        if (released) return;
        released = true;
        if (readOr(path) !== content.trim()) return; // not ours any more: never remove another's lock
        try {
          unlinkSync(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, path, 'removing the repair lock');
        }
      },
    };
    if (tookOver !== undefined) lock.tookOver = tookOver;
    return lock;
  }
  throw new LockedError(`${path}: could not take the repair lock (it kept changing hands): another wal-doctor is working on ${dataDir}`);
}

/**
 * The existing lock at `path`: throws LockedError if its owner may be alive; returns the stale
 * content and why; undefined if the file vanished.
 */
function judgeExisting(path: string, mine: RepairLockInfo, dataDir: string): { raw: string; why: string; who: string } | undefined {
  for (let waited = 0; ; waited += 50) {
    let raw: string;
    let mtimeMs: number;
    try {
      raw = readFileSync(path, 'utf8');
      mtimeMs = statSync(path).mtimeMs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fsError(e, path, 'reading the repair lock');
    }
    const info = parseInfo(raw);
    if (info) {
      const why = staleReason(info, mine);
      const who = `pid ${info.pid} on ${info.host}, since ${info.startedAt}`;
      if (why !== undefined) return { raw, why, who };
      const where = info.host === mine.host ? `pid ${info.pid}` : `pid ${info.pid} on host ${info.host}`;
      throw new LockedError(
        `${dataDir} is being repaired by another wal-doctor (${where}, since ${info.startedAt}; lock ${path}): wait for it to finish` +
          (info.host === mine.host ? '' : ', or remove the lock if that process is gone'),
      );
    }
    // empty or half-written: its creator may be between open and write; a crash there leaves it so
    if (Date.now() - mtimeMs > UNREADABLE_GRACE_MS) return { raw, why: 'the lock file is empty or unreadable (left by a crash while it was written)', who: 'unreadable' };
    if (waited >= 1000) throw new LockedError(`${path}: another wal-doctor is taking the repair lock on ${dataDir} right now`);
    sleepSync(50);
  }
}

/**
 * Remove the lock at `path` if, and only if, it still has content `raw`. True if this call removed it.
 *
 * Left open: if the file moved aside turns out to be a live lock (its owner A created it after we
 * judged the old one) and a third wal-doctor creates a new lock in the microseconds before we put
 * A's back, link() fails with EEXIST and A's lock is gone while A runs. A then fails assertHeld()
 * before its first write. File systems offer no compare-and-delete, so this cannot be closed here.
 * Exported for tests.
 */
export function takeOverIfUnchanged(path: string, raw: string, nonce: string): boolean {
  const mine = `${path}.takeover.${process.pid}.${nonce}`;
  try {
    renameSync(path, mine); // atomic: at most one taker moves any given file
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fsError(e, path, 'taking over a stale repair lock');
  }
  let moved: string | undefined;
  try {
    moved = readFileSync(mine, 'utf8');
  } catch { /* treat as not ours */ }
  if (moved === raw) {
    unlinkSync(mine);
    return true;
  }
  // we moved a lock someone created after we looked: put it back; link() never replaces a file
  try {
    linkSync(mine, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new IoError(`${path}: could not put back a live repair lock moved to ${mine}: ${(e as Error).message}`);
  }
  unlinkSync(mine);
  return false;
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, constants.O_RDONLY);
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* not every file system lets a directory be fsync'ed; the lock still works */ }
}
