// A last record that ends inside its own data field, no sector zeroed (fixtures/damage.mjs
// record-cut-inside): gogo's Unmarshal says `unexpected EOF`, which etcd 3.4, 3.5 and 3.6 take for a
// torn tail and repair; 3.7 unmarshals with protobuf-go, which has no unexpected EOF, and dies
// (`proto: cannot parse invalid wire-format data`). Each line boots on a copy of its own workload
// dir so damaged: the prediction is what it did, with its error; verify never exits 0; and after
// `wal-doctor repair`, etcd starts, serves every key of the manifest and takes a write.
//
// Needs etcd (scripts/etcd-bin.sh): with CI=true a missing binary fails the test; elsewhere it is
// skipped and says it was NOT run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectPath } from '../../src/inspect/analyze.js';
import { bootCheck, needEtcd } from '../support/etcd.js';
import { runCli } from '../support/cli.js';
import { WORKLOADS, applyDamage, loadFixture } from '../support/fixtures.js';



for (const { fixture, series } of WORKLOADS) {
  test(`a record cut inside its data on ${fixture}: etcd ${series} does what we predict, and boots after repair`, async (t) => {
    if (!(await needEtcd(t, series))) return;
    const fx = await loadFixture(fixture);
    try {
      applyDamage('record-cut-inside', fx.dir);
      const a = inspectPath(fx.dir, { etcdVersion: series, checkHolders: false });
      const p = a.report.etcd.find((e) => e.version === series)!;
      assert.notEqual(a.report.verdict.exitCode, 0);
      assert.equal(p.outcome, series === '3.7' ? 'fails' : 'self-repairs');

      const real = await bootCheck(series, fx.dir, fx.manifest);
      if (p.outcome === 'fails') {
        assert.equal(real.boot, 'failed', real.logTail);
        assert.equal(real.error, p.error);
        assert.equal(real.error, 'proto: cannot parse invalid wire-format data');
      } else {
        assert.equal(real.boot, 'ok', `${real.error}\n${real.logTail}`);
        assert.ok(real.repairLogged, 'etcd logged its own repair');
      }

      const r = runCli(['repair', '--yes', fx.dir]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(runCli(['verify', '--etcd-version', series, fx.dir]).code, 0);
      const after = await bootCheck(series, fx.dir, fx.manifest, { probe: true });
      assert.equal(after.boot, 'ok', `${after.error}\n${after.logTail}`);
      assert.deepEqual({ missing: after.missing, wrong: after.wrong }, { missing: [], wrong: [] });
      assert.equal(after.probeWrite, 'visible');
    } finally {
      fx.cleanup();
    }
  });
}
