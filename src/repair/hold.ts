/**
 * Holding a data dir while it changes, for repair and undo: our own lock first (another
 * wal-doctor), then the locks etcd itself takes (the db's flock, the WAL's OFD locks), held until
 * we are done, so a running etcd makes this fail and a starting one waits at its db open; then the
 * /proc look for anything else writing there.
 */
import { acquireRepairLock, assertNotHeld, lockEtcdFiles, type EtcdFileLocks } from '../io/locks.js';

export interface HeldDataDir {
  /** Just before the first write: still nothing else holds the dir, and our lock is still ours. */
  recheck(): void;
  /** For each new file before it takes a locked file's name: the lock follows the name (see lockEtcdFiles). */
  beforeRename(fd: number, tmp: string): boolean;
}

/** Runs `fn` with the dir held; every lock is released when it ends, however it ends. */
export async function withDataDirHeld<T>(dataDir: string, fn: (held: HeldDataDir) => Promise<T>): Promise<T> {
  const lock = await acquireRepairLock(dataDir);
  let etcdLocks: EtcdFileLocks | undefined;
  try {
    etcdLocks = await lockEtcdFiles(dataDir);
    const locks = etcdLocks;
    assertNotHeld(dataDir, locks.holderOptions);
    return await fn({
      recheck() {
        assertNotHeld(dataDir, locks.holderOptions);
        lock.assertHeld();
      },
      beforeRename: (fd, tmp) => locks.adopt(fd, tmp),
    });
  } finally {
    await etcdLocks?.release();
    await lock.release();
  }
}
