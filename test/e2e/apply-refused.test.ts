// Writes etcd puts in its WAL and then refuses at apply are not two histories. Each release line
// writes a dir where:
//  - auth is on and a user whose role may only read `/x` puts `/x`: the entry is in the log,
//    `permission denied` at apply;
//  - a txn without compares puts `/t/1` and `/t/2` on a lease that does not exist: in the log,
//    `requested lease not found` at apply, so neither key is written.
// `verify` must find no WAL/db mismatch there (it said "needs rebuild" before), exit 0, and etcd,
// booted on a copy, must serve what it served before and take a write.
//
// Needs etcd (scripts/etcd-bin.sh): with CI=true a missing binary fails the test; elsewhere it is
// skipped and says it was NOT run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { bootEtcd, etcdctl, needEtcd } from '../support/etcd.js';
import type { EtcdSeries } from '../support/fixtures.js';

const ROOT = ['--user', 'root:rootpw'];

/** `etcdctl get <key> --print-value-only` as root ('' when absent). */
async function value(endpoint: string, key: string, series: EtcdSeries): Promise<string> {
  return (await etcdctl(endpoint, [...ROOT, 'get', key, '--print-value-only'], series)).trim();
}

for (const series of ['3.4', '3.5', '3.6', '3.7'] as const) {
  describe(`writes etcd ${series} refuses at apply`, () => {
    it('a put without permission and a txn on a missing lease: no mismatch, exit 0, etcd serves and takes a write', async (t) => {
      if (!(await needEtcd(t, series))) return;
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-refused-'));
      try {
        const dir = join(work, 'data');
        const e = await bootEtcd(series, dir);
        assert.ok(e.ok, `${e.error}\n${e.logTail}`);
        try {
          await etcdctl(e.endpoint, ['put', '/before', 'b'], series);
          const txn = await fetch(`${e.endpoint}/v3/kv/txn`, {
            method: 'POST',
            body: JSON.stringify({ success: [
              { request_put: { key: Buffer.from('/t/1').toString('base64'), value: Buffer.from('one').toString('base64') } },
              { request_put: { key: Buffer.from('/t/2').toString('base64'), value: Buffer.from('two').toString('base64'), lease: '1234' } },
            ] }),
          });
          assert.match(await txn.text(), /requested lease not found/);
          for (const args of [['user', 'add', 'root:rootpw'], ['user', 'grant-role', 'root', 'root'], ['user', 'add', 'u:upw'], ['role', 'add', 'r'], ['role', 'grant-permission', 'r', 'read', '/x'], ['user', 'grant-role', 'u', 'r'], ['auth', 'enable']]) {
            await etcdctl(e.endpoint, args, series).catch((err: { stderr?: string }) => {
              // 3.4-3.6 make root a root when it is added; granting it again is refused
              if (!/already granted|role root already/i.test(err.stderr ?? '')) throw err;
            });
          }
          await etcdctl(e.endpoint, [...ROOT, 'put', '/ok', '1'], series);
          await assert.rejects(etcdctl(e.endpoint, ['--user', 'u:upw', 'put', '/x', '2'], series), /permission denied/);
          assert.equal(await value(e.endpoint, '/x', series), '');
          assert.equal(await value(e.endpoint, '/t/1', series), '');
        } finally {
          await e.stop();
        }
        const a = inspectPath(dir, { etcdVersion: series, checkHolders: false });
        assert.equal(a.report.reconciliation?.mismatches ?? 0, 0, JSON.stringify(a.report.reconciliation));
        assert.equal(a.report.verdict.exitCode, 0, JSON.stringify(a.report.verdict));

        const copy = join(work, 'copy');
        cpSync(dir, copy, { recursive: true });
        const b = await bootEtcd(series, copy);
        assert.ok(b.ok, `${b.error}\n${b.logTail}`);
        try {
          assert.deepEqual([await value(b.endpoint, '/before', series), await value(b.endpoint, '/ok', series), await value(b.endpoint, '/x', series), await value(b.endpoint, '/t/1', series)], ['b', '1', '', '']);
          await etcdctl(b.endpoint, [...ROOT, 'put', '/after', 'a'], series);
          assert.equal(await value(b.endpoint, '/after', series), 'a');
        } finally {
          await b.stop();
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
}
