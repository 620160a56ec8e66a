// /proc/locks parsing and the st_dev → "major:minor:inode" key, on lines the kernel really printed
// (etcd 3.4.23 / 3.5.30 running; spec §1.3) and on a lock we take ourselves with util-linux flock(1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devMajor, devMinor, lockKey, lockKeyOfPath, parseProcLocks, processCommand, processStartTime, scanOpenFiles } from '../../src/io/lock-proc.js';

test('parseProcLocks reads the lines etcd leaves in /proc/locks, waiters and fdinfo lines included', () => {
  const text = [
    '1: OFDLCK ADVISORY  WRITE -1 fe:00:2148711 0 EOF',
    '2: OFDLCK ADVISORY  WRITE -1 fe:00:2148710 0 EOF',
    '3: FLOCK  ADVISORY  WRITE 8286 fe:00:2148708 0 EOF',
    '3: -> FLOCK  ADVISORY  READ 9001 fe:00:2148708 0 EOF',
    '4: POSIX  ADVISORY  READ 612 103:02:1234567 128 255',
    '5: LEASE  ACTIVE    READ 77 00:2a:99 0 EOF',
    '6: FLOCK  ADVISORY  WRITE 88 <none>:0 0 EOF',
    'garbage that is not a lock line',
  ].join('\n');
  const l = parseProcLocks(text);
  assert.equal(l.length, 7);
  assert.deepEqual(
    l.map((x) => [x.ordinal, x.waiting, x.lockClass, x.access, x.pid, x.key, x.start, x.end]),
    [
      [1, false, 'OFDLCK', 'WRITE', undefined, 'fe:00:2148711', '0', 'EOF'],
      [2, false, 'OFDLCK', 'WRITE', undefined, 'fe:00:2148710', '0', 'EOF'],
      [3, false, 'FLOCK', 'WRITE', 8286, 'fe:00:2148708', '0', 'EOF'],
      [3, true, 'FLOCK', 'READ', 9001, 'fe:00:2148708', '0', 'EOF'],
      [4, false, 'POSIX', 'READ', 612, '103:02:1234567', '128', '255'],
      [5, false, 'LEASE', 'READ', 77, '00:2a:99', '0', 'EOF'],
      [6, false, 'FLOCK', 'WRITE', 88, undefined, '0', 'EOF'],
    ],
  );
  // /proc/PID/fdinfo/N as etcd 3.5.30's WAL fd showed it
  const fdinfo = parseProcLocks('pos:\t61456\nflags:\t02100002\nmnt_id:\t27\nino:\t2205194\nlock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:2205194 0 EOF\n');
  assert.equal(fdinfo.length, 1);
  assert.equal(fdinfo[0]?.key, 'fe:00:2205194');
  assert.equal(fdinfo[0]?.lockClass, 'OFDLCK');
});

test('lockKey encodes st_dev as the kernel prints it: hex major/minor (2+ digits), decimal inode', () => {
  assert.equal(lockKey(0xfe00n, 2148708n), 'fe:00:2148708');
  assert.equal(lockKey(0x0803n, 5n), '08:03:5');
  // glibc makedev(major, minor) for numbers that need the high bits
  const makedev = (ma: bigint, mi: bigint) => ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
  for (const [ma, mi] of [[259n, 1n], [0x1234n, 0x12345n], [0xfffffn, 0xfffffffn], [0n, 0x2an]] as const) {
    const dev = makedev(ma, mi);
    assert.equal(devMajor(dev), ma);
    assert.equal(devMinor(dev), mi);
  }
  assert.equal(lockKey(makedev(0x1234n, 0x12345n), 18446744073709551615n), '1234:12345:18446744073709551615');
});

test('the key of a file we flock ourselves is the one /proc/locks prints, and fdinfo ties it to the holder', { skip: process.platform !== 'linux' && 'Linux only: /proc/locks' }, async (t) => {
  if (spawnSync('flock', ['--version']).error) {
    if (process.env['CI'] === 'true') assert.fail('util-linux flock(1) is missing in CI');
    t.skip('util-linux flock(1) not installed: this test was NOT run');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'wal-doctor-lockproc-'));
  const file = join(dir, 'db');
  writeFileSync(file, 'x');
  const child = spawn('flock', ['--exclusive', file, 'sleep', '30'], { stdio: 'ignore' });
  try {
    const key = lockKeyOfPath(file);
    assert.ok(key);
    let mine: ReturnType<typeof parseProcLocks> = [];
    for (let i = 0; i < 100 && mine.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      mine = parseProcLocks(readFileSync('/proc/locks', 'utf8')).filter((l) => l.key === key);
    }
    assert.equal(mine.length, 1, `no /proc/locks line for ${key}`);
    assert.equal(mine[0]?.lockClass, 'FLOCK');
    assert.equal(mine[0]?.access, 'WRITE');
    // flock(1) takes the lock, then forks the command: the lock's pid is flock's own
    assert.equal(mine[0]?.pid, child.pid);
    const st = statSync(file, { bigint: true });
    assert.equal(key, lockKey(st.dev, st.ino));

    const scan = scanOpenFiles('/proc', new Set([key]), new Set(['db']));
    const open = scan.files.filter((f) => f.pid === child.pid);
    assert.equal(open.length, 1, JSON.stringify(scan.files));
    assert.equal(open[0]?.locks[0]?.key, key);
    assert.equal(processCommand('/proc', child.pid ?? -1), 'flock');
    assert.match(processStartTime('/proc', process.pid) ?? '', /^\d+$/);
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
