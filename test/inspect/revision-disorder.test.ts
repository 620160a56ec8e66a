// A `key` bucket whose revision keys are out of order (fixtures/damage.mjs db-revision-disorder: one
// revision key set past the newest). bbolt >= 1.3.7 refuses it at Open; etcd 3.4's bbolt 1.3.6 opens
// it and etcd 3.4 answers /health, then dies at the first read of the revision its Seek cannot find
// ("range failed to find revision pair"). verify called it healthy for 3.4 until the boot fuzz met
// it on a real 3.4.23; test/e2e/db-damage.test.ts boots real etcd 3.4-3.7 on it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectPath } from '../../src/inspect/analyze.js';
import { applyDamage, loadFixture } from '../support/fixtures.js';

describe('a key bucket with revisions out of order', () => {
  for (const seed of [1, 2, 3]) {
    it(`v34-workload, seed ${seed}: not healthy; 3.4 dies reading a revision back, 3.5-3.7 refuse the db at open`, async () => {
      const fx = await loadFixture('v34-workload');
      try {
        applyDamage('db-revision-disorder', fx.dir, { seed });
        const a = inspectPath(fx.dir, { checkHolders: false });
        assert.notEqual(a.report.verdict.exitCode, 0);
        const by = Object.fromEntries(a.report.etcd.map((e) => [e.version, e]));
        assert.equal(by['3.4']!.outcome, 'fails');
        assert.equal(by['3.4']!.error, 'range failed to find revision pair');
        for (const v of ['3.5', '3.6', '3.7']) {
          assert.equal(by[v]!.outcome, 'fails', v);
          assert.match(by[v]!.error ?? '', /^freepages: failed to get all reachable pages \(key\[\d+\]=/, v);
        }
      } finally {
        fx.cleanup();
      }
    });
  }

  it('the healthy db: 3.4 and 3.5 start (3.6 and 3.7 refuse a 3.4 dir for other reasons)', async () => {
    const fx = await loadFixture('v34-workload');
    try {
      const a = inspectPath(fx.dir, { checkHolders: false });
      assert.equal(a.report.verdict.exitCode, 0);
      for (const e of a.report.etcd) if (e.version === '3.4' || e.version === '3.5') assert.equal(e.outcome, 'starts', e.version);
    } finally {
      fx.cleanup();
    }
  });
});
