// A full disk: on a real, small tmpfs (mounted here; needs root), `repair` checks the free space
// (statfs) before the first byte of the backup and refuses, naming the bytes needed and free; and
// when the disk fills up while the backup is being written (the repair is stopped with SIGSTOP at a
// point of its backup, the test fills the file system, then lets it go on: a real ENOSPC, not a
// simulated one) the partial backup is removed, so the disk is as free as before and the data dir
// untouched. With CI=true a failing mount fails the test; elsewhere it is skipped, saying so.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runCli, treeHashes } from '../support/cli.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';

const free = (dir: string) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

/** fill the file system of `dir` until only `leave` bytes are free (a real file of zeros) */
function fillLeaving(dir: string, leave: number): string {
  const filler = join(dir, 'filler');
  const n = free(dir) - leave;
  assert.ok(n > 0, `only ${free(dir)} bytes free, cannot leave ${leave}`);
  execFileSync('fallocate', ['-l', String(n), filler]);
  return filler;
}

function stopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

describe('repair on a full disk (a real tmpfs)', () => {
  let fx: LoadedFixture;
  let mnt: string;
  let mounted = false;
  let why = '';
  before(async () => {
    fx = await loadFixture('v35-torn-tail');
    mnt = mkdtempSync(join(tmpdir(), 'wal-doctor-tmpfs-'));
    if (process.getuid?.() !== 0) why = 'not root: cannot mount a tmpfs';
    else {
      const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'tmpfs', mnt], { encoding: 'utf8' });
      if (r.status === 0) mounted = true;
      else why = `mount -t tmpfs failed: ${r.stderr.trim() || r.error?.message}`;
    }
  });
  after(() => {
    if (mounted) spawnSync('umount', [mnt]);
    rmdirSync(mnt);
    fx.cleanup();
  });

  const needMount = (t: import('node:test').TestContext): boolean => {
    if (mounted) return true;
    if (process.env['CI'] === 'true') assert.fail(`the full-disk test needs a tmpfs in CI: ${why}`);
    t.skip(`${why}: this test was NOT run`);
    return false;
  };

  it('not enough room for the backup and the temp copy: refused before the first byte, naming needed and free bytes', (t) => {
    if (!needMount(t)) return;
    const data = join(mnt, 'data');
    cpSync(fx.dir, data, { recursive: true });
    const original = treeHashes(data);
    const filler = fillLeaving(mnt, 1 << 20); // 1 MiB: less than the copies + margin need
    try {
      const before = free(mnt);
      const r = runCli(['repair', '--yes', data]);
      assert.equal(r.code, 74, r.stdout + r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      const m = /^wal-doctor: not enough free space on the file system of .*: ([\d,]+) bytes needed \(the backup ([\d,]+) bytes \+ the repair's temp files ([\d,]+) bytes \+ ([\d,]+) margin\), ([\d,]+) free; nothing was changed$/.exec(lines[0]!);
      assert.ok(m, lines[0]);
      const num = (s: string) => Number(s.replace(/,/g, ''));
      assert.equal(num(m[2]!), 61440, 'the segment, in whole 4 KiB blocks');
      assert.equal(num(m[3]!), 61440, 'its truncated temp copy');
      assert.equal(num(m[1]!), num(m[2]!) + num(m[3]!) + num(m[4]!));
      assert.ok(num(m[5]!) < num(m[1]!));
      t.diagnostic(lines[0]!);
      assert.deepEqual(treeHashes(data), original, 'the data dir is untouched');
      assert.deepEqual(readdirSync(mnt).sort(), ['data', 'filler'], 'no backup, no lock file, no temp left');
      assert.equal(free(mnt), before, 'not a byte of the disk was used');
    } finally {
      rmSync(filler);
      rmSync(data, { recursive: true, force: true });
    }
  });

  for (const point of ['backup:dir-created', 'backup:file-copied']) {
    it(`the disk fills up while the backup is written (stopped at ${point}): the partial backup is removed, the disk as free as before`, async (t) => {
      if (!needMount(t)) return;
      const data = join(mnt, 'data');
      cpSync(fx.dir, data, { recursive: true });
      const original = treeHashes(data);
      const before = free(mnt);
      const child = spawn(process.execPath, [BIN, 'repair', '--yes', data], { env: { ...process.env, WAL_DOCTOR_STOP_AT: point }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      const deadline = Date.now() + 30_000;
      while (!stopped(child.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(stopped(child.pid!), `the repair never reached ${point}: ${stdout}${stderr}`);
      const partial = readdirSync(mnt).filter((n) => n.includes('.wal-doctor-backup-'));
      assert.equal(partial.length, 1, `the backup is being written: ${readdirSync(mnt).join(' ')}`);
      const filler = fillLeaving(mnt, 8192); // less than the 61,196-byte copy (or the manifest) needs
      try {
        child.kill('SIGCONT');
        const code = await exited;
        assert.equal(code, 74, stdout + stderr);
        const lines = stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, stderr);
        assert.match(lines[0]!, /^wal-doctor: .*(ENOSPC|no space left on device)/i);
        t.diagnostic(lines[0]!);
      } finally {
        rmSync(filler);
      }
      assert.deepEqual(treeHashes(data), original, 'the data dir is untouched');
      assert.deepEqual(readdirSync(mnt), ['data'], 'the partial backup (and the lock) are gone');
      assert.equal(free(mnt), before, 'every byte the backup took is free again');

      // and with room, the same repair goes through
      const ok = runCli(['repair', '--yes', data]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.equal(readdirSync(mnt).filter((n) => n.includes('.wal-doctor-backup-')).length, 1);
      for (const n of readdirSync(mnt)) rmSync(join(mnt, n), { recursive: true, force: true });
    });
  }
});
