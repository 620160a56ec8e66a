// `inspect --timeline` on real etcd 3.5 fixtures: terms with the index each began at, conf changes,
// compactions, snapshot records, writes per term and per Kubernetes resource.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { buildTimeline, type TimelineJson } from '../../src/inspect/timeline.js';
import { FileSource } from '../../src/io/file-source.js';
import { locate } from '../../src/io/layout.js';
import { runCli } from '../support/cli.js';
import { loadFixture } from '../support/fixtures.js';
import { loadCluster } from '../diff/cluster-fixture.js';

function timelineOf(dir: string): TimelineJson {
  const layout = locate(dir, {});
  return buildTimeline(layout.segments.map((p) => ({ name: basename(p), source: new FileSource(p) })));
}

describe('inspect --timeline', () => {
  it('v35-workload: terms 1 then 2, the AddNode of the member at index 1, the compaction of the manifest', async () => {
    const fx = await loadFixture('v35-workload');
    try {
      const t = timelineOf(fx.dir);
      assert.deepEqual(t.terms.map((r) => [r.term, r.firstIndex]), [['1', '1'], ['2', '2']]);
      assert.equal(t.confChanges.length, 1);
      assert.equal(t.confChanges[0]!.index, '1');
      assert.equal(t.confChanges[0]!.type, 'ConfChangeAddNode');
      assert.equal(t.confChanges[0]!.nodeIdHex, fx.manifest.member_id);
      const compact = (fx.manifest as unknown as { compact_revision?: number }).compact_revision;
      assert.ok(compact !== undefined, 'the manifest names a compact_revision');
      assert.deepEqual(t.compactions.map((c) => c.revision), [String(compact)]);
      const writes = t.terms.reduce((a, r) => a + r.puts + r.deletes + r.txns, 0);
      assert.ok(t.terms[1]!.puts > 0 && writes > 100, `writes counted per term (${writes})`);
      assert.equal(t.terms.reduce((a, r) => a + r.entries, 0), t.entries);
      assert.ok(t.snapshots.length >= 1, 'the WAL starts with a snapshot record');
      assert.deepEqual(t.k8s, []);

      const json = runCli(['inspect', '--timeline', '--json', fx.dir]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), JSON.parse(JSON.stringify(t)));
      const human = runCli(['inspect', '--timeline', fx.dir]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /term +2 +began at index 2 /);
      assert.match(human.stdout, new RegExp(`ConfChangeAddNode ${fx.manifest.member_id}`));
      assert.match(human.stdout, new RegExp(`compact to revision ${compact}`));
    } finally {
      fx.cleanup();
    }
  });

  for (const name of ['v35-cluster-of-3', 'v35-cluster-of-3-term-split', 'v35-cluster-of-3-rejoined', 'v35-cluster-of-3-diverged']) {
    it(`${name}: several terms and the three members added`, () => {
      const c = loadCluster(name);
      try {
        let most = 0;
        for (const m of c.manifest.dirs) {
          const t = timelineOf(c.dir(m));
          assert.ok(t.terms.length >= 2, `${m}: ${t.terms.length} terms`);
          assert.equal(t.terms[0]!.term, '1');
          assert.equal(t.terms[0]!.firstIndex, '1');
          for (let i = 1; i < t.terms.length; i++) {
            assert.ok(BigInt(t.terms[i]!.firstIndex) > BigInt(t.terms[i - 1]!.firstIndex), `${m}: terms begin in index order`);
          }
          assert.equal(t.confChanges.length, 3, m);
          assert.deepEqual(t.confChanges.map((x) => x.type), ['ConfChangeAddNode', 'ConfChangeAddNode', 'ConfChangeAddNode']);
          assert.deepEqual(t.confChanges.map((x) => x.nodeIdHex).sort(), c.manifest.members.map((x) => x.id).sort());
          most = Math.max(most, t.terms.length);
        }
        // the split fixtures had a later election (a member cut off before it may not hold it)
        if (name !== 'v35-cluster-of-3') assert.ok(most >= 3, `${name}: a later election shows (${most} terms)`);
        if (name === 'v35-cluster-of-3' && c.manifest.compact_revision !== null) {
          const t = timelineOf(c.dir(c.manifest.dirs[0]!));
          assert.deepEqual(t.compactions.map((x) => x.revision), [String(c.manifest.compact_revision)]);
        }
      } finally {
        c.cleanup();
      }
    });
  }

  it('v35-cluster-of-3-rejoined: only the old leader\'s WAL shows its uncommitted entry overwritten by the next term', () => {
    const c = loadCluster('v35-cluster-of-3-rejoined');
    try {
      const old = (c.manifest.workload.then as { old_leader: string }).old_leader;
      for (const m of c.manifest.dirs) {
        const r = runCli(['inspect', '--timeline', c.dir(m)]);
        assert.equal(r.code, 0, r.stderr);
        if (m === old) assert.match(r.stdout, /term +3 +began at index 82 .*\(overwrites term 2 from index 82\)/);
        else assert.doesNotMatch(r.stdout, /overwrites/, m);
      }
    } finally {
      c.cleanup();
    }
  });

  it('v35-k8s: writes per Kubernetes resource, the configmap delete included', async () => {
    const fx = await loadFixture('v35-k8s');
    try {
      const t = timelineOf(fx.dir);
      const by = new Map(t.k8s.map((k) => [k.resource, k]));
      for (const r of ['pods', 'deployments', 'services', 'namespaces']) {
        assert.ok((by.get(r)?.puts ?? 0) >= 1, `${r}: ${JSON.stringify(by.get(r))}`);
      }
      assert.ok((by.get('configmaps')?.puts ?? 0) >= 1);
      assert.equal(by.get('configmaps')?.deletes, 1);
      const human = runCli(['inspect', '--timeline', fx.dir]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /Kubernetes writes per resource/);
      assert.match(human.stdout, /configmaps +1 put, 1 delete/);
    } finally {
      fx.cleanup();
    }
  });
});
