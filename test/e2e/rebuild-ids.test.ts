// rebuild says what it changes: new member and cluster IDs (as etcdutl snapshot restore makes a
// new cluster), the localhost default peer URL when no flags are given, and — when the old IDs
// came from etcd's own formula — the exact flags that keep them; --dry-run prints that plan and
// writes nothing. With the flags it printed, the rebuilt dir has the old IDs and real etcd 3.5
// serves it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Report } from '../../src/inspect/report.js';
import { runCli as cli, treeHashes } from '../support/cli.js';
import { bootEtcd, etcdBin, getAll } from '../support/etcd.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';

describe('rebuild: IDs and peer URLs, said plainly', () => {
  let fx: LoadedFixture;
  let work: string;
  let oldMember: string;
  let oldCluster: string;
  before(async () => {
    fx = await loadFixture('v35-crash');
    work = mkdtempSync(join(tmpdir(), 'wal-doctor-rebuild-ids-'));
    const r = Report.parse(JSON.parse(cli(['inspect', '--json', fx.dir]).stdout));
    oldMember = r.wal!.memberId!;
    oldCluster = r.wal!.clusterId!;
  });
  after(() => {
    fx.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('--dry-run names the old and new IDs, the localhost default and the flags that keep the IDs; writes nothing', () => {
    const before = treeHashes(fx.dir);
    const out = join(work, 'dry');
    const r = cli(['rebuild', '--dry-run', '--from', fx.dir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^rebuild plan for .*dry \(nothing written\)$/m);
    assert.match(r.stdout, new RegExp(`^  NEW IDs: this is a new cluster \\(the source was member ${oldMember} of cluster ${oldCluster}\\)`, 'm'));
    assert.match(r.stdout, /^  DEFAULT peer URL: --name, --initial-cluster, --initial-advertise-peer-urls not given, so the member is 'default' on http:\/\/localhost:2380/m);
    assert.match(r.stdout, /^  to keep the old IDs: --name \S+ --initial-cluster \S+=http:\/\/\S+ --initial-advertise-peer-urls http:\/\/\S+$/m);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(work), []);
    assert.deepEqual(treeHashes(fx.dir), before);
    const j = JSON.parse(cli(['rebuild', '--dry-run', '-w', 'json', '--from', fx.dir, '--out', out]).stdout) as { idsChanged: boolean; previous: { memberId: string }; keepIdsFlags: { name: string } | null; defaultedFlags: string[] };
    assert.equal(j.idsChanged, true);
    assert.equal(j.previous.memberId, oldMember);
    assert.ok(j.keepIdsFlags);
    assert.deepEqual(j.defaultedFlags, ['--name', '--initial-cluster', '--initial-advertise-peer-urls']);
  });

  it('with the flags it printed, the new dir keeps the old member and cluster IDs, and etcd 3.5 serves it', async (t) => {
    const plan = cli(['rebuild', '--dry-run', '--from', fx.dir, '--out', join(work, 'x')]).stdout;
    const keep = /^  to keep the old IDs: (.*)$/m.exec(plan)![1]!.split(' ');
    const out = join(work, 'kept');
    const r = cli(['rebuild', '--from', fx.dir, '--out', out, ...keep]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^  IDs kept: the source was the same member ${oldMember} of cluster ${oldCluster}`, 'm'));
    assert.doesNotMatch(r.stdout, /DEFAULT peer URL|NEW IDs/);
    const after = Report.parse(JSON.parse(cli(['inspect', '--json', out]).stdout));
    assert.equal(after.wal!.memberId, oldMember);
    assert.equal(after.wal!.clusterId, oldCluster);
    if (!(await etcdBin('3.5'))) {
      t.skip('etcd 3.5 binary not available: the boot was NOT run');
      return;
    }
    const name = keep[keep.indexOf('--name') + 1]!;
    const e = await bootEtcd('3.5', out, { name });
    try {
      assert.ok(e.ok, e.error);
      const { kvs } = await getAll(e.endpoint);
      assert.ok(kvs.size > 100, `served ${kvs.size} keys`);
    } finally {
      await e.stop();
    }
  });

  it('a rebuild with explicit peer flags that differ from the old ones: NEW IDs, no localhost warning', () => {
    const out = join(work, 'moved');
    const r = cli(['rebuild', '--from', fx.dir, '--out', out, '--name', 'n1', '--initial-cluster', 'n1=http://10.0.0.1:2380', '--initial-advertise-peer-urls', 'http://10.0.0.1:2380']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^  NEW IDs: /m);
    assert.doesNotMatch(r.stdout, /DEFAULT peer URL/);
  });
});
