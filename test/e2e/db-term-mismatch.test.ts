// A db whose consistent index is older than its keys and its term (fixtures/damage.mjs
// db-ci-before-term: the index put back to the last entry of an earlier term): what a power cut
// left where the meta page's sector holding the index was not written and the rest was (boot fuzz,
// 3.7 case 17 of seed 169, --block 512 --zeros). etcd applies the entries above that index again,
// over a db that holds them: it served a key at a revision and version nobody wrote. Before: the
// term was only a warning, the verdict came from a broken .snap, and after `repair --auto` verify
// said healthy. Now the term etcd recorded beside the index must be the log's entry's there; where
// it is not, the db is set aside where etcd can replay the whole log into a new one, else rebuilt
// from (a rebuild keeps the db's keys), and etcd then serves every key as written and takes a write.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { runCli } from '../support/cli.js';
import { bootCheck, needEtcd } from '../support/etcd.js';
import { applyDamage, type EtcdSeries, loadFixture } from '../support/fixtures.js';
import { autoRepairServesEverything, servesEverything } from '../support/served.js';

// `remedy`: db-aside where etcd replays the whole log (from index 1) into a new db without a problem;
// else a rebuild from the db (3.7 does not replay this log without its db: a record it does not decode).
const CASES: { fixture: string; v: EtcdSeries; remedy: 'rebuild' | 'db-aside' }[] = [
  { fixture: 'v35-then-v36-then-v37', v: '3.7', remedy: 'rebuild' },
  { fixture: 'v35-then-v36', v: '3.6', remedy: 'db-aside' },
  { fixture: 'v35-crash', v: '3.5', remedy: 'db-aside' },
];

describe('a db whose consistent index is older than its term: never healthy, rebuilt whole', () => {
  for (const { fixture, v, remedy } of CASES) {
    it(`${fixture}, etcd ${v}: ${remedy}`, async (t) => {
      if (!(await needEtcd(t, v))) return;
      const fx = await loadFixture(fixture);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-term-'));
      try {
        const d = applyDamage('db-ci-before-term', fx.dir) as { consistent_index_after: number; term: number };
        const before = await bootCheck(v, fx.dir, fx.manifest);
        assert.ok(before.boot === 'failed' || before.wrong.length > 0 || before.missing.length > 0, `etcd ${v} does not serve every key as written on this dir (${before.boot}, ${before.error})`);
        const a = inspectPath(fx.dir, { etcdVersion: v, checkHolders: false });
        const f = a.report.findings.find((x) => x.code === 'db-term-mismatch');
        assert.ok(f && 'consistentIndex' in f && f.consistentIndex === `${d.consistent_index_after}` && f.term === `${d.term}`, JSON.stringify(a.report.findings));
        if (remedy === 'db-aside') {
          assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [1, { kind: 'repair', flags: [], what: 'db-aside' }]);
          await autoRepairServesEverything(v, fx.dir, fx.manifest, join(work, 'backup'));
          return;
        }
        assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [2, { kind: 'rebuild' }]);

        const plan = runCli(['rebuild', '--dry-run', '--from', fx.dir, '--out', join(work, 'x')]).stdout;
        const keep = /^ {2}to keep the old IDs: (.*)$/m.exec(plan)![1]!.split(' ');
        const out = join(work, 'rebuilt');
        const r = runCli(['rebuild', '--from', fx.dir, '--out', out, ...keep]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.equal(runCli(['verify', out]).code, 0, 'the rebuilt dir is healthy');
        await servesEverything(v, out, fx.manifest, { name: keep[keep.indexOf('--name') + 1]! });
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  }
});
