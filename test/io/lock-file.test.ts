// wal-doctor's own repair lock: a kernel lock (OFD, or flock(1) without the native binding) on a
// file beside the data dir. Exclusive, even within one process; never stale: whatever the file
// holds, a lock whose owner died (SIGKILL) is free at once; never through a symlink or hard link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IoError, LockedError } from '../../src/errors.js';
import { acquireRepairLock, repairLockPath } from '../../src/io/lock-file.js';
import { ofdLocks } from '../../src/io/ofd-lock.js';

const LOCK_MODULE = fileURLToPath(new URL('../../src/io/lock-file.js', import.meta.url));

function scratch(): { parent: string; dataDir: string; lockPath: string; cleanup(): void } {
  const parent = mkdtempSync(join(tmpdir(), 'wal-doctor-lockfile-'));
  const dataDir = join(parent, 'etcd-data');
  mkdirSync(join(dataDir, 'member', 'wal'), { recursive: true });
  return { parent, dataDir, lockPath: join(parent, '.etcd-data.wal-doctor.lock'), cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}

const isLocked = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof LockedError, `expected LockedError, got ${String(e)}`);
  assert.equal(e.exitCode, 75);
  assert.match(e.message, re);
  assert.doesNotMatch(e.message, /\n/);
  return true;
};

/** a child process that takes the lock, says so, and holds it until killed */
async function holder(dataDir: string, env: Record<string, string> = {}): Promise<{ pid: number; kill(): Promise<void> }> {
  const script = `
    import { acquireRepairLock } from ${JSON.stringify(LOCK_MODULE)};
    let l;
    try { l = await acquireRepairLock(${JSON.stringify(dataDir)}); } catch (e) { process.exit(e.exitCode ?? 1); }
    console.log('held ' + l.info.lock);
    setInterval(() => {}, 1000);`;
  const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  await new Promise<void>((res, rej) => {
    c.stdout.on('data', (b: Buffer) => (b.toString().startsWith('held') ? res() : undefined));
    c.once('exit', (code) => rej(new Error(`holder exited ${code}`)));
  });
  return {
    pid: c.pid!,
    kill: async () => {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    },
  };
}

test('OFD locks are available here (the prebuilt fs-native-extensions binary loads)', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  assert.deepEqual(ofdLocks(), { available: true });
});

test('the lock is a file beside the data dir, never inside it; a second taker, even in this process, is refused with our pid; release removes it', async () => {
  const s = scratch();
  try {
    assert.equal(repairLockPath(s.dataDir), s.lockPath);
    assert.equal(repairLockPath(`${s.dataDir}/`), s.lockPath);
    const lock = await acquireRepairLock(s.dataDir);
    assert.equal(lock.path, s.lockPath);
    assert.equal(lock.info.lock, 'ofd');
    const info = JSON.parse(readFileSync(s.lockPath, 'utf8')) as Record<string, unknown>;
    assert.equal(info['pid'], process.pid);
    assert.equal(info['host'], hostname());
    assert.deepEqual(readdirSync(s.dataDir), ['member'], 'nothing was added to the data dir');
    const line = readFileSync('/proc/locks', 'utf8').split('\n').filter((l) => / OFDLCK +ADVISORY +WRITE /.test(l));
    assert.ok(line.length > 0, 'the kernel lists an OFD write lock');

    await assert.rejects(acquireRepairLock(s.dataDir), isLocked(new RegExp(`being repaired by another wal-doctor \\(pid ${process.pid}, since `)));
    assert.ok(existsSync(s.lockPath), "a refused taker leaves the holder's lock alone");
    lock.assertHeld();

    await lock.release();
    assert.ok(!existsSync(s.lockPath));
    assert.throws(() => lock.assertHeld(), isLocked(/was released/));
    await lock.release(); // twice is fine
    const again = await acquireRepairLock(s.dataDir);
    await again.release();
    assert.deepEqual(readdirSync(s.parent), ['etcd-data']);
  } finally {
    s.cleanup();
  }
});

test('never stale: whatever a dead holder left in the file, and a holder killed by SIGKILL, the lock is free at once', async () => {
  const s = scratch();
  try {
    for (const content of ['', 'garbage', JSON.stringify({ tool: 'wal-doctor', pid: 1, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', nonce: 'x' })]) {
      writeFileSync(s.lockPath, content);
      const lock = await acquireRepairLock(s.dataDir);
      assert.equal((JSON.parse(readFileSync(s.lockPath, 'utf8')) as { pid: number }).pid, process.pid);
      await lock.release();
    }
    const h = await holder(s.dataDir);
    await assert.rejects(acquireRepairLock(s.dataDir), isLocked(new RegExp(`pid ${h.pid},`)));
    await h.kill();
    const t0 = Date.now();
    const lock = await acquireRepairLock(s.dataDir); // the file is still there, with the dead holder's pid in it
    assert.ok(Date.now() - t0 < 1000);
    await lock.release();
  } finally {
    s.cleanup();
  }
});

test('never through a symlink or a hard link (a lock path planted by someone who can write beside the data dir)', async () => {
  const s = scratch();
  try {
    const victim = join(s.parent, 'victim');
    writeFileSync(victim, 'keep me\n');
    symlinkSync(victim, s.lockPath);
    await assert.rejects(acquireRepairLock(s.dataDir), (e: unknown) => e instanceof IoError && /is a symbolic link; wal-doctor's lock file must be a plain file/.test(e.message));
    rmSync(s.lockPath);
    linkSync(victim, s.lockPath);
    await assert.rejects(acquireRepairLock(s.dataDir), (e: unknown) => e instanceof IoError && /a file with 2 hard links/.test(e.message));
    assert.equal(readFileSync(victim, 'utf8'), 'keep me\n', 'the file the links lead to is untouched');
  } finally {
    s.cleanup();
  }
});

test('without OFD locks (no native binary): flock(1) holds the same file; exclusive, and gone when the holder is killed', async () => {
  const s = scratch();
  const env = { WAL_DOCTOR_NO_NATIVE_LOCKS: '1' };
  try {
    const h = await holder(s.dataDir, env);
    const again = await holder(s.dataDir, env).then(
      () => 'took it',
      (e: Error) => e.message,
    );
    assert.equal(again, 'holder exited 75', 'a second flock holder is refused (exit 75)');
    const line = readFileSync('/proc/locks', 'utf8').split('\n').filter((l) => / FLOCK +ADVISORY +WRITE /.test(l));
    assert.ok(line.length > 0);
    await h.kill();
    // flock(1)'s `cat` reads EOF on the dead holder's pipe and exits: the lock goes with it
    const deadline = Date.now() + 5000;
    let took: string | undefined;
    while (!took && Date.now() < deadline) {
      took = await holder(s.dataDir, env).then(
        async (x) => {
          await x.kill();
          return 'took it';
        },
        () => undefined,
      );
    }
    assert.equal(took, 'took it');
  } finally {
    s.cleanup();
  }
});
