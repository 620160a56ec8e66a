// A repair killed (SIGKILL) at every step it passes through must leave a dir that either `undo`
// restores byte for byte, or a rerun of `repair` finishes — and then real etcd serves every key
// and takes new writes. The plan exercised cuts a segment, sets a later one aside and bridges
// (fixture v35-truncated-segment with --allow-entry-loss --bridge), so every kind of step is hit.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRASH_POINTS } from '../../src/io/atomic.js';
import { runCli as cli, treeHashes } from '../support/cli.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';
import { bootEtcd, compareKeys, etcdBin, getAll, put } from '../support/etcd.js';

const FLAGS = ['--allow-entry-loss', '--bridge'];

describe('repair killed at every step', () => {
  let fx: LoadedFixture;
  let work: string;
  let original: Record<string, string>;
  before(async () => {
    fx = await loadFixture('v35-truncated-segment');
    work = mkdtempSync(join(tmpdir(), 'wal-doctor-crash-'));
    original = treeHashes(fx.dir);
  });
  after(() => {
    fx.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  // Each point, and the second and third time the per-step points are reached.
  const points = [...CRASH_POINTS, 'repair:step-applied', 'repair:step-applied#2', 'repair:step-applied#3', 'backup:file-copied#2', 'backup:step-recorded#2'];
  let hit = 0;
  for (const point of points) {
    it(`crash at ${point}`, async (t) => {
      const dir = join(work, point.replace(/[^a-z0-9]+/gi, '-'));
      cpSync(fx.dir, dir, { recursive: true });
      const backup = `${dir}.backup`;
      const r = cli(['repair', '--yes', ...FLAGS, '--backup-dir', backup, dir], { env: { WAL_DOCTOR_CRASH_AT: point } });
      if (r.signal !== 'SIGKILL') {
        // Not on this repair's path (e.g. undo-only or cross-device points): it must have succeeded.
        assert.equal(r.code, 0, r.stdout + r.stderr);
        t.diagnostic(`${point}: not reached by this repair`);
        return;
      }
      hit++;
      // Undo, when a backup was committed, gives the original bytes; otherwise nothing changed.
      if (existsSync(join(backup, 'manifest.json')) && JSON.parse(readFileSync(join(backup, 'manifest.json'), 'utf8')).state === 'committed') {
        const u = cli(['undo', backup]);
        assert.equal(u.code, 0, u.stdout + u.stderr);
      }
      assert.deepEqual(treeHashes(dir), original, 'after undo (or a crash before the backup was committed) the dir must be as it was');

      // Crash again at the same point, then rerun without crashing: the rerun must finish the job.
      rmSync(backup, { recursive: true, force: true });
      rmSync(`${backup}.tmp`, { recursive: true, force: true });
      const again = cli(['repair', '--yes', ...FLAGS, '--backup-dir', backup, dir], { env: { WAL_DOCTOR_CRASH_AT: point } });
      assert.equal(again.signal, 'SIGKILL');
      const rerun = cli(['repair', '--yes', ...FLAGS, '--backup-dir', `${backup}-2`, dir]);
      assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
      assert.equal(cli(['verify', dir]).code, 0);

      if (!(await etcdBin('3.5'))) {
        t.skip('etcd 3.5 binary not available: the boot check was NOT run');
        return;
      }
      const e = await bootEtcd('3.5', dir, { timeoutMs: 30000 });
      assert.ok(e.ok, `${e.error}\n${e.logTail}`);
      try {
        const cmp = compareKeys((await getAll(e.endpoint)).kvs, fx.manifest.keys);
        assert.deepEqual({ missing: cmp.missing, wrong: cmp.wrong, extra: cmp.extra }, { missing: [], wrong: [], extra: [] });
        await put(e.endpoint, '/after-crash-repair', 'ok');
        assert.equal((await getAll(e.endpoint)).kvs.get('/after-crash-repair')?.value.toString(), 'ok');
      } finally {
        await e.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('the crash points cover every kind of step', () => {
    assert.ok(hit >= 12, `only ${hit} crash points were on the repair's path`);
  });
});
