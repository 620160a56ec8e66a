// A log that lost its last entries while the db kept them (a power cut between the db's commit and
// the WAL's fsync). 3.6+ serve only once the member is published through raft, and etcd does not
// apply an entry at or below the db's consistent index: the new leader's empty entry takes the
// log's next index, each publish attempt the one after and times out in 7 s, and the first attempt
// above the db's index succeeds. So a gap of 1 costs nothing, a gap of N costs N-1 attempts. The
// boot fuzz found the old prediction ("never serves") wrong on a gap of 2 (power-cut family).
// Each gap, each line: etcd logs as many failed attempts as we predict, then serves every key and
// takes a write; verify still refuses exit 0 (the log no longer holds what the db applied).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspectPath } from '../../src/inspect/analyze.js';
import { runCli } from '../support/cli.js';
import { bootEtcd, compareKeys, getAll, needEtcd, probeWrite } from '../support/etcd.js';
import { applyDamage, type EtcdSeries, loadFixture } from '../support/fixtures.js';

const FAILED = 'failed to publish local member to cluster through raft';
const CASES: { fixture: string; series: EtcdSeries; gaps: number[] }[] = [
  { fixture: 'v36-workload', series: '3.6', gaps: [1, 2, 3] },
  { fixture: 'v37-workload', series: '3.7', gaps: [1, 3] },
];

describe('the db a few entries ahead of the log: 3.6+ serve after one publish timeout per extra entry', () => {
  for (const { fixture, series: v, gaps } of CASES) {
    for (const gap of gaps) {
      it(`${fixture}, the log ${gap} entr${gap === 1 ? 'y' : 'ies'} behind, etcd ${v}`, async (t) => {
        if (!(await needEtcd(t, v))) return;
        const fx = await loadFixture(fixture);
        try {
          (applyDamage as (k: string, d: string, o: { gap: number }) => unknown)('db-ahead-by', fx.dir, { gap });
          const a = inspectPath(fx.dir, { etcdVersion: v, checkHolders: false });
          const p = a.report.etcd.find((e) => e.version === v)!;
          assert.equal(a.report.verdict.exitCode, 2, 'the log lost entries the db applied: not healthy');
          // nothing valid is dropped: the next step does not hand out --allow-entry-loss, and the bridge needs none
          assert.deepEqual(a.verdict.next, { kind: 'bridge-or-rebuild', allowEntryLoss: false });
          const plan = runCli(['repair', '--dry-run', '--bridge', fx.dir]);
          assert.equal(plan.code, 0, plan.stdout + plan.stderr);
          assert.match(plan.stdout, new RegExp(`entries bridged \\(empty; the db holds their writes\\): ${gap} `));
          const timeouts = gap - 1;
          if (timeouts === 0) assert.deepEqual([p.outcome, p.stall], ['starts', null]);
          else assert.deepEqual([p.outcome, p.stall?.['code'], p.stall?.['timeouts']], ['never-healthy', 'db-ahead', timeouts]);

          const e = await bootEtcd(v, fx.dir, { timeoutMs: 7000 * timeouts + 15000 });
          try {
            assert.ok(e.ok, e.error);
            const log = readFileSync(e.logFile, 'utf8');
            assert.equal(log.split('\n').filter((l) => l.includes(FAILED)).length, timeouts, `publish attempts that timed out:\n${e.logTail}`);
            const served = await getAll(e.endpoint, v);
            const cmp = compareKeys(served.kvs, fx.manifest.keys);
            assert.deepEqual([cmp.missing, cmp.wrong], [[], []], 'etcd serves every key the db holds');
            assert.equal(await probeWrite(e.endpoint, v), 'visible', 'no client write lands at an index etcd skips');
          } finally {
            await e.stop();
          }
        } finally {
          fx.cleanup();
        }
      });
    }
  }
});
