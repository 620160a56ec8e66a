// Entries etcd cannot apply (fixtures/damage.mjs entry-undecodable, entry-type-unknown), on each
// line's own workload dir: etcd dies, with the error and log message we predict. 3.4 gets its own
// check here (no 3.4 fixture of these kinds is committed): its pbutil panics through capnslog
// whatever --logger says, so its first line is `C | pkg/pbutil: unmarshal should never fail (...)`.
//
// Needs etcd (scripts/etcd-bin.sh): with CI=true a missing binary fails the test; elsewhere it is
// skipped and says it was NOT run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectPath } from '../../src/inspect/analyze.js';
import { bootCheck, needEtcd } from '../support/etcd.js';
import { WORKLOADS, applyDamage, loadFixture } from '../support/fixtures.js';



for (const { fixture, series } of WORKLOADS) {
  for (const kind of ['entry-undecodable', 'entry-type-unknown']) {
    test(`${kind} on ${fixture}: etcd ${series} dies as we predict`, async (t) => {
      if (!(await needEtcd(t, series))) return;
      const fx = await loadFixture(fixture);
      try {
        applyDamage(kind, fx.dir);
        const a = inspectPath(fx.dir, { etcdVersion: series, checkHolders: false });
        const p = a.report.etcd.find((e) => e.version === series)!;
        assert.notEqual(a.report.verdict.exitCode, 0);
        assert.equal(p.outcome, 'fails');
        const real = await bootCheck(series, fx.dir, fx.manifest);
        assert.equal(real.boot, 'failed', real.logTail);
        assert.deepEqual({ error: real.error, log: real.logMessage }, { error: p.error, log: p.log });
      } finally {
        fx.cleanup();
      }
    });
  }
}
