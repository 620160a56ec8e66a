// Kubernetes writes every object through a txn guarded by the key's mod revision
// (`If(ModRevision(K) == X) Then(Put/Delete K) Else(Get K)`). Whether such a compare held is not in
// the log, and the WAL/db check used to leave every such key undecided: `verify` said healthy on a
// db where a bit flip had renamed a key's newest revision, while etcd served the old value and a
// key nobody wrote. Here real etcd writes a dir the apiserver's way — creates, updates, stale
// updates and creates that fail, guarded deletes, a key deleted by a lease revoke after a failed
// create, a range delete, a compaction — and the check must (1) call it healthy, with etcd serving
// every key; (2) find the renamed key on every bit flip the damage script makes, where etcd then
// serves something else; (3) find the key whose newest value had a bit flipped, which etcd serves
// as it is (the boot fuzz found that one undecided).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { bootCheck, bootEtcd, etcdctl, getAll, guardedTxn, needEtcd } from '../support/etcd.js';
import { type EtcdSeries, type ManifestKey, applyDamage } from '../support/fixtures.js';

const P = '/registry/pods/ns/';


/**
 * The workload; the keys etcd serves at the end, as a manifest. The keys whose last write leaves
 * the check nothing to go on (a-*: a stale update, a create that failed, a stale delete) sort before
 * the others, so that the damage script, which renames a key from the middle of the sorted live
 * keys, picks one it can decide; the lease revoke and the range delete come before the k-* creates.
 */
async function write(endpoint: string, v: EtcdSeries): Promise<ManifestKey[]> {
  const rev = async (key: string) => (await getAll(endpoint, v)).kvs.get(key)?.mod_revision ?? 0;
  const val = (what: string, i: number) => `${what}-${i}-${'v'.repeat(40)}`;
  const must = (ok: boolean, what: string) => assert.ok(ok, what);
  // a key on a lease; a create of it fails (it exists); the lease is revoked: gone, and no entry names it
  const lease = /lease ([0-9a-f]+) granted/.exec(await etcdctl(endpoint, ['lease', 'grant', '600'], v))![1]!;
  await etcdctl(endpoint, ['put', `--lease=${lease}`, `${P}l0`, val('leased', 0)], v);
  must(!(await guardedTxn(endpoint, v, `${P}l0`, 0, `put ${P}l0 ${val('create', 0)}`)), 'create of the leased key fails');
  await etcdctl(endpoint, ['lease', 'revoke', lease], v);
  // a create, then a range delete over it
  must(await guardedTxn(endpoint, v, '/registry/events/ns/e0', 0, `put /registry/events/ns/e0 ${val('event', 0)}`), 'create e0');
  await etcdctl(endpoint, ['del', '--prefix', '/registry/events/'], v);
  // a stale update, a create of a key that exists, a stale delete: their compares fail, the db keeps what was there
  for (const k of ['a-stale-update', 'a-failed-create', 'a-stale-delete']) must(await guardedTxn(endpoint, v, P + k, 0, `put ${P}${k} ${val(k, 0)}`), `create ${k}`);
  const created = await rev(`${P}a-stale-update`);
  must(await guardedTxn(endpoint, v, `${P}a-stale-update`, created, `put ${P}a-stale-update ${val('update', 0)}`), 'update a-stale-update');
  must(!(await guardedTxn(endpoint, v, `${P}a-stale-update`, created, `put ${P}a-stale-update ${val('stale', 0)}`)), 'stale update fails');
  must(!(await guardedTxn(endpoint, v, `${P}a-failed-create`, 0, `put ${P}a-failed-create ${val('again', 0)}`)), 'create of an existing key fails');
  const deleting = await rev(`${P}a-stale-delete`);
  must(await guardedTxn(endpoint, v, `${P}a-stale-delete`, deleting, `put ${P}a-stale-delete ${val('update', 1)}`), 'update a-stale-delete');
  must(!(await guardedTxn(endpoint, v, `${P}a-stale-delete`, deleting, `del ${P}a-stale-delete`)), 'stale delete fails');
  // creates, a compaction, updates of half of them (both revisions stay), a guarded delete
  for (let i = 0; i < 10; i++) must(await guardedTxn(endpoint, v, `${P}k${i}`, 0, `put ${P}k${i} ${val('create', i)}`), `create k${i}`);
  must(await guardedTxn(endpoint, v, `${P}z-deleted`, 0, `put ${P}z-deleted ${val('create', 99)}`), 'create z-deleted');
  await etcdctl(endpoint, ['compact', String((await getAll(endpoint, v)).revision)], v);
  for (let i = 0; i < 5; i++) must(await guardedTxn(endpoint, v, `${P}k${i}`, await rev(`${P}k${i}`), `put ${P}k${i} ${val('update', i)}`), `update k${i}`);
  must(await guardedTxn(endpoint, v, `${P}z-deleted`, await rev(`${P}z-deleted`), `del ${P}z-deleted`), 'delete z-deleted');
  const all = await getAll(endpoint, v);
  return [...all.kvs.entries()].map(([key, k]) => ({ key, present: true, value: k.value.toString('utf8'), create_revision: k.create_revision, mod_revision: k.mod_revision, version: k.version }));
}

interface Reconciliation {
  checked: number;
  ambiguous: number;
  mismatches: number;
}

function verify(dir: string): { code: number | null; reconciliation: Reconciliation; mismatch: { first: { key: string } | null } | undefined } {
  const r = runCli(['inspect', '--json', dir]);
  const report = JSON.parse(r.stdout) as { verdict: { exitCode: number }; reconciliation: Reconciliation; findings: { code: string; first?: { key: string } | null }[] };
  const v = runCli(['verify', dir]);
  assert.equal(v.code, report.verdict.exitCode);
  return { code: v.code, reconciliation: report.reconciliation, mismatch: report.findings.find((f) => f.code === 'db-wal-mismatch') as { first: { key: string } | null } | undefined };
}

for (const v of ['3.4', '3.5', '3.6', '3.7'] as const) {
  describe(`etcd ${v}: Kubernetes' guarded txns in the WAL/db check`, () => {
    it('a healthy dir is healthy, every key decided or left alone as it should; a renamed key is found, and etcd serves another', async (t) => {
      if (!(await needEtcd(t, v))) return;
      const work = mkdtempSync(join(tmpdir(), `wal-doctor-guarded-${v}-`));
      try {
        const dir = join(work, 'data');
        const e = await bootEtcd(v, dir);
        assert.ok(e.ok, e.error);
        let keys: ManifestKey[];
        try {
          keys = await write(e.endpoint, v);
        } finally {
          await e.stop();
        }
        const healthy = verify(dir);
        assert.equal(healthy.code, 0, 'healthy');
        // decided: k0-k9 (the db holds what the log wrote) and z-deleted (gone, as the log says);
        // left alone: the three a-* (their last write's compare failed), l0 (a lease revoke, which
        // names no key, came after its last write) and e0 (a range delete came after)
        assert.deepEqual([healthy.reconciliation.checked, healthy.reconciliation.ambiguous, healthy.reconciliation.mismatches], [11, 5, 0]);
        const served = await bootCheck(v, dir, { keys }, { probe: true });
        assert.deepEqual([served.boot, served.missing, served.wrong, served.extra, served.probeWrite], ['ok', [], [], [], 'visible']);

        /** A copy of the dir with `kind` at `seed`: verify must name the damaged key; what etcd serves of it. */
        const damaged = async <D extends { key: string }>(kind: string, seed: number): Promise<{ d: D; real: Awaited<ReturnType<typeof bootCheck>> }> => {
          const bad = join(work, `${kind}-${seed}`);
          cpSync(dir, bad, { recursive: true });
          try {
            const d = applyDamage(kind, bad, { seed }) as unknown as D;
            const r = verify(bad);
            assert.notEqual(r.code, 0, `${kind} seed ${seed}: ${d.key}`);
            assert.equal(r.mismatch?.first?.key, d.key, `${kind} seed ${seed}: the mismatch names ${d.key}`);
            return { d, real: await bootCheck(v, bad, { keys }) };
          } finally {
            rmSync(bad, { recursive: true, force: true });
          }
        };

        for (const seed of [1, 2, 3, 4, 5]) {
          const { d, real } = await damaged<{ key: string; key_after: string }>('db-key-bitflip', seed);
          // what etcd does with it: serves the renamed key, and the old one otherwise or not at all
          assert.equal(real.boot, 'ok');
          assert.deepEqual(real.extra, [d.key_after], `seed ${seed}: etcd serves ${d.key_after}`);
          assert.deepEqual([...real.missing, ...real.wrong], [d.key], `seed ${seed}: etcd no longer serves ${d.key} as written`);
        }

        // a bit flipped inside the newest value of a key the damage script picks from the middle of
        // the sorted live keys: the db holds a value the log never wrote, past revisions it wrote; etcd serves it
        for (const seed of [1, 2, 3]) {
          const { d, real } = await damaged<{ key: string }>('db-value-bitflip', seed);
          assert.deepEqual([real.boot, real.missing, real.wrong, real.extra], ['ok', [], [d.key], []], `seed ${seed}: etcd serves ${d.key} changed`);
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
}
