// Real `etcdctl snapshot save` output: boot real etcd (3.5.30 / 3.4.23, via test/support/etcd.ts) on
// a temp copy of a fixture, save a snapshot, and read it: trailer, synthetic metas, and the
// status hash compared with the real tool on the same file. Skipped (loudly; failed under CI=true)
// without the etcd binaries.
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bytesSource, check, readEtcdMeta, snapshotStatus, verifySnapshotTrailer } from '../../../src/format/bbolt/index.js';
import { openBoltFile, sha256Chunks } from '../../../src/io/bolt-file.js';
import { loadFixture } from '../../support/fixtures.js';
import type { EtcdSeries } from '../../support/fixtures.js';
import { bootEtcd, etcdBin } from '../../support/etcd.js';
import { codes } from './helpers.js';

const run = promisify(execFile);
const env = (): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', ETCDCTL_API: '3' });

async function saveSnapshot(t: TestContext, series: EtcdSeries, fixture: string): Promise<{ path: string; bin: string } | undefined> {
  const bin = await etcdBin(series);
  if (!bin) {
    t.skip(`NOT RUN: etcd ${series} binaries not available (scripts/etcd-bin.sh ${series})`);
    return undefined;
  }
  const f = await loadFixture(fixture);
  t.after(() => f.cleanup());
  const out = mkdtempSync(join(tmpdir(), 'wal-doctor-snapsave-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const e = await bootEtcd(series, f.dir);
  try {
    assert.ok(e.ok, `etcd ${series} did not boot on ${fixture}: ${e.error}`);
    const path = join(out, 'snapshot.db');
    await run(join(bin, 'etcdctl'), [`--endpoints=${e.endpoint}`, 'snapshot', 'save', path], { env: env(), encoding: 'utf8' });
    return { path, bin };
  } finally {
    await e.stop();
  }
}

for (const [series, fixture] of [
  ['3.5', 'v35-workload'],
  ['3.4', 'v34-workload'],
] as const) {
  describe(`etcdctl ${series} snapshot save (${fixture})`, () => {
    it('trailer verified, synthetic metas, status equal to the real tool, no findings', async (t) => {
      const saved = await saveSnapshot(t, series, fixture);
      if (!saved) return;
      const size = statSync(saved.path).size;
      assert.equal(size % 512, 32);
      const { db, trailer, close } = openBoltFile(saved.path);
      try {
        assert.ok(trailer);
        assert.equal(trailer.ok, true);
        assert.equal(trailer.imageSize, size - 32);
        assert.equal(db.logicalSize, size - 32); // snapshot save streams exactly pgid × P bytes
        // Two synthetic metas from the current one: meta 0 = txid T, meta 1 = T - 1, same tree.
        const [m0, m1] = db.metas;
        assert.ok(m0 && m1);
        assert.deepEqual(db.metaValid, [true, true]);
        assert.equal(m0.txid, m1.txid + 1n);
        assert.equal(m0.root, m1.root);
        assert.equal(m0.pgid, m1.pgid);
        assert.equal(db.meta?.slot, 0);
        assert.deepEqual(check(db).findings, []);
        const meta = readEtcdMeta(db);
        assert.ok(meta.consistentIndex !== undefined && meta.consistentIndex > 0n);
        assert.equal(meta.term !== undefined, series === '3.5');

        const st = snapshotStatus(db);
        const tool = series === '3.4' ? 'etcdctl' : 'etcdutl';
        const { stdout } = await run(join(saved.bin, tool), ['snapshot', 'status', '-w', 'json', saved.path], { env: env(), encoding: 'utf8' });
        const want = JSON.parse(stdout) as { hash: number; revision: number; totalKey: number; totalSize: number };
        assert.deepEqual(
          { hash: st.hash, revision: st.revision, totalKey: st.totalKey, totalSize: st.totalSize, integrityOk: st.integrityOk },
          { hash: want.hash, revision: BigInt(want.revision), totalKey: want.totalKey, totalSize: want.totalSize, integrityOk: true },
        );
      } finally {
        close();
      }
    });

    it('a flipped byte breaks the trailer; a cut trailer is reported as missing', async (t) => {
      const saved = await saveSnapshot(t, series, fixture);
      if (!saved) return;
      const bytes = new Uint8Array(readFileSync(saved.path));
      bytes[3 * 4096 + 100] = (bytes[3 * 4096 + 100] as number) ^ 0x01;
      const bad = verifySnapshotTrailer(bytesSource(bytes), sha256Chunks);
      assert.equal(bad.ok, false);
      assert.deepEqual(codes(bad.findings), ['bbolt-snapshot-hash-mismatch']);
      const cut = join(saved.path + '.cut');
      writeFileSync(cut, bytes.subarray(0, bytes.length - 1));
      const o = openBoltFile(cut);
      try {
        assert.equal(o.trailer, undefined); // size % 512 == 31: no trailer by etcd's rule
        const v = verifySnapshotTrailer(o.file, sha256Chunks);
        assert.deepEqual(v.findings, [{ code: 'bbolt-snapshot-no-trailer', offset: bytes.length - 1, found: 31 }]);
        assert.equal(o.db.meta?.txid !== undefined, true); // the image itself still opens
      } finally {
        o.close();
      }
    });
  });
}
