// hashKV against real etcd: boot etcd (test/support/etcd.ts) on a temp copy of a fixture, ask it for
// `endpoint hashkv --rev R` at several revisions (after compacting at C where noted), stop it, and
// compute the same hashes from the db file it left. Skipped (loudly; failed under CI=true) without
// the etcd binaries.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashKV } from '../../../src/format/bbolt/index.js';
import { openBoltFile } from '../../../src/io/bolt-file.js';
import { loadFixture } from '../../support/fixtures.js';
import type { EtcdSeries } from '../../support/fixtures.js';
import { bootEtcd, etcdBin } from '../../support/etcd.js';

const run = promisify(execFile);

interface Case {
  series: EtcdSeries;
  fixture: string;
  /** compact (physically) at this revision after boot, before hashing */
  compactAt?: number;
  /** revisions to hash; 0 = current */
  revs: number[];
}

const CASES: Case[] = [
  // no compaction in this fixture: every revision can be hashed
  { series: '3.5', fixture: 'v35-segments', revs: [0, 2, 40, 90, 134] },
  // compacted while generating (206); etcd 3.5 keeps the tombstones at exactly C
  { series: '3.5', fixture: 'v35-workload', revs: [0, 207] },
  { series: '3.4', fixture: 'v34-workload', revs: [0, 207] },
  // compacted mid-history, at a revision holding tombstones (deletes at 35, 36, 39; filler keys
  // overwritten many times, so Keep(R) decides which old revisions are hashed)
  { series: '3.5', fixture: 'v35-segments', compactAt: 36, revs: [37, 39, 90, 0] },
];

for (const c of CASES) {
  describe(`hashKV vs etcd ${c.series} endpoint hashkv (${c.fixture}${c.compactAt ? `, compacted at ${c.compactAt}` : ''})`, () => {
    it(`revisions ${c.revs.join(', ')}`, async (t) => {
      const bin = await etcdBin(c.series);
      if (!bin) {
        t.skip(`NOT RUN: etcd ${c.series} binaries not available (scripts/etcd-bin.sh ${c.series})`);
        return;
      }
      const f = await loadFixture(c.fixture);
      t.after(() => f.cleanup());
      const e = await bootEtcd(c.series, f.dir);
      const want = new Map<number, { hash: number; compact: number }>();
      try {
        assert.ok(e.ok, `etcd did not boot: ${e.error}`);
        const ctl = (args: string[]) =>
          run(join(bin, 'etcdctl'), [`--endpoints=${e.endpoint}`, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ETCDCTL_API: '3' } });
        if (c.compactAt) await ctl(['compact', String(c.compactAt), '--physical']);
        for (const r of c.revs) {
          const out = JSON.parse((await ctl(['endpoint', 'hashkv', `--rev=${r}`, '-w', 'json'])).stdout) as { HashKV: { hash: number; compact_revision: number } }[];
          const h = out[0]?.HashKV;
          assert.ok(h);
          want.set(r, { hash: h.hash, compact: h.compact_revision });
        }
      } finally {
        await e.stop();
      }
      const { db, close } = openBoltFile(join(f.dir, 'member', 'snap', 'db'));
      try {
        const behaviour = c.series === '3.4' ? 'legacy' : 'keep-tombstone-at-compact';
        for (const r of c.revs) {
          const ours = hashKV(db, { revision: BigInt(r), behaviour });
          const w = want.get(r);
          assert.ok(w);
          assert.equal(ours.compacted, false);
          assert.deepEqual(ours.findings, []);
          assert.equal(ours.hash, w.hash, `R=${r}: etcd ${w.hash}, ours ${ours.hash} (C=${ours.compactRevision})`);
          if (w.compact > 0) assert.equal(ours.compactRevision, BigInt(w.compact));
        }
      } finally {
        close();
      }
    });
  });
}
