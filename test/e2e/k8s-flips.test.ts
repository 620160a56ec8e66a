// A bit flipped in the db of a dir Kubernetes-style writes made (v36-k8s-txn: every object created,
// updated and deleted through txns guarded by its mod revision, stale writes that fail, a lease
// revoke and a compaction): in a key's newest value, or in its name. etcd 3.6 starts and serves the
// changed value, or the renamed key, without a word; `verify` must not say healthy. The boot fuzz
// found both said healthy (a value flipped: any key; a name flipped: a created key, after the lease
// revoke). The damage script picks the key (from the middle of the sorted live keys, by seed).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.js';
import { bootCheck, needEtcd } from '../support/etcd.js';
import { applyDamage, loadFixture } from '../support/fixtures.js';

const FIXTURE = 'v36-k8s-txn';

describe(`${FIXTURE}: a bit flipped in the db, where etcd 3.6 serves what it finds`, () => {
  for (const kind of ['db-value-bitflip', 'db-key-bitflip'] as const) {
    it(`${kind}: verify finds the key on every seed, and etcd serves it changed`, async (t) => {
      if (!(await needEtcd(t, '3.6'))) return;
      const keys = new Set<string>();
      for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const fx = await loadFixture(FIXTURE);
        try {
          const d = applyDamage(kind, fx.dir, { seed }) as { key: string; key_after?: string };
          keys.add(d.key);
          const v = runCli(['verify', fx.dir]);
          assert.notEqual(v.code, 0, `seed ${seed}: ${d.key}`);
          const r = runCli(['inspect', '--json', fx.dir]);
          const report = JSON.parse(r.stdout) as { findings: { code: string; first?: { key: string } | null }[] };
          assert.equal(report.findings.find((f) => f.code === 'db-wal-mismatch')?.first?.key, d.key, `seed ${seed}: the mismatch names ${d.key}`);
          const real = await bootCheck('3.6', fx.dir, fx.manifest);
          assert.equal(real.boot, 'ok');
          if (kind === 'db-value-bitflip') assert.deepEqual([real.missing, real.wrong, real.extra], [[], [d.key], []], `seed ${seed}`);
          else assert.deepEqual([[...real.missing, ...real.wrong], real.extra], [[d.key], [d.key_after]], `seed ${seed}`);
        } finally {
          fx.cleanup();
        }
      }
      t.diagnostic(`${keys.size} keys: ${[...keys].join(' ')}`);
      assert.ok(keys.size >= 5, 'the seeds reach several keys');
    });
  }
});
