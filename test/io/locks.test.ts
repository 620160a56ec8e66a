// "Is etcd running on this dir?" against REAL etcd 3.5.30 and 3.4.23 on a copy of a fixture: while it
// runs, findHolders sees the OFD locks on the WAL files and the flock on the db, all with etcd's pid,
// and assertNotHeld refuses (LockedError, exit 75) in one line naming a file and the pid; once etcd
// has stopped nothing holds the dir. Also: the flock(1) probe alone (no /proc), and the view from
// another PID namespace (what a container sees).
// Needs etcd (scripts/etcd-bin.sh): with CI=true a missing binary fails the test, otherwise the test
// is skipped and says that it was NOT run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LockedError } from '../../src/errors.js';
import { assertNotHeld, findHolders, lockEtcdFiles } from '../../src/io/locks.js';
import type { Holder } from '../../src/io/locks.js';
import { lockKeyOfPath } from '../../src/io/lock-proc.js';
import { bootEtcd, etcdBin } from '../support/etcd.js';
import { loadFixture } from '../support/fixtures.js';
import type { EtcdSeries } from '../support/fixtures.js';

const run = promisify(execFile);
const LOCKS_MODULE = fileURLToPath(new URL('../../src/io/locks.js', import.meta.url));
const linux = process.platform === 'linux';

const cases: [EtcdSeries, string][] = [['3.5', 'v35-workload'], ['3.4', 'v34-workload']];

for (const [version, fixture] of cases) {
  test(`etcd ${version} running on ${fixture}: its WAL OFD locks and db flock are found with its pid; stopped: nothing`, { skip: !linux && 'Linux only: /proc/locks' }, async (t) => {
    if (!(await etcdBin(version))) { t.skip(`etcd ${version} binary not available: this test was NOT run`); return; }
    const fx = await loadFixture(fixture);
    try {
      const before = findHolders(fx.dir);
      assert.deepEqual(before, [], 'nothing holds a dir no etcd runs on');
      assert.equal(before.complete, true);
      assert.doesNotThrow(() => assertNotHeld(fx.dir));

      const etcd = await bootEtcd(version, fx.dir);
      assert.ok(etcd.ok, `etcd ${version} did not start: ${etcd.error}\n${etcd.logTail}`);
      try {
        const holders = findHolders(fx.dir);
        const keys = new Set(holders.checked.map((p) => lockKeyOfPath(`${fx.dir}/${p}`)));
        t.diagnostic(`etcd ${version} pid ${etcd.pid}; /proc/locks lines for its files:\n` +
          readFileSync('/proc/locks', 'utf8').split('\n').filter((l) => [...keys].some((k) => k && l.includes(` ${k} `))).join('\n'));
        t.diagnostic(JSON.stringify(holders));
        assert.equal(holders.complete, true);
        assert.deepEqual(holders.limits, []);

        const wal = holders.filter((h) => h.kind === 'OFDLCK' && /^member\/wal\/[0-9a-f]{16}-[0-9a-f]{16}\.wal$/.test(h.path));
        assert.ok(wal.length >= 1, `no OFD lock on a WAL segment: ${JSON.stringify(holders)}`);
        const tmp = holders.filter((h) => h.kind === 'OFDLCK' && /^member\/wal\/\d+\.tmp$/.test(h.path));
        assert.equal(tmp.length, 1, `the preallocated segment is locked too: ${JSON.stringify(holders)}`);
        const db = holders.filter((h) => h.kind === 'FLOCK' && h.path === 'member/snap/db');
        assert.equal(db.length, 1, `no flock on member/snap/db: ${JSON.stringify(holders)}`);
        for (const h of [...wal, ...tmp, ...db]) {
          assert.equal(h.pid, etcd.pid, `${h.path}: owner pid`);
          assert.equal(h.command, 'etcd', `${h.path}: owner command`);
          assert.equal(h.access, 'WRITE');
          assert.equal(h.waiting, undefined);
        }
        assert.deepEqual(holders.filter((h: Holder) => h.pid !== etcd.pid), [], 'only etcd holds the dir');

        assert.throws(() => assertNotHeld(fx.dir), (e: unknown) => {
          assert.ok(e instanceof LockedError, String(e));
          assert.equal(e.exitCode, 75);
          assert.match(e.message, new RegExp(`^member/wal/[0-9a-f]{16}-[0-9a-f]{16}\\.wal is locked by etcd \\(pid ${etcd.pid}\\): stop etcd before repairing`));
          assert.match(e.message, /also held: .*member\/snap\/db/);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        });

        // without /proc only flock(1) on the db can tell; it does, and the result says it is partial
        const probed = findHolders(fx.dir, { proc: '/nonexistent-proc' });
        assert.deepEqual(probed, [{ path: 'member/snap/db', kind: 'flock-probe', access: 'WRITE' }]);
        assert.equal(probed.complete, false);
        assert.match(probed.limits.join(' '), /could not be read/);
        assert.throws(() => assertNotHeld(fx.dir, { proc: '/nonexistent-proc' }), /^LockedError: member\/snap\/db is locked \(an exclusive flock, found with flock\(1\)/);

        // from another PID namespace (a container sharing the disk): FLOCK lines vanish from
        // /proc/locks, OFD lines stay (pid -1, owner unknown); the flock probe still finds the db
        const inNs = await otherPidNamespace(fx.dir);
        if (typeof inNs === 'string') {
          t.diagnostic(`PID-namespace check NOT run: ${inNs}`);
        } else {
          t.diagnostic(`seen from a new PID namespace: ${JSON.stringify(inNs)}`);
          assert.ok(inNs.holders.some((h) => h.kind === 'OFDLCK' && h.path.endsWith('.wal') && h.pid === undefined), JSON.stringify(inNs));
          assert.ok(!inNs.holders.some((h) => h.kind === 'FLOCK'), 'FLOCK entries of processes outside the namespace are hidden');
          assert.ok(inNs.holders.some((h) => h.kind === 'flock-probe' && h.path === 'member/snap/db'), JSON.stringify(inNs));
          assert.match(inNs.error, /is locked \(OFDLCK lock; its owner is not visible here/);
        }
      } finally {
        await etcd.stop();
      }

      const after = findHolders(fx.dir);
      assert.deepEqual(after, [], `etcd ${version} stopped: nothing holds the dir`);
      assert.doesNotThrow(() => assertNotHeld(fx.dir));
    } finally {
      fx.cleanup();
    }
  });
}

/** findHolders + assertNotHeld run inside `unshare --pid --fork --mount-proc` (needs root); a string says why not */
async function otherPidNamespace(dir: string): Promise<{ holders: Holder[]; limits: string[]; error: string } | string> {
  if (process.getuid?.() !== 0) return 'needs root for unshare --pid';
  if (spawnSync('unshare', ['--version']).error) return 'unshare(1) not installed';
  const script = `
    const m = await import(${JSON.stringify(LOCKS_MODULE)});
    const h = m.findHolders(${JSON.stringify(dir)});
    let error = '';
    try { m.assertNotHeld(${JSON.stringify(dir)}); } catch (e) { error = e.message; }
    console.log(JSON.stringify({ holders: h, limits: h.limits, error }));`;
  try {
    const r = await run('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    return JSON.parse(r.stdout.trim()) as { holders: Holder[]; limits: string[]; error: string };
  } catch (e) {
    return `unshare failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

test('etcd 3.5 with --wal-dir: the WAL outside the data dir is found and named by its absolute path', { skip: !linux && 'Linux only: /proc/locks' }, async (t) => {
  if (!(await etcdBin('3.5'))) { t.skip('etcd 3.5 binary not available: this test was NOT run'); return; }
  const fx = await loadFixture('v35-workload');
  try {
    const walDir = `${fx.dir}-wal`;
    renameSync(join(fx.dir, 'member', 'wal'), walDir);
    const etcd = await bootEtcd('3.5', fx.dir, { args: ['--wal-dir', walDir] });
    assert.ok(etcd.ok, `etcd did not start: ${etcd.error}\n${etcd.logTail}`);
    try {
      const holders = findHolders(fx.dir, { walDir });
      const seg = holders.filter((h) => h.kind === 'OFDLCK' && h.path.startsWith(`${walDir}/`) && h.path.endsWith('.wal'));
      assert.equal(seg.length, 1, JSON.stringify(holders));
      assert.equal(seg[0]?.pid, etcd.pid);
      assert.ok(holders.some((h) => h.kind === 'FLOCK' && h.path === 'member/snap/db' && h.pid === etcd.pid));
      assert.throws(() => assertNotHeld(fx.dir, { walDir }), new RegExp(`^LockedError: ${walDir}/[0-9a-f-]+\\.wal is locked by etcd \\(pid ${etcd.pid}\\)`));
      // without walDir only the db is seen, and that still refuses
      assert.deepEqual(findHolders(fx.dir).map((h) => h.path), ['member/snap/db']);
    } finally {
      await etcd.stop();
      rmSync(walDir, { recursive: true, force: true });
    }
  } finally {
    fx.cleanup();
  }
});

test('not only etcd: a process with a WAL open for writing (no lock) and one waiting for the db lock are holders too', { skip: !linux && 'Linux only: /proc' }, async (t) => {
  if (spawnSync('flock', ['--version']).error) {
    if (process.env['CI'] === 'true') assert.fail('util-linux flock(1) is missing in CI');
    t.skip('util-linux flock(1) not installed: this test was NOT run');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'wal-doctor-holders-'));
  const wal = join(dir, 'member', 'wal', '0000000000000000-0000000000000000.wal');
  const db = join(dir, 'member', 'snap', 'db');
  mkdirSync(dirname(wal), { recursive: true });
  mkdirSync(dirname(db), { recursive: true });
  writeFileSync(wal, 'x');
  writeFileSync(db, 'x');
  const children: ChildProcess[] = [];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    assert.deepEqual(findHolders(dir), []);
    // a reader is harmless; a writer without a lock is not
    children.push(spawn('sh', ['-c', `exec 3<"${wal}"; exec sleep 30`], { stdio: 'ignore' }));
    const writer = spawn('sh', ['-c', `exec 3>>"${wal}"; exec sleep 30`], { stdio: 'ignore' });
    children.push(writer);
    const holder = spawn('flock', ['--exclusive', db, 'sleep', '30'], { stdio: 'ignore' });
    children.push(holder);
    await sleep(300);
    const waiter = spawn('flock', ['--exclusive', db, 'true'], { stdio: 'ignore' });
    children.push(waiter);
    let h = findHolders(dir);
    for (let i = 0; i < 50 && !h.some((x) => x.waiting); i++) { await sleep(50); h = findHolders(dir); }
    assert.deepEqual(h.map((x) => [x.path, x.kind, x.pid, x.command, x.waiting ?? false]), [
      ['member/wal/0000000000000000-0000000000000000.wal', 'open-fd', writer.pid, 'sleep', false],
      ['member/snap/db', 'FLOCK', holder.pid, 'flock', false],
      ['member/snap/db', 'FLOCK', waiter.pid, 'flock', true],
    ]);
    assert.throws(() => assertNotHeld(dir), new RegExp(`^LockedError: member/snap/db is locked by flock \\(pid ${holder.pid}\\): stop flock \\(pid ${holder.pid}\\) before repairing \\(also held: member/wal/`));
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [version, fixture] of cases) {
  test(`lockEtcdFiles takes etcd ${version}'s own locks: refused (naming etcd) while it runs; held, etcd cannot start (it waits at the db) until they are released`, { skip: !linux && 'Linux only: OFD locks' }, async (t) => {
    if (!(await etcdBin(version))) { t.skip(`etcd ${version} binary not available: this test was NOT run`); return; }
    const fx = await loadFixture(fixture);
    try {
      const etcd = await bootEtcd(version, fx.dir);
      assert.ok(etcd.ok, `etcd ${version} did not start: ${etcd.error}\n${etcd.logTail}`);
      try {
        await assert.rejects(lockEtcdFiles(fx.dir), (e: unknown) => {
          assert.ok(e instanceof LockedError, String(e));
          assert.match(e.message, new RegExp(`is locked by etcd \\(pid ${etcd.pid}\\): stop etcd before repairing`));
          assert.doesNotMatch(e.message, /\n/);
          return true;
        });
        assert.ok(!readFileSync('/proc/locks', 'utf8').split('\n').some((l) => / FLOCK /.test(l) && !l.includes(` ${etcd.pid} `) && l.includes(lockKeyOfPath(join(fx.dir, 'member/snap/db'))!)), 'the refused attempt left no lock behind');
      } finally {
        await etcd.stop();
      }

      const held = await lockEtcdFiles(fx.dir);
      let starting: ReturnType<typeof bootEtcd> | undefined;
      try {
        assert.deepEqual(held.limits, []);
        assert.deepEqual(held.locked, ['member/snap/db (flock)', 'member/wal/0000000000000000-0000000000000000.wal (OFD)']);
        const mine = findHolders(fx.dir, { ignorePids: [] , flockProbe: false });
        assert.ok(mine.some((h) => h.kind === 'FLOCK' && h.path === 'member/snap/db'), 'the kernel shows our flock on the db');
        assert.deepEqual(findHolders(fx.dir, held.holderOptions), [], 'our own locks are not holders');

        starting = bootEtcd(version, fx.dir, { timeoutMs: 40_000 });
        await new Promise((r) => setTimeout(r, 4000));
        const h = findHolders(fx.dir, held.holderOptions);
        t.diagnostic(`4 s after etcd ${version} was started with the locks held: ${JSON.stringify(h)}`);
        const etcdPid = h.find((x) => x.command === 'etcd')?.pid;
        assert.ok(etcdPid, `etcd opened the db (and waits for its flock): ${JSON.stringify(h)}`);
        assert.ok(!h.some((x) => x.kind === 'OFDLCK' || x.kind === 'FLOCK'), `etcd got no lock: it has not gone past the db: ${JSON.stringify(h)}`);
      } finally {
        await held.release();
      }
      const e = await starting!;
      assert.ok(e.ok, `etcd ${version} did not start once the locks were released: ${e.error}\n${e.logTail}`);
      await e.stop();
    } finally {
      fx.cleanup();
    }
  });
}
