// The WAL/db check decides a guarded txn (Kubernetes' `If(ModRevision(K) == X) Then(Put K)`) once
// the db's walk, in revision order, has met revisions the log surely wrote: every later revision is
// then the log's, and a key's latest put past them must hold a value the log put to it. Keys written
// before the log began must not be caught by that. Here real etcd writes keys, they are saved and
// restored by etcd's own tool (the db keeps them and their revisions, the WAL starts empty), and the
// log then has failed txns on them: stale updates, a create of a key that exists, and one stale
// update that puts the very value the key already holds, which looks like a revision of the log's
// (it is why the check takes two such revisions before it trusts them). The check must call that
// healthy, as etcd is; and still find a value changed on disk after the log's revisions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../support/cli.js';
import { bootCheck, bootEtcd, cleanEnv, getAll, guardedTxn, needEtcd } from '../support/etcd.js';
import { type ManifestKey, applyDamage } from '../support/fixtures.js';

const run = promisify(execFile);
const P = '/registry/configmaps/ns/';
const val = (what: string, i: number) => `${what}-${i}-${'v'.repeat(40)}`;


function inspect(dir: string): { code: number | null; mismatches: number; checked: number; first: string | undefined } {
  const r = runCli(['inspect', '--json', dir]);
  const report = JSON.parse(r.stdout) as { verdict: { exitCode: number }; reconciliation: { mismatches: number; checked: number }; findings: { code: string; first?: { key: string } | null }[] };
  const v = runCli(['verify', dir]);
  assert.equal(v.code, report.verdict.exitCode);
  const m = report.findings.find((f) => f.code === 'db-wal-mismatch');
  return { code: v.code, mismatches: report.reconciliation.mismatches, checked: report.reconciliation.checked, first: m?.first?.key };
}

for (const v of ['3.4', '3.5', '3.6', '3.7'] as const) {
  describe(`etcd ${v}: keys older than the log, and txns on them that failed`, () => {
    it('healthy, and etcd serves every key; a value flipped after the log\'s revisions is found', async (t) => {
      const bin = await needEtcd(t, v);
      if (!bin) return;
      const work = mkdtempSync(join(tmpdir(), `wal-doctor-prelog-${v}-`));
      try {
        // before the log: p0-p5 created, p0 and p1 updated
        const first = join(work, 'first');
        const a = await bootEtcd(v, first);
        assert.ok(a.ok, a.error);
        const file = join(work, 'snapshot.db');
        const before = new Map<string, number>();
        try {
          for (let i = 0; i < 6; i++) assert.ok(await guardedTxn(a.endpoint, v, `${P}p${i}`, 0, `put ${P}p${i} ${val('create', i)}`));
          for (const i of [0, 1]) {
            const all = await getAll(a.endpoint, v);
            before.set(`p${i}`, all.kvs.get(`${P}p${i}`)!.mod_revision);
            assert.ok(await guardedTxn(a.endpoint, v, `${P}p${i}`, before.get(`p${i}`)!, `put ${P}p${i} ${val('update', i)}`));
          }
          await run(join(bin, 'etcdctl'), [`--endpoints=${a.endpoint}`, 'snapshot', 'save', file], { env: cleanEnv() });
        } finally {
          await a.stop();
        }
        const dir = join(work, 'data');
        const tool = v === '3.4' ? join(bin, 'etcdctl') : join(bin, 'etcdutl');
        await run(tool, ['snapshot', 'restore', file, '--name', 'default', '--initial-cluster', 'default=http://127.0.0.1:2380',
          '--initial-advertise-peer-urls', 'http://127.0.0.1:2380', '--data-dir', dir], { env: cleanEnv() });

        // the log: txns on the old keys that fail, then creates and updates that hold
        const e = await bootEtcd(v, dir);
        assert.ok(e.ok, e.error);
        let keys: ManifestKey[];
        try {
          const stale = (k: string) => before.get(k)!;
          // stale, and putting the value p0 already holds: the db's p0 looks like the log's write
          assert.ok(!(await guardedTxn(e.endpoint, v, `${P}p0`, stale('p0'), `put ${P}p0 ${val('update', 0)}`)), 'stale update of p0 fails');
          assert.ok(!(await guardedTxn(e.endpoint, v, `${P}p1`, stale('p1'), `put ${P}p1 ${val('stale', 1)}`)), 'stale update of p1 fails');
          assert.ok(!(await guardedTxn(e.endpoint, v, `${P}p2`, 0, `put ${P}p2 ${val('again', 2)}`)), 'create of p2 fails');
          assert.ok(!(await guardedTxn(e.endpoint, v, `${P}p3`, 1, `put ${P}p3 ${val('stale', 3)}`)), 'stale update of p3 fails');
          for (let i = 0; i < 6; i++) assert.ok(await guardedTxn(e.endpoint, v, `${P}w${i}`, 0, `put ${P}w${i} ${val('create', i)}`), `create w${i}`);
          const p4 = (await getAll(e.endpoint, v)).kvs.get(`${P}p4`)!.mod_revision;
          assert.ok(await guardedTxn(e.endpoint, v, `${P}p4`, p4, `put ${P}p4 ${val('update', 4)}`), 'update p4');
          const all = await getAll(e.endpoint, v);
          keys = [...all.kvs.entries()].map(([key, k]) => ({ key, present: true, value: k.value.toString('utf8'), create_revision: k.create_revision, mod_revision: k.mod_revision, version: k.version }));
        } finally {
          await e.stop();
        }
        const healthy = inspect(dir);
        assert.deepEqual([healthy.code, healthy.mismatches], [0, 0], 'healthy');
        const served = await bootCheck(v, dir, { keys }, { probe: true });
        assert.deepEqual([served.boot, served.missing, served.wrong, served.extra, served.probeWrite], ['ok', [], [], [], 'visible']);

        // damage picks a key from the middle of the sorted live keys (p0-p5, w0-w5): p4-p5 and w0-w1
        // sit there; what is found is a value past two revisions the log wrote (p0's, which only looks
        // like one, and w0's: w1 on; when w0 itself is changed, w1 is the second)
        let found = 0;
        for (const seed of [1, 2, 3, 4, 5, 6]) {
          const bad = join(work, `value-${seed}`);
          cpSync(dir, bad, { recursive: true });
          const d = applyDamage('db-value-bitflip', bad, { seed }) as { key: string; revision: { main: number } };
          const r = inspect(bad);
          const real = await bootCheck(v, bad, { keys });
          assert.deepEqual([real.boot, real.wrong], ['ok', [d.key]], `seed ${seed}: etcd serves ${d.key} changed`);
          const pastWitnesses = d.key.endsWith('/p4') || /\/w[1-5]$/.test(d.key);
          if (pastWitnesses) {
            assert.notEqual(r.code, 0, `seed ${seed}: ${d.key} changed`);
            assert.equal(r.first, d.key);
            found++;
          } else assert.equal(r.mismatches, 0, `seed ${seed}: ${d.key} changed, before the log's revisions or at its first two`);
          rmSync(bad, { recursive: true, force: true });
        }
        assert.ok(found > 0, 'at least one seed changed a value the check can decide');
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
}
