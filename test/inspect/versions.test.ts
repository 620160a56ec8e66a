// Which etcd wrote a dir, and the per-version differences the spec lists, on real files:
// 3.4 (no meta/term, WAL snapshot records without conf_state), 3.5 (term, confState, conf_state),
// and 3.6 — no 3.6 binary exists in our package archives, so a real 3.5 db is given the
// `meta/storageVersion = 3.6.0` key 3.6 writes (etcd-backend.md §6.10) and read again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { verdictWords } from '../../src/cli/render/verdict.js';
import { loadFixture } from '../support/fixtures.js';
import { putInlineBucketKey } from '../support/bolt-edit.js';

describe('etcd version of a data dir', () => {
  it('3.4: db without meta/term; judged by 3.4 rules', async () => {
    const fx = await loadFixture('v34-workload');
    try {
      const a = inspectPath(fx.dir);
      const report = a.report;
      assert.equal(report.writtenBy.version, '3.4');
      assert.equal(report.db?.term, null);
      assert.equal(report.db?.clusterVersion, '3.4.0');
      assert.equal(report.verdict.exitCode, 0);
      assert.match(verdictWords(a).headline, /etcd 3\.4 will start/);
    } finally {
      fx.cleanup();
    }
  });

  it('3.5: meta/term and confState in the db, conf_state in every WAL snapshot record', async () => {
    const fx = await loadFixture('v35-snapshots');
    try {
      const { report } = inspectPath(fx.dir);
      assert.equal(report.writtenBy.version, '3.5');
      assert.ok(report.db?.term);
      assert.ok((report.db?.voters.length ?? 0) > 0);
      const recs = report.wal!.snapshotRecords.filter((r) => r.index !== '0');
      assert.ok(recs.length > 0);
      assert.ok(recs.every((r) => r.confState));
      assert.ok(report.writtenBy.evidence.some((e) => e.includes('conf_state (3.5+)')));
    } finally {
      fx.cleanup();
    }
  });

  it('3.6: a real 3.5 db given meta/storageVersion reads as written by 3.6 and is judged by 3.6 rules', async () => {
    const fx = await loadFixture('v35-workload');
    try {
      putInlineBucketKey(join(fx.dir, 'member/snap/db'), 'meta', 'storageVersion', '3.6.0');
      const a = inspectPath(fx.dir);
      const report = a.report;
      assert.equal(report.db?.storageVersion, '3.6.0');
      assert.equal(report.db?.problems, 0);
      assert.equal(report.writtenBy.version, '3.6');
      assert.equal(report.verdict.exitCode, 0);
      assert.match(verdictWords(a).headline, /etcd 3\.6 will start/);
      // the rest of the meta bucket still reads the same
      assert.ok(report.db?.consistentIndex);
      assert.ok(report.db?.term);
    } finally {
      fx.cleanup();
    }
  });
});
