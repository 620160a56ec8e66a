// `inspect` on a db or an `etcdctl snapshot save` file prints what `etcdutl snapshot status`
// (3.5) / `etcdctl snapshot status` (3.4) print; checked against those tools on the same files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Report } from '../../src/inspect/report.js';
import { REPO_ROOT, loadFixture, type EtcdSeries } from '../support/fixtures.js';
import { bootEtcd, etcdBin } from '../support/etcd.js';
import { externalFile } from '../support/external.js';

const BIN = join(REPO_ROOT, 'bin', 'wal-doctor.js');

function inspectJson(path: string) {
  const r = spawnSync(process.execPath, [BIN, 'inspect', '--json', path], { encoding: 'utf8' });
  return { code: r.status, report: Report.parse(JSON.parse(r.stdout)) };
}

/** etcdutl (3.5) or etcdctl (3.4) `snapshot status -w json`. */
function etcdStatus(bin: string, v: EtcdSeries, file: string) {
  const tool = v === '3.5' ? 'etcdutl' : 'etcdctl';
  const out = execFileSync(join(bin, tool), ['snapshot', 'status', file, '-w', 'json'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  return JSON.parse(out) as { hash: number; revision: number; totalKey: number; totalSize: number };
}

async function bin(t: TestContext, v: EtcdSeries): Promise<string | undefined> {
  const b = await etcdBin(v);
  if (!b) t.skip(`etcd ${v} binaries not available: this test was NOT run`);
  return b;
}

describe('snapshot status', () => {
  for (const [name, v] of [['v35-workload', '3.5'], ['v34-workload', '3.4'], ['v35-segments', '3.5']] as const) {
    it(`${name}: member/snap/db status equals ${v === '3.5' ? 'etcdutl' : 'etcdctl'}'s`, async (t) => {
      const b = await bin(t, v);
      if (!b) return;
      const fx = await loadFixture(name);
      try {
        const db = join(fx.dir, 'member/snap/db');
        const ours = inspectJson(db).report.db!.status!;
        const theirs = etcdStatus(b, v, db);
        assert.deepEqual({ hash: ours.hash, revision: Number(ours.revision), totalKey: ours.totalKey, totalSize: ours.totalSize }, theirs);
        assert.equal(ours.integrityOk, true);
      } finally {
        fx.cleanup();
      }
    });
  }

  it('an etcdctl snapshot save file from a running etcd 3.5: trailer verified, status equal', async (t) => {
    const b = await bin(t, '3.5');
    if (!b) return;
    const fx = await loadFixture('v35-workload');
    try {
      const e = await bootEtcd('3.5', fx.dir);
      assert.ok(e.ok, e.error);
      const file = join(fx.dir, '..', `${fx.dir.split('/').pop()}.snapshot.db`);
      try {
        execFileSync(join(b, 'etcdctl'), [`--endpoints=${e.endpoint}`, 'snapshot', 'save', file], { stdio: 'ignore' });
      } finally {
        await e.stop();
      }
      const { report } = inspectJson(file);
      assert.equal(report.kind, 'db-file');
      assert.equal(report.db?.snapshotSave, 'sha256-ok');
      const theirs = etcdStatus(b, '3.5', file);
      const ours = report.db!.status!;
      assert.deepEqual({ hash: ours.hash, revision: Number(ours.revision), totalKey: ours.totalKey, totalSize: ours.totalSize }, theirs);
      spawnSync('rm', ['-f', file]);
    } finally {
      fx.cleanup();
    }
  });

  it("etcd's own corrupted_backup.db: the integrity check fails, and inspect says so (exit 1)", (t) => {
    const file = externalFile(t, 'etcd/corrupted_backup.db');
    if (!file) return;
    const { code, report } = inspectJson(file);
    assert.equal(report.db?.status?.integrityOk, false);
    assert.ok(report.db!.problems > 0);
    assert.equal(code, 1);
  });
});
