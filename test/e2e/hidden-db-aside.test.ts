// A power cut that tore a db page and lost the block before the log's last entry (damage.mjs
// db-page-zeroed and zeroed-before-last-entry on the crash bases, whose WAL holds every entry from
// index 1). etcd dies on the db. Setting the db aside makes it replay the log into a new db, where
// it stops at the zero length word and starts without the last write, silently. verify said
// "repairable" and `repair --auto` set the db aside, leaving a dir where etcd starts and drops an
// acknowledged write (fuzz, power cut 3.6, seed 156, cases 6 and 7). Now: the loss is named and
// the repair needs --allow-entry-loss (a rebuild from the torn db would lose more); `repair --auto`
// refuses and changes nothing; with the flag the db is set aside and the hidden record cut from
// the log, and etcd then serves every other key and takes a write. The same for a .snap newer than
// the db (an intact db: there a rebuild loses least): setting it aside makes etcd replay from an
// older point.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { runCli } from '../support/cli.js';
import { bootCheck, fileList, needEtcd } from '../support/etcd.js';
import { applyDamage, type EtcdSeries, type FixtureManifest, loadFixture } from '../support/fixtures.js';

const CASES: { fixture: string; v: EtcdSeries }[] = [
  { fixture: 'v35-crash', v: '3.5' },
  { fixture: 'v36-crash', v: '3.6' },
  { fixture: 'v37-crash', v: '3.7' },
];

/** After the lossy repair: verify says healthy, and etcd serves every key but the hidden write and takes a new one. */
async function healthyButForTheHiddenWrite(v: EtcdSeries, dir: string, manifest: FixtureManifest): Promise<void> {
  assert.equal(runCli(['verify', dir]).code, 0);
  const repaired = await bootCheck(v, dir, manifest, { probe: true });
  assert.equal(repaired.boot, 'ok', repaired.logTail);
  assert.equal(repaired.missing.length, 1, `only the hidden write is lost: ${repaired.missing.join(', ')}`);
  assert.deepEqual([repaired.wrong, repaired.probeWrite], [[], 'visible'], repaired.logTail);
}

/** Every file of `dir` with its bytes, to tell "nothing changed". */
const contents = (dir: string) => fileList(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]);

describe('an unusable db and a record hidden behind a zero length word: setting the db aside would drop the write', () => {
  for (const { fixture, v } of CASES) {
    it(`${fixture}, etcd ${v}`, async (t) => {
      if (!(await needEtcd(t, v))) return;
      const fx = await loadFixture(fixture);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-hidden-aside-'));
      try {
        const d = (applyDamage as (k: string, dir: string) => { hidden_entry: number })('zeroed-before-last-entry', fx.dir);
        applyDamage('db-page-zeroed', fx.dir);

        const a = inspectPath(fx.dir, { etcdVersion: v, checkHolders: false });
        // repairable with the flag: replaying the log loses only the hidden write, a rebuild from this db its torn page too
        assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [1, { kind: 'repair', flags: ['--allow-entry-loss'], what: 'db-aside' }]);
        const r = a.verdict.reason;
        assert.ok(r.code === 'records-hidden' && r.afterSetAside === 'db' && r.hazard.first === BigInt(d.hidden_entry), JSON.stringify(a.report.verdict));
        const main = a.predictions.find((p) => p.version === v);
        assert.equal(main?.failure?.code, 'db-open', 'etcd fails on the db as it is');

        const real = await bootCheck(v, fx.dir, fx.manifest);
        assert.equal(real.boot, 'failed', 'etcd dies on the torn db page');

        const before = contents(fx.dir);
        const auto = runCli(['repair', '--auto', '--yes', '--backup-dir', join(work, 'auto'), fx.dir]);
        assert.equal(auto.code, 2, auto.stdout + auto.stderr);
        assert.match(auto.stdout, /no length word brings back/);
        assert.deepEqual(contents(fx.dir), before, 'nothing changed');

        const lossy = runCli(['repair', '--yes', '--allow-entry-loss', '--backup-dir', join(work, 'lossy'), fx.dir]);
        assert.equal(lossy.code, 0, lossy.stdout + lossy.stderr);
        assert.match(lossy.stdout, /member\/snap\/db: move into the backup/);
        assert.match(lossy.stdout, /cut from the log/);
        await healthyButForTheHiddenWrite(v, fx.dir, fx.manifest);
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  }
});

describe('a .snap newer than the db and a record hidden behind a zero length word: setting the .snap aside would drop the write', () => {
  it('v35-db-behind-snap, etcd 3.5', async (t) => {
    if (!(await needEtcd(t, '3.5'))) return;
    const fx = await loadFixture('v35-db-behind-snap');
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-hidden-aside-'));
    try {
      const d = (applyDamage as (k: string, dir: string) => { hidden_entry: number })('zeroed-before-last-entry', fx.dir);
      const a = inspectPath(fx.dir, { etcdVersion: '3.5', checkHolders: false });
      assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [2, { kind: 'rebuild' }]);
      const r = a.verdict.reason;
      assert.ok(r.code === 'records-hidden' && r.afterSetAside === 'snaps' && r.hazard.first === BigInt(d.hidden_entry), JSON.stringify(a.report.verdict));
      assert.equal((await bootCheck('3.5', fx.dir, fx.manifest)).boot, 'failed', 'etcd dies: no db for the .snap it loads');

      const before = contents(fx.dir);
      const auto = runCli(['repair', '--auto', '--yes', '--backup-dir', join(work, 'auto'), fx.dir]);
      assert.equal(auto.code, 2, auto.stdout + auto.stderr);
      assert.deepEqual(contents(fx.dir), before, 'nothing changed');

      const lossy = runCli(['repair', '--yes', '--allow-entry-loss', '--backup-dir', join(work, 'lossy'), fx.dir]);
      assert.equal(lossy.code, 0, lossy.stdout + lossy.stderr);
      await healthyButForTheHiddenWrite('3.5', fx.dir, fx.manifest);
    } finally {
      rmSync(work, { recursive: true, force: true });
      fx.cleanup();
    }
  });
});
