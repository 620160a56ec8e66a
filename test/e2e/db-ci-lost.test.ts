// A db whose consistent index cannot be read (the key lost: fixtures/damage.mjs db-ci-key-renamed,
// what a power cut left on a page of the meta bucket in the boot fuzz, 3.7 case 22). etcd reads the
// index as 0 and dies looking for a .snap.db of its newest snapshot. Before: verify said "set the
// newer .snap files aside", repair found none newer than an index it could not read, and said
// "nothing to repair: etcd will start as is" with exit 0.
// Now: 3.5 and 3.6 (their snapshot comes from a .snap file) set the db and the .snap files aside
// and replay the WAL from index 1, and serve every key; 3.7 (its snapshot comes from the WAL's
// record) has nothing a repair can do, and repair says so, exit 2, changing nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { runCli } from '../support/cli.js';
import { bootCheck, fileList, needEtcd } from '../support/etcd.js';
import { applyDamage, type EtcdSeries, loadFixture } from '../support/fixtures.js';
import { servesEverything } from '../support/served.js';

const CASES: { fixture: string; v: EtcdSeries; repaired: boolean }[] = [
  { fixture: 'v35-snapshots', v: '3.5', repaired: true },
  { fixture: 'v35-snapshots', v: '3.6', repaired: true },
  { fixture: 'v35-then-v36-then-v37', v: '3.7', repaired: false },
];

describe('the db\'s consistent index lost: never "nothing to repair" where etcd fails', () => {
  for (const { fixture, v, repaired } of CASES) {
    it(`${fixture}, etcd ${v}`, async (t) => {
      if (!(await needEtcd(t, v))) return;
      const fx = await loadFixture(fixture);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-ci-lost-'));
      try {
        applyDamage('db-ci-key-renamed', fx.dir);
        const before = await bootCheck(v, fx.dir, fx.manifest);
        const a = inspectPath(fx.dir, { etcdVersion: v, checkHolders: false });
        const p = a.report.etcd.find((e) => e.version === v)!;
        assert.deepEqual([p.outcome, p.error], ['fails', before.error], 'the prediction is what etcd does');
        if (repaired) assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [1, { kind: 'repair', flags: [], what: 'db-aside' }]);
        else assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [2, { kind: 'restore-backup', why: 'db-unreadable' }]);

        const files = fileList(fx.dir);
        const r = runCli(['repair', '--auto', '--yes', '--backup-dir', join(work, 'backup'), fx.dir]);
        if (!repaired) {
          assert.equal(r.code, 2, r.stdout + r.stderr);
          assert.match(r.stdout + r.stderr, /would still not start/);
          assert.deepEqual(fileList(fx.dir), files, 'nothing changed');
          return;
        }
        assert.equal(r.code, 0, r.stdout + r.stderr);
        await servesEverything(v, fx.dir, fx.manifest);
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  }
});
