// A db whose consistent index is one entry behind its keys (fixtures/damage.mjs db-ci-one-back):
// what a power cut left where the root leaf came from an older transaction, a freed page still
// holding it, over the newer keys (boot fuzz, 3.5, seed 174, cases 18 and 22). Same term, so the
// term check sees nothing. etcd applies the last entry again and serves its key at a revision and
// version nobody wrote. Before: verify said healthy (exit 0) on case 18, and on case 22 `repair
// --auto` set a broken .snap aside and said healthy. Now the db's newest revision being the write
// of the entry above its index is an error (`db-holds-next-write`); the db is set aside, etcd
// replays the log, and serves every key as written and takes a write.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { bootCheck, needEtcd } from '../support/etcd.js';
import { applyDamage, type EtcdSeries, loadFixture } from '../support/fixtures.js';
import { autoRepairServesEverything } from '../support/served.js';

const CASES: { fixture: string; v: EtcdSeries }[] = [
  { fixture: 'v35-workload', v: '3.5' },
  { fixture: 'v36-workload', v: '3.6' },
];

describe('a db whose consistent index is one entry behind its keys: never healthy, replayed', () => {
  for (const { fixture, v } of CASES) {
    it(`${fixture}, etcd ${v}`, async (t) => {
      if (!(await needEtcd(t, v))) return;
      const fx = await loadFixture(fixture);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-ci-back-'));
      try {
        const d = applyDamage('db-ci-one-back', fx.dir) as { consistent_index_after: number };
        const before = await bootCheck(v, fx.dir, fx.manifest);
        assert.equal(before.boot, 'ok', before.logTail);
        assert.ok(before.wrong.length > 0, `etcd ${v} serves a key at a revision nobody wrote`);
        const a = inspectPath(fx.dir, { etcdVersion: v, checkHolders: false });
        const f = a.report.findings.find((x) => x.code === 'db-holds-next-write');
        assert.ok(f && 'index' in f && f.index === `${d.consistent_index_after + 1}`, JSON.stringify(a.report.findings));
        assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [1, { kind: 'repair', flags: [], what: 'db-aside' }]);
        await autoRepairServesEverything(v, fx.dir, fx.manifest, join(work, 'backup'));
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  }
});
