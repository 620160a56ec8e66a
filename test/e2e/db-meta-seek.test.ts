// A db whose meta bucket holds consistent_index where a walk meets it but bbolt's binary search does
// not (fixtures/damage.mjs db-meta-keys-zeroed: the keys after it zeroed, as a power cut left them
// when the sector holding them was not written; boot fuzz seed 168, --block 512 --zeros, 3.6 case
// 15). etcd reads the index as 0 and applies the log again from index 1 on top of the db.
// Before: verify read the index by walking the bucket and predicted that 3.6 starts; 3.6 panicked
// `removed all voters` (the bootstrap's AddNode refused, `membership: ID exists`, with raft holding
// no voter yet). Now the values etcd reads are looked up as bbolt looks them up, and the refusal
// is predicted; 3.5 and 3.7 replay the log over the db and serve (3.7 not every key as written:
// guarded txns fail on the replay). Never healthy; `repair --auto` sets the db aside and etcd, replaying
// the log into a new one, serves every key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { bootCheck, needEtcd } from '../support/etcd.js';
import { applyDamage, type EtcdSeries, loadFixture } from '../support/fixtures.js';
import { autoRepairServesEverything } from '../support/served.js';

const CASES: { fixture: string; v: EtcdSeries; outcome: 'fails' | 'starts' }[] = [
  { fixture: 'v36-workload', v: '3.6', outcome: 'fails' },
  { fixture: 'v36-k8s-txn', v: '3.6', outcome: 'fails' },
  { fixture: 'v36-k8s-txn', v: '3.7', outcome: 'starts' },
  { fixture: 'v35-workload', v: '3.5', outcome: 'starts' },
];

describe('consistent_index that bbolt\'s search cannot find: etcd reads 0', () => {
  for (const { fixture, v, outcome } of CASES) {
    it(`${fixture}, etcd ${v}: ${outcome === 'fails' ? 'removed all voters' : 'starts on the wrong index'}, then repaired`, async (t) => {
      if (!(await needEtcd(t, v))) return;
      const fx = await loadFixture(fixture);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-meta-seek-'));
      try {
        applyDamage('db-meta-keys-zeroed', fx.dir);
        const before = await bootCheck(v, fx.dir, fx.manifest);
        const a = inspectPath(fx.dir, { etcdVersion: v, checkHolders: false });
        const p = a.report.etcd.find((e) => e.version === v)!;
        assert.equal(p.outcome, outcome);
        assert.deepEqual([p.outcome === 'fails' ? 'failed' : 'ok', p.error], [before.boot, before.error], 'the prediction is what etcd does');
        assert.ok(a.report.findings.some((f) => f.code === 'db-damaged'), 'the unfindable key is reported');
        assert.notEqual(a.report.verdict.exitCode, 0, 'never healthy: the db is damaged');
        if (outcome === 'fails') assert.equal(before.error, 'removed all voters');
        // 3.7 on the Kubernetes-style log serves, but not what was written: the txns guarded by a
        // key's mod revision fail when replayed over revisions the db already holds.
        assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [1, { kind: 'repair', flags: [], what: 'db-aside' }]);
        await autoRepairServesEverything(v, fx.dir, fx.manifest, join(work, 'backup'));
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  }
});
