// wal-doctor's own repair lock: beside the data dir, exclusive, crash-safe (stale locks of dead or
// reused pids are taken over), and exactly one of several concurrent processes gets it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LockedError } from '../../src/errors.js';
import { acquireRepairLock, repairLockPath, takeOverIfUnchanged } from '../../src/io/lock-file.js';

const run = promisify(execFile);
const LOCK_MODULE = fileURLToPath(new URL('../../src/io/lock-file.js', import.meta.url));

function scratch(): { parent: string; dataDir: string; lockPath: string; cleanup(): void } {
  const parent = mkdtempSync(join(tmpdir(), 'wal-doctor-lockfile-'));
  const dataDir = join(parent, 'etcd-data');
  mkdirSync(join(dataDir, 'member', 'wal'), { recursive: true });
  return { parent, dataDir, lockPath: join(parent, '.etcd-data.wal-doctor.lock'), cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}

/** the pid of a process that has certainly exited */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => c.once('exit', r));
  assert.ok(c.pid);
  return c.pid;
}

const isLocked = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof LockedError, `expected LockedError, got ${String(e)}`);
  assert.equal(e.exitCode, 75);
  assert.match(e.message, re);
  assert.doesNotMatch(e.message, /\n/);
  return true;
};

test('the lock is a JSON file beside the data dir, never inside it; a second acquire is refused with our pid; release removes it', () => {
  const s = scratch();
  try {
    assert.equal(repairLockPath(s.dataDir), s.lockPath);
    assert.equal(repairLockPath(`${s.dataDir}/`), s.lockPath);
    const lock = acquireRepairLock(s.dataDir);
    assert.equal(lock.path, s.lockPath);
    assert.equal(lock.tookOver, undefined);
    const info = JSON.parse(readFileSync(s.lockPath, 'utf8')) as Record<string, unknown>;
    assert.equal(info['pid'], process.pid);
    assert.equal(info['host'], hostname());
    assert.ok(!Number.isNaN(Date.parse(String(info['startedAt']))));
    assert.deepEqual(readdirSync(s.dataDir), ['member'], 'nothing was added to the data dir');

    assert.throws(() => acquireRepairLock(s.dataDir), isLocked(new RegExp(`another wal-doctor \\(pid ${process.pid},`)));
    assert.ok(existsSync(s.lockPath), 'a refused acquire leaves the holder\'s lock alone');

    lock.release();
    assert.ok(!existsSync(s.lockPath));
    lock.release(); // twice is fine
    const again = acquireRepairLock(s.dataDir);
    again.release();
    assert.deepEqual(readdirSync(s.parent), ['etcd-data']);
  } finally {
    s.cleanup();
  }
});

test('a stale lock is taken over, saying why: dead pid, reused pid, rebooted machine, empty file left by a crash', async () => {
  const s = scratch();
  try {
    const base = { tool: 'wal-doctor', host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', dataDir: s.dataDir, nonce: 'feedfeedfeedfeed' };
    const dead = await deadPid();
    const cases: [string, string, RegExp][] = [
      ['dead pid', JSON.stringify({ ...base, pid: dead }), new RegExp(`pid ${dead} is not running`)],
      ['reused pid', JSON.stringify({ ...base, pid: process.pid, procStart: '1' }), new RegExp(`pid ${process.pid} is now another process`)],
      ...(existsSync('/proc/sys/kernel/random/boot_id')
        ? [['rebooted', JSON.stringify({ ...base, pid: process.pid, bootId: '00000000-0000-0000-0000-000000000000' }), /rebooted/] as [string, string, RegExp]]
        : []),
      ['empty file', '', /empty or unreadable/],
    ];
    for (const [name, content, why] of cases) {
      writeFileSync(s.lockPath, content);
      if (content === '') utimesSync(s.lockPath, new Date(Date.now() - 60000), new Date(Date.now() - 60000));
      const lock = acquireRepairLock(s.dataDir);
      assert.match(lock.tookOver ?? '', /took over a stale wal-doctor lock/, name);
      assert.match(lock.tookOver ?? '', why, name);
      assert.equal((JSON.parse(readFileSync(s.lockPath, 'utf8')) as { pid: number }).pid, process.pid, name);
      lock.release();
      assert.ok(!existsSync(s.lockPath), name);
      assert.deepEqual(readdirSync(s.parent), ['etcd-data'], `${name}: no takeover files left behind`);
    }
  } finally {
    s.cleanup();
  }
});

test('a lock that may be live is never taken: another host, a fresh empty file being written', () => {
  const s = scratch();
  try {
    writeFileSync(s.lockPath, JSON.stringify({ tool: 'wal-doctor', pid: 4242, host: 'other-host.example', startedAt: '2026-01-01T00:00:00.000Z', nonce: 'x' }));
    assert.throws(() => acquireRepairLock(s.dataDir), isLocked(/pid 4242 on host other-host\.example/));
    writeFileSync(s.lockPath, '');
    assert.throws(() => acquireRepairLock(s.dataDir), isLocked(/taking the repair lock .* right now/));
    assert.ok(existsSync(s.lockPath));
  } finally {
    s.cleanup();
  }
});

/** start `n` processes that all try to take the lock at the same instant; each reports won/refused */
async function race(dataDir: string, n: number): Promise<{ won: number; refused: number; messages: string[] }> {
  const at = Date.now() + 1500; // after every child has started
  const script = `
    import { acquireRepairLock } from ${JSON.stringify(LOCK_MODULE)};
    while (Date.now() < ${at}) {}
    try {
      const l = acquireRepairLock(${JSON.stringify(dataDir)});
      console.log(JSON.stringify({ won: true, tookOver: l.tookOver ?? null }));
      setTimeout(() => l.release(), 1000);
    } catch (e) {
      console.log(JSON.stringify({ won: false, exitCode: e.exitCode, message: e.message }));
    }`;
  const results = await Promise.all(Array.from({ length: n }, () => run(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })));
  const out = results.map((r) => JSON.parse(r.stdout.trim()) as { won: boolean; exitCode?: number; message?: string });
  for (const o of out) if (!o.won) assert.equal(o.exitCode, 75, o.message);
  return { won: out.filter((o) => o.won).length, refused: out.filter((o) => !o.won).length, messages: out.map((o) => o.message ?? 'won') };
}

test('several wal-doctors at once: exactly one gets the lock, on a free dir and on a stale lock', async () => {
  const s = scratch();
  try {
    for (let round = 0; round < 3; round++) {
      const free = await race(s.dataDir, 6);
      assert.equal(free.won, 1, `round ${round}, free dir: ${free.messages.join(' | ')}`);
      assert.ok(!existsSync(s.lockPath), 'the winner released it');

      writeFileSync(s.lockPath, JSON.stringify({ tool: 'wal-doctor', pid: await deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', nonce: `stale${round}` }));
      const stale = await race(s.dataDir, 6);
      assert.equal(stale.won, 1, `round ${round}, stale lock: ${stale.messages.join(' | ')}`);
      assert.ok(!existsSync(s.lockPath));
      assert.deepEqual(readdirSync(s.parent), ['etcd-data'], 'no takeover files left behind');
    }
  } finally {
    s.cleanup();
  }
});

test('a taker that acted on an old reading puts back the live lock it moved, and the owner can tell when its lock is gone', () => {
  const s = scratch();
  try {
    const lock = acquireRepairLock(s.dataDir);
    const live = readFileSync(s.lockPath, 'utf8');
    // B read a stale lock earlier; meanwhile A (here: us) took it over. B's takeover must not remove A's lock.
    assert.equal(takeOverIfUnchanged(s.lockPath, '{"pid":1,"nonce":"old"}\n', 'b0b0b0b0'), false);
    assert.equal(readFileSync(s.lockPath, 'utf8'), live, 'the live lock is back, byte for byte');
    assert.deepEqual(readdirSync(s.parent).sort(), ['.etcd-data.wal-doctor.lock', 'etcd-data']);
    lock.assertHeld();

    // the lock file replaced behind our back: assertHeld refuses, release leaves the other one alone
    writeFileSync(s.lockPath, JSON.stringify({ tool: 'wal-doctor', pid: 4242, host: 'elsewhere', startedAt: '2026-01-01T00:00:00.000Z', nonce: 'n' }));
    assert.throws(() => lock.assertHeld(), isLocked(/no longer ours/));
    lock.release();
    assert.ok(existsSync(s.lockPath), 'release never removes a lock that is not ours');
  } finally {
    s.cleanup();
  }
});
