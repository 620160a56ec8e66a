/**
 * Open file description (OFD) write locks: fcntl(F_OFD_SETLK, F_WRLCK, whole file) — the lock etcd
 * takes on every live WAL segment on Linux (spec §1.2), and the one wal-doctor takes on its own
 * lock file. The kernel owns it: it belongs to the open file description, so it is released when
 * the last fd for it closes, which includes the process dying in any way (SIGKILL, OOM, power
 * loss has no locks to leave). Nothing to guess about staleness.
 *
 * Node has no fcntl binding. fs-native-extensions (holepunch) calls fcntl(F_OFD_SETLK) on Linux,
 * ships prebuilt binaries inside the package (linux-x64, linux-arm64, darwin, win32, android) and
 * has no install script, so `npm install` needs no approval and compiles nothing. Where it has no
 * binary (or WAL_DOCTOR_NO_NATIVE_LOCKS=1, for tests) `ofdLocks()` says why, and callers fall
 * back to flock(1) (see flock-helper.ts).
 */
import { createRequire } from 'node:module';

interface NativeExtensions {
  tryLock(fd: number, offset?: number, length?: number, opts?: { shared?: boolean }): boolean;
}

let loaded: { ext: NativeExtensions } | { why: string } | undefined;

function load(): { ext: NativeExtensions } | { why: string } {
  if (loaded) return loaded;
  if (process.env['WAL_DOCTOR_NO_NATIVE_LOCKS'] === '1') return (loaded = { why: 'WAL_DOCTOR_NO_NATIVE_LOCKS=1' });
  if (process.platform !== 'linux') return (loaded = { why: `not Linux (${process.platform}): etcd uses flock there, not OFD locks` });
  try {
    const ext = createRequire(import.meta.url)('fs-native-extensions') as NativeExtensions;
    if (typeof ext.tryLock !== 'function') return (loaded = { why: 'fs-native-extensions has no tryLock' });
    return (loaded = { ext });
  } catch (e) {
    return (loaded = { why: `fs-native-extensions could not be loaded (${(e as Error).message.split('\n')[0]})` });
  }
}

/** Whether OFD locks can be taken here; `why` says why not. */
export function ofdLocks(): { available: true } | { available: false; why: string } {
  const l = load();
  return 'ext' in l ? { available: true } : { available: false, why: l.why };
}

/**
 * Try to take an exclusive OFD lock on the whole file behind `fd` (opened for writing), without
 * waiting. True: held until the fd is closed. False: someone holds a conflicting OFD or POSIX lock
 * (another open file description, even in this process). Throws when OFD locks are unavailable or
 * on an OS error (EBADF for a read-only fd).
 */
export function tryOfdWriteLock(fd: number): boolean {
  const l = load();
  if (!('ext' in l)) throw new Error(`OFD locks unavailable: ${l.why}`);
  return l.ext.tryLock(fd, 0, 0, { shared: false });
}
