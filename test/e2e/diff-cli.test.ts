// `wal-doctor diff` as users run it, on the real 3-member cluster fixtures: exit codes, --json against
// its schema, --revision, usage and not-found errors, and the data dirs left byte for byte unchanged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, treeHashes } from '../support/cli.js';
import { DiffReport } from '../../src/diff/schema.js';
import { loadCluster } from '../diff/cluster-fixture.js';

describe('wal-doctor diff', () => {
  it('consistent cluster: exit 0, human report and --json, read-only', () => {
    const fx = loadCluster('v35-cluster-of-3');
    try {
      const before = treeHashes(fx.root);
      const dirs = ['a', 'b', 'c'].map(fx.dir);
      const human = runCli(['diff', ...dirs]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /^CONSISTENT \(exit 0\)/m);
      assert.match(human.stdout, new RegExp(`hashkv --rev=${fx.manifest.last_revision}`));
      assert.equal(human.stdout.split(String(fx.manifest.hashkv['a']!.hash)).length - 1, 3);
      const json = runCli(['diff', '--json', ...dirs]);
      assert.equal(json.code, 0, json.stderr);
      const r = DiffReport.parse(JSON.parse(json.stdout));
      assert.equal(r.status, 'consistent');
      const hashes = r.members.map((m) => m.db?.hashKV?.hash);
      assert.deepEqual(hashes, ['a', 'b', 'c'].map((n) => fx.manifest.hashkv[n]!.hash));
      assert.deepEqual(treeHashes(fx.root), before);
    } finally {
      fx.cleanup();
    }
  });

  it('a stopped member is BEHIND (exit 3), not corrupt: the first divergent index and the keys c lacks; --revision picks the hash revision', () => {
    const fx = loadCluster('v35-cluster-of-3-diverged');
    try {
      const dirs = ['a', 'b', 'c'].map(fx.dir);
      const human = runCli(['diff', ...dirs]);
      assert.equal(human.code, 3, human.stderr);
      assert.match(human.stdout, /^BEHIND \(exit 3\) — behind: .*\/c is behind: its log is a prefix of the others'/m);
      assert.doesNotMatch(human.stdout, /DIVERGENT|CORRUPT/);
      assert.match(human.stdout, /first divergence at index \d+: some members lack this entry/);
      assert.match(human.stdout, /lacks index \d+\.\.\d+ \(its log ends before: behind\)/);
      assert.match(human.stdout, /keys involved \(\d+\):\n +\/fixture\/after-c-stopped\/000 /);
      const then = fx.manifest.workload.then!;
      const json = runCli(['diff', '--json', '--revision', String(then.last_revision), ...dirs]);
      assert.equal(json.code, 3, json.stderr);
      const r = DiffReport.parse(JSON.parse(json.stdout));
      assert.equal(r.schemaVersion, 2);
      assert.equal(r.status, 'behind', 'c has no hash at a revision it never reached: not counted as corruption');
      assert.equal(r.kv.revision, String(then.last_revision));
      assert.equal(r.members[0]!.db!.hashKV!.hash, fx.manifest.hashkv['a']!.hash);
      assert.equal(r.members[1]!.db!.hashKV!.hash, fx.manifest.hashkv['b']!.hash);
    } finally {
      fx.cleanup();
    }
  });

  it('a raft split is SPLIT (exit 4); -w table and -o json as etcdctl and kubectl spell them', () => {
    const fx = loadCluster('v35-cluster-of-3-term-split');
    try {
      const dirs = ['a', 'b', 'c'].map(fx.dir);
      const human = runCli(['diff', ...dirs]);
      assert.equal(human.code, 4, human.stderr);
      assert.match(human.stdout, /^SPLIT \(exit 4\) — split: .* holds an uncommitted tail from index 82/m);
      const table = runCli(['diff', '-w', 'table', ...dirs]);
      assert.equal(table.code, 4);
      assert.match(table.stdout, /^\| +MEMBER +\| +CONSISTENT INDEX \| REVISION \| COMPACTED AT \| +KV HASH +\|$/m);
      assert.match(table.stdout, /^\+-+\+-+\+/m);
      const json = runCli(['diff', '-o', 'json', ...dirs]);
      assert.equal(json.code, 4);
      assert.deepEqual(DiffReport.parse(JSON.parse(json.stdout)).problems.map((p) => p.kind), ['split']);
      assert.equal(runCli(['diff', '-w', 'yaml', ...dirs]).code, 64);
      assert.equal(runCli(['diff', '-w', 'table', '--json', ...dirs]).code, 64, 'two formats at once');
    } finally {
      fx.cleanup();
    }
  });

  it('usage and missing dirs: exit 64 and 66', () => {
    const fx = loadCluster('v35-cluster-of-3');
    try {
      assert.equal(runCli(['diff', fx.dir('a')]).code, 64);
      assert.equal(runCli(['diff', '--revision', 'x', fx.dir('a'), fx.dir('b')]).code, 64);
      assert.equal(runCli(['diff', fx.dir('a'), `${fx.root}/nowhere`]).code, 66);
      assert.equal(runCli(['diff', fx.dir('a'), fx.root]).code, 66);   // not a data dir
    } finally {
      fx.cleanup();
    }
  });
});
