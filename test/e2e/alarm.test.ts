// A db that filled its quota: etcd raises the NOSPACE alarm, keeps it in the db's `alarm` bucket
// (or, killed before its backend committed, only in the WAL entry that raised it) and, started
// again, serves every key but refuses every write. `verify` must not exit 0 there (its exit 0
// promises that etcd takes new writes): it exits 6 with the alarm and what to do. Once the alarm
// is disarmed (keys deleted, compacted, defragmented, `etcdctl alarm disarm`) it exits 0 again.
// The README's gate (docs/examples/wal-doctor-gate.sh) starts etcd on exit 6: only a running etcd
// can disarm. A CORRUPT alarm raised through the API (the gateway takes ACTIVATE from any client)
// makes etcd refuse at apply a put it had already written to its WAL: the WAL holds a write the db
// never got, which is not two histories.
// Each release line writes its own dir here, with a 1 MiB quota, and then boots on a copy of it.
//
// Needs etcd (scripts/etcd-bin.sh): with CI=true a missing binary fails the test; elsewhere it is
// skipped and says it was NOT run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { bootCheck, bootEtcd, etcdctl, getAll, needEtcd } from '../support/etcd.js';
import { BIN, runCli, treeHashes } from '../support/cli.js';
import { REPO_ROOT, type EtcdSeries, type ManifestKey } from '../support/fixtures.js';

const QUOTA = 1 << 20;

/** Puts through the gRPC gateway until etcd answers `database space exceeded`; the keys it took. */
async function fill(endpoint: string): Promise<number> {
  const value = Buffer.alloc(40_000, 0x61).toString('base64');
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`${endpoint}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(`/fill/${String(i).padStart(4, '0')}`).toString('base64'), value }) });
    const body = await r.text();
    if (/database space exceeded/.test(body)) return i;
    assert.equal(r.status, 200, body);
  }
  assert.fail('etcd took 200 puts of 40 KB under a 1 MiB quota');
}

/** What etcd serves now, as the manifest bootCheck compares against. */
async function served(endpoint: string, series: EtcdSeries): Promise<{ keys: ManifestKey[] }> {
  const { kvs } = await getAll(endpoint, series);
  return { keys: [...kvs].map(([key, kv]) => ({ key, present: true, value: kv.value.toString('utf8'), create_revision: kv.create_revision, mod_revision: kv.mod_revision, version: kv.version })) };
}

/** A POST to etcd's gRPC gateway (/v3/...): its JSON answer. */
async function gateway(endpoint: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(`${endpoint}/v3/${path}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text) as Record<string, unknown>;
}

/** This member's ID as the gateway prints it (a decimal string). */
async function memberId(endpoint: string): Promise<string> {
  return ((await gateway(endpoint, 'maintenance/status', {}))['header'] as { member_id: string }).member_id;
}

for (const series of ['3.4', '3.5', '3.6', '3.7'] as const) {
  describe(`the NOSPACE alarm, written by etcd ${series}`, () => {
    for (const stop of ['clean', 'killed'] as const) {
      it(`${stop}: verify exits 6 naming the alarm; etcd starts, serves every key and refuses a write`, async (t) => {
        if (!(await needEtcd(t, series))) return;
        const work = mkdtempSync(join(tmpdir(), 'wal-doctor-alarm-'));
        try {
          const dir = join(work, 'data');
          const shim = join(work, 'wal-doctor');
          writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
          chmodSync(shim, 0o755);
          const e = await bootEtcd(series, dir, { args: ['--quota-backend-bytes', String(QUOTA)] });
          assert.ok(e.ok, `${e.error}\n${e.logTail}`);
          let manifest: { keys: ManifestKey[] };
          try {
            const took = await fill(e.endpoint);
            assert.ok(took > 0);
            manifest = await served(e.endpoint, series);
          } finally {
            await e.stop(stop === 'killed');
          }
          const a = inspectPath(dir, { etcdVersion: series, checkHolders: false });
          const alarms = a.report.findings.filter((f) => f.code === 'alarm-raised');
          t.diagnostic(`etcd ${series} ${stop}: ${alarms.map((f) => (f.code === 'alarm-raised' ? `${f.alarm} ${f.index === null ? 'in the db' : `in WAL entry ${f.index}`}` : '')).join(', ')}`);
          assert.equal(a.report.verdict.status, 'alarm', JSON.stringify(a.report.verdict));
          assert.equal(a.report.verdict.exitCode, 6);
          assert.deepEqual(alarms.map((f) => f.code === 'alarm-raised' && f.alarm), ['NOSPACE']);
          // The README's gate starts etcd on it (only a running etcd can disarm), changing nothing.
          const before = treeHashes(dir);
          const gate = spawnSync('/bin/sh', [join(REPO_ROOT, 'docs', 'examples', 'wal-doctor-gate.sh'), dir], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', WAL_DOCTOR: shim } });
          assert.equal(gate.status, 0, gate.stdout + gate.stderr);
          assert.match(gate.stderr, /alarm is raised .*: starting etcd/);
          assert.deepEqual(treeHashes(dir), before);

          // etcd's /health says false while the alarm is raised (`ALARM NOSPACE`): wait on it without that alarm
          const real = await bootCheck(series, dir, manifest, { probe: true, healthQuery: '?exclude=NOSPACE' });
          assert.equal(real.boot, 'ok', `${real.error}\n${real.logTail}`);
          assert.deepEqual({ missing: real.missing, wrong: real.wrong }, { missing: [], wrong: [] });
          assert.match(real.probeWrite ?? '', /database space exceeded/, 'etcd refuses the write, as the verdict says');

          if (stop === 'clean') {
            // A rebuild keeps the alarm (as etcdutl snapshot restore does) and says so.
            const rebuilt = join(work, 'rebuilt');
            const rb = runCli(['rebuild', '--json', '--from', dir, '--out', rebuilt, '--unapplied', join(work, 'unapplied.ndjson')]);
            assert.equal(rb.code, 0, rb.stdout + rb.stderr);
            assert.deepEqual((JSON.parse(rb.stdout) as { alarms: string[] }).alarms, ['NOSPACE']);
            assert.equal(runCli(['verify', '--etcd-version', series, rebuilt]).code, 6);
            const again = await bootCheck(series, rebuilt, manifest, { probe: true, healthQuery: '?exclude=NOSPACE' });
            assert.equal(again.boot, 'ok', `${again.error}\n${again.logTail}`);
            assert.match(again.probeWrite ?? '', /database space exceeded/, 'the rebuilt dir refuses writes too');
          }
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      });
    }

    for (const disarm of [false, true]) {
      it(`CORRUPT raised through the API, a put refused at apply${disarm ? ', then disarmed' : ''}: ${disarm ? 'exit 0, etcd takes a write' : 'exit 6, not two histories'}`, async (t) => {
        if (!(await needEtcd(t, series))) return;
        const work = mkdtempSync(join(tmpdir(), 'wal-doctor-alarm-'));
        try {
          const dir = join(work, 'data');
          const e = await bootEtcd(series, dir);
          assert.ok(e.ok, `${e.error}\n${e.logTail}`);
          let manifest: { keys: ManifestKey[] };
          try {
            await etcdctl(e.endpoint, ['put', '/kept', 'v'], series);
            await gateway(e.endpoint, 'maintenance/alarm', { action: 'ACTIVATE', memberID: await memberId(e.endpoint), alarm: 'CORRUPT' });
            // proposed, written to the WAL, refused by the corrupt applier: never in the db
            await assert.rejects(etcdctl(e.endpoint, ['put', '/refused', 'v'], series), /corrupt cluster/);
            if (disarm) await etcdctl(e.endpoint, ['alarm', 'disarm'], series);
            manifest = await served(e.endpoint, series);
          } finally {
            await e.stop();
          }
          assert.ok(!manifest.keys.some((k) => k.key === '/refused'));
          const a = inspectPath(dir, { etcdVersion: series, checkHolders: false });
          assert.equal(a.report.reconciliation?.mismatches ?? 0, 0, JSON.stringify(a.report.reconciliation));
          assert.equal(a.report.verdict.exitCode, disarm ? 0 : 6, JSON.stringify(a.report.verdict));
          const real = await bootCheck(series, dir, manifest, { probe: true, healthQuery: disarm ? '' : '?exclude=CORRUPT' });
          assert.equal(real.boot, 'ok', `${real.error}\n${real.logTail}`);
          assert.deepEqual({ missing: real.missing, wrong: real.wrong }, { missing: [], wrong: [] });
          if (disarm) assert.equal(real.probeWrite, 'visible');
          else assert.match(real.probeWrite ?? '', /corrupt cluster/);
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      });
    }

    it('disarmed (keys deleted, compacted, defragmented, alarm disarm): verify exits 0 and etcd takes a write', async (t) => {
      if (!(await needEtcd(t, series))) return;
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-alarm-'));
      try {
        const dir = join(work, 'data');
        const e = await bootEtcd(series, dir, { args: ['--quota-backend-bytes', String(QUOTA)] });
        assert.ok(e.ok, `${e.error}\n${e.logTail}`);
        let manifest: { keys: ManifestKey[] };
        try {
          await fill(e.endpoint);
          await etcdctl(e.endpoint, ['del', '/fill/', '--prefix'], series);
          await etcdctl(e.endpoint, ['compact', String((await getAll(e.endpoint, series)).revision)], series);
          await etcdctl(e.endpoint, ['defrag'], series);
          await etcdctl(e.endpoint, ['alarm', 'disarm'], series);
          assert.equal((await etcdctl(e.endpoint, ['alarm', 'list'], series)).trim(), '');
          manifest = await served(e.endpoint, series);
        } finally {
          await e.stop();
        }
        const a = inspectPath(dir, { etcdVersion: series, checkHolders: false });
        assert.equal(a.report.verdict.exitCode, 0, JSON.stringify(a.report.verdict));
        const real = await bootCheck(series, dir, manifest, { probe: true });
        assert.equal(real.boot, 'ok', `${real.error}\n${real.logTail}`);
        assert.equal(real.probeWrite, 'visible');
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
}
