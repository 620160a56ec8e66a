// A repair killed (SIGKILL) at every step it passes through must leave a dir that either `undo`
// restores byte for byte, or a rerun of `repair` finishes. Five plans between them take every kind of
// step the applier has: a cut segment set aside and bridged (v35-truncated-segment), a torn tail cut
// (v35-torn-tail), a zeroed length word written back (v35-zero-length-mid), a missing middle segment
// bridged and the next one renamed (v35-missing-middle-segment), .snap files set aside when the db is
// missing (v35-db-missing-with-snaps). Each crash point is reached by the plans listed for it, or is
// named below with the reason no repair reaches it; any other point not reached fails the test.
// Every rerun must leave the very bytes an uninterrupted repair leaves; real etcd boots on every
// rerun's result of the first plan, and once per plan on the uninterrupted result of the others.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRASH_POINTS } from '../../src/io/atomic.js';
import { runCli as cli, treeHashes } from '../support/cli.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';
import { bootEtcd, compareKeys, etcdBin, getAll, put } from '../support/etcd.js';

interface Plan {
  fixture: string;
  flags: string[];
  /** the step kinds this plan must reach (a prefix of the crash point names) */
  reaches: string[];
  /** boot real etcd after every crashed-then-rerun repair (else: once, on the uninterrupted result) */
  bootEach: boolean;
}

const PLANS: Plan[] = [
  { fixture: 'v35-truncated-segment', flags: ['--allow-entry-loss', '--bridge'], reaches: ['manifest:', 'backup:', 'rewrite:', 'repair:'], bootEach: true },
  { fixture: 'v35-torn-tail', flags: [], reaches: ['truncate:'], bootEach: false },
  { fixture: 'v35-zero-length-mid', flags: [], reaches: ['append:'], bootEach: false },
  { fixture: 'v35-missing-middle-segment', flags: ['--allow-entry-loss', '--bridge'], reaches: ['rename:', 'rewrite:'], bootEach: false },
  { fixture: 'v35-db-missing-with-snaps', flags: [], reaches: ['remove:'], bootEach: false },
];

/** Crash points no repair passes through, and why (each is tested where it is reached). */
const NOT_IN_REPAIR: Record<string, string> = {
  'write:first-chunk': 'writeFileAtomic writes new files: rebuild (test/rebuild/crash.test.ts)',
  'write:tmp-synced': 'writeFileAtomic: rebuild only',
  'write:renamed': 'writeFileAtomic: rebuild only',
  'restore:tmp-synced': 'undo only (test/io/backup-crash.test.ts)',
  'restore:renamed': 'undo only',
  'undo:file-restored': 'undo only',
  'undo:file-removed': 'undo only',
};

/** Each point, and the second and third time the per-step points are reached. */
const POINTS = [...CRASH_POINTS, 'repair:step-applied#2', 'repair:step-applied#3', 'backup:file-copied#2', 'backup:step-recorded#2'];

async function assertServes(dir: string, keys: LoadedFixture['manifest']['keys'], t: { skip(m: string): void }): Promise<boolean> {
  if (!(await etcdBin('3.5'))) {
    t.skip('etcd 3.5 binary not available: the boot check was NOT run');
    return false;
  }
  const e = await bootEtcd('3.5', dir, { timeoutMs: 30000 });
  assert.ok(e.ok, `${e.error}\n${e.logTail}`);
  try {
    const cmp = compareKeys((await getAll(e.endpoint)).kvs, keys);
    assert.deepEqual({ missing: cmp.missing, wrong: cmp.wrong, extra: cmp.extra }, { missing: [], wrong: [], extra: [] });
    await put(e.endpoint, '/after-crash-repair', 'ok');
    assert.equal((await getAll(e.endpoint)).kvs.get('/after-crash-repair')?.value.toString(), 'ok');
  } finally {
    await e.stop();
  }
  return true;
}

const reached = new Set<string>();

for (const plan of PLANS) {
  describe(`repair of ${plan.fixture} killed at every step`, () => {
    let fx: LoadedFixture;
    let work: string;
    let original: Record<string, string>;
    /** the data dir after the same repair, uninterrupted */
    let repaired: Record<string, string>;
    before(async () => {
      fx = await loadFixture(plan.fixture);
      work = mkdtempSync(join(tmpdir(), 'wal-doctor-crash-'));
      original = treeHashes(fx.dir);
      const clean = join(work, 'uninterrupted');
      cpSync(fx.dir, clean, { recursive: true });
      const r = cli(['repair', '--yes', ...plan.flags, '--backup-dir', `${clean}.backup`, clean]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      repaired = treeHashes(clean);
    });
    after(() => {
      fx.cleanup();
      rmSync(work, { recursive: true, force: true });
    });

    if (!plan.bootEach) {
      it('real etcd serves every key on the uninterrupted repair and takes a write', async (t) => {
        const dir = join(work, 'boot');
        cpSync(join(work, 'uninterrupted'), dir, { recursive: true });
        await assertServes(dir, fx.manifest.keys, t);
      });
    }

    const hitHere = new Set<string>();
    for (const point of POINTS) {
      it(`crash at ${point}`, async (t) => {
        const dir = join(work, point.replace(/[^a-z0-9]+/gi, '-'));
        cpSync(fx.dir, dir, { recursive: true });
        const backup = `${dir}.backup`;
        const r = cli(['repair', '--yes', ...plan.flags, '--backup-dir', backup, dir], { env: { WAL_DOCTOR_CRASH_AT: point } });
        if (r.signal !== 'SIGKILL') {
          // Not on this plan's path: the repair must have run to the end, as if uninterrupted.
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.deepEqual(treeHashes(dir), repaired);
          t.diagnostic(`${point}: not on this plan's path`);
          rmSync(dir, { recursive: true, force: true });
          return;
        }
        hitHere.add(point);
        reached.add(point.replace(/#\d+$/, ''));
        // Undo, when a backup was committed, gives the original bytes; otherwise nothing changed.
        if (existsSync(join(backup, 'manifest.json')) && JSON.parse(readFileSync(join(backup, 'manifest.json'), 'utf8')).state === 'committed') {
          const u = cli(['undo', backup]);
          assert.equal(u.code, 0, u.stdout + u.stderr);
        }
        assert.deepEqual(treeHashes(dir), original, 'after undo (or a crash before the backup was committed) the dir must be as it was');

        // Crash again at the same point, then rerun without crashing: the rerun must finish the job.
        rmSync(backup, { recursive: true, force: true });
        rmSync(`${backup}.tmp`, { recursive: true, force: true });
        const again = cli(['repair', '--yes', ...plan.flags, '--backup-dir', backup, dir], { env: { WAL_DOCTOR_CRASH_AT: point } });
        assert.equal(again.signal, 'SIGKILL');
        const rerun = cli(['repair', '--yes', ...plan.flags, '--backup-dir', `${backup}-2`, dir]);
        assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
        assert.equal(cli(['verify', dir]).code, 0);
        assert.deepEqual(treeHashes(dir), repaired, 'the rerun leaves the bytes of an uninterrupted repair');
        if (plan.bootEach) await assertServes(dir, fx.manifest.keys, t);
        rmSync(dir, { recursive: true, force: true });
      });
    }

    it(`reaches its ${plan.reaches.join(' ')} steps`, () => {
      for (const kind of plan.reaches) assert.ok([...hitHere].some((p) => p.startsWith(kind)), `no ${kind} crash point was on the path of this plan`);
    });
  });
}

describe('crash points', () => {
  it('every point is reached by some plan, or named with the reason no repair reaches it', () => {
    const missed = CRASH_POINTS.filter((p) => !reached.has(p) && !(p in NOT_IN_REPAIR));
    assert.deepEqual(missed, [], 'crash points no plan reached: add a plan that reaches them, or say why none can');
    const wronglyExcused = Object.keys(NOT_IN_REPAIR).filter((p) => reached.has(p));
    assert.deepEqual(wronglyExcused, [], 'named as never reached by a repair, but reached');
  });
});
