// The WAL/db reconciliation (src/inspect/reconcile.ts) on data dirs written by real etcd: where
// fixtures/damage.mjs flipped one bit inside a value in the db (the KeyValue still unmarshals, so
// etcd starts and serves it), the reconciliation names that key, the log's last write to it, and
// `other-value`; where it flipped a bit in a key's name (db-key-bitflip, applied here to a copy of
// one workload dir per release line: their logs all hold a range delete of `/fixture/range/`), the
// old name is a mismatch, `absent`, and the verdict is not healthy; on every fixture with no damage
// in its db or WAL, it checks keys and finds none.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectPath } from '../../src/inspect/analyze.js';
import { applyDamage, listFixtures, loadFixture, readManifest } from '../support/fixtures.js';
import { loadCluster } from '../diff/cluster-fixture.js';


const flipped = listFixtures().filter((n) => readManifest(n).damage?.kind === 'db-value-bitflip');
const healthy = listFixtures().filter((n) => readManifest(n).category === 'healthy' && !n.includes('cluster-of-3'));

describe('WAL/db reconciliation on real etcd data dirs', () => {
  it('there are fixtures of both kinds', () => {
    assert.ok(flipped.length >= 2, flipped.join(', '));
    assert.ok(healthy.length >= 5, healthy.join(', '));
  });

  for (const name of flipped) {
    it(`${name}: the key whose value changed on disk is the one mismatch`, async () => {
      const fx = await loadFixture(name);
      try {
        const r = inspectPath(fx.dir).report;
        const damage = fx.manifest.damage!;
        assert.ok(r.reconciliation, 'reconciled');
        assert.equal(r.reconciliation.mismatches, 1);
        assert.equal(r.reconciliation.first.length, 1);
        const m = r.reconciliation.first[0]!;
        assert.equal(m.key, damage['key']);
        assert.equal(m.db, 'other-value');
        // the log's write to it is at or after the revision the damaged value was written at
        assert.ok(m.index >= Number((damage['revision'] as { main: number }).main), `index ${m.index}`);
        assert.ok(r.findings.some((f) => f.code === 'db-wal-mismatch'));
      } finally {
        fx.cleanup();
      }
    });
  }

  for (const name of ['v34-workload', 'v35-workload', 'v36-crash', 'v37-workload']) {
    it(`${name} with a key renamed in the db: the old name is absent, though the log deletes a range elsewhere`, async () => {
      const fx = await loadFixture(name);
      try {
        const damage = applyDamage('db-key-bitflip', fx.dir);
        const r = inspectPath(fx.dir).report;
        assert.ok(r.reconciliation, 'reconciled');
        const m = r.reconciliation.first.find((x) => x.key === damage['key']);
        assert.ok(m, `${String(damage['key'])} among ${JSON.stringify(r.reconciliation.first)}`);
        assert.equal(m.db, 'absent');
        assert.ok(r.findings.some((f) => f.code === 'db-wal-mismatch'));
        assert.notEqual(r.verdict.exitCode, 0, r.verdict.status);
      } finally {
        fx.cleanup();
      }
    });
  }

  it('a member whose log a new leader rewrote below its consistent index (v35-cluster-of-3-rejoined, member a): checked, not skipped; a renamed key found', async () => {
    const fx = loadCluster('v35-cluster-of-3-rejoined');
    try {
      const member = fx.dir('a');
      const healthy = inspectPath(member).report;
      assert.ok(healthy.findings.some((f) => f.code === 'log-overwrite'), 'the log holds a rewrite');
      assert.ok(healthy.reconciliation);
      assert.equal(healthy.reconciliation.skippedBecause, null);
      assert.ok(healthy.reconciliation.checked > 50, `${healthy.reconciliation.checked} checked`);
      assert.equal(healthy.reconciliation.mismatches, 0, JSON.stringify(healthy.reconciliation.first));
      // the entry the new leader replaced wrote /fixture/split/uncommitted: not a key the db must hold
      assert.equal(healthy.verdict.exitCode, 0);

      const damage = applyDamage('db-key-bitflip', member);
      const r = inspectPath(member).report;
      assert.ok(r.reconciliation?.first.some((m) => m.key === damage['key'] && m.db === 'absent'), JSON.stringify(r.reconciliation));
      assert.notEqual(r.verdict.exitCode, 0);
    } finally {
      fx.cleanup();
    }
  });

  for (const name of healthy) {
    it(`${name}: no mismatch`, async () => {
      const fx = await loadFixture(name);
      try {
        const r = inspectPath(fx.dir).report;
        if (r.reconciliation === null) return; // nothing to compare (no db, or no applied entry)
        assert.equal(r.reconciliation.mismatches, 0, JSON.stringify(r.reconciliation.first));
        if (r.reconciliation.skippedBecause === null && r.reconciliation.keys > 0) assert.ok(r.reconciliation.checked > 0);
      } finally {
        fx.cleanup();
      }
    });
  }
});
