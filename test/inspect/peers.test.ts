// --peer-dir: a member's log against what its peers committed, on real 3-member etcd 3.5.30
// clusters. v35-cluster-of-3-stale-member holds member a's OLD copy (last index 82) next to b and c
// at 184: put back into the running cluster, real etcd panicked `tocommit(184) is out of range
// [lastIndex(82)]` (recorded in its cluster manifest and re-checked by the etcd harness).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectPath } from '../../src/inspect/analyze.js';
import { findingMessage } from '../../src/cli/render/findings.js';
import { runCli } from '../support/cli.js';
import { loadCluster } from '../diff/cluster-fixture.js';

describe('--peer-dir', () => {
  it('a member restored from an older copy is behind what its peers committed: not healthy, remove and re-add it', () => {
    const fx = loadCluster('v35-cluster-of-3-stale-member');
    try {
      const a = inspectPath(fx.dir('a'), { checkHolders: false, peerDirs: [fx.dir('b'), fx.dir('c')] });
      assert.equal(a.report.verdict.status, 'needs-rebuild');
      assert.equal(a.report.verdict.exitCode, 2);
      assert.deepEqual({ code: a.report.verdict.reason['code'], lastIndex: a.report.verdict.reason['lastIndex'], commit: a.report.verdict.reason['commit'] }, { code: 'behind-cluster', lastIndex: '82', commit: '184' });
      assert.equal(a.report.verdict.next['kind'], 'replace-member');
      assert.ok(a.report.findings.some((f) => f.code === 'behind-cluster' && /tocommit\(184\) is out of range \[lastIndex\(82\)\]/.test(findingMessage(f))));
      // Without its peers the files alone say nothing of it.
      assert.notEqual(inspectPath(fx.dir('a'), { checkHolders: false }).report.verdict.reason['code'], 'behind-cluster');
      const cli = runCli(['verify', '--peer-dir', fx.dir('b'), '--peer-dir', fx.dir('c'), fx.dir('a')]);
      assert.equal(cli.code, 2, cli.stdout + cli.stderr);
      assert.match(cli.stdout, /remove it from the cluster and add it back/);
    } finally {
      fx.cleanup();
    }
  });

  it('members of a consistent cluster are not behind one another', () => {
    const fx = loadCluster('v35-cluster-of-3');
    try {
      for (const m of ['a', 'b', 'c'] as const) {
        const peers = (['a', 'b', 'c'] as const).filter((x) => x !== m).map(fx.dir);
        const r = inspectPath(fx.dir(m), { checkHolders: false, peerDirs: peers }).report;
        assert.ok(!r.findings.some((f) => f.code === 'behind-cluster'), `${m}: ${JSON.stringify(r.verdict.reason)}`);
        assert.equal(r.verdict.exitCode, 0, `${m}: ${JSON.stringify(r.verdict.reason)}`);
      }
    } finally {
      fx.cleanup();
    }
  });

  it('a dir of another cluster is not a peer: one line, exit 64', () => {
    const a = loadCluster('v35-cluster-of-3');
    const b = loadCluster('v35-cluster-of-3-stale-member');
    try {
      const r = runCli(['verify', '--peer-dir', b.dir('b'), a.dir('a')]);
      assert.equal(r.code, 64, r.stdout + r.stderr);
      assert.match(r.stderr, /not a peer of this member \(cluster [0-9a-f]{16}, this one is [0-9a-f]{16}\)/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });
});
