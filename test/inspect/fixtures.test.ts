// The analysis on every committed fixture (data dirs written by real etcd 3.4.23 / 3.5.30 / 3.6.16 /
// 3.7.3 and damaged by fixtures/damage.mjs), checked two ways:
//  - against what real etcd did when it booted on that fixture (manifest.etcd_boot, recorded by
//    fixtures/generate.sh and re-checked against live etcd by test/e2e/etcd-harness.test.ts):
//    our prediction for that release line must have the same outcome and the same error text;
//  - against the verdicts below, reviewed by hand (a new fixture fails here until it is added).
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { inspectPath } from '../../src/inspect/analyze.js';
import { Report } from '../../src/inspect/report.js';
import { treeHashes } from '../support/cli.js';
import { listFixtures, loadFixture } from '../support/fixtures.js';

interface Golden {
  exit: 0 | 1 | 2;
  /** Code of the first error finding (undefined: no error finding). */
  firstError?: string;
}

const GOLDEN: Record<string, Golden> = {
  'v34-garbage-tail': { exit: 1, firstError: 'crc-mismatch' },
  'v34-oversized-length': { exit: 1, firstError: 'oversized-length' },
  'v34-then-v35': { exit: 0 },
  'v34-torn-tail': { exit: 1, firstError: 'torn-tail' },
  'v34-workload': { exit: 0 },
  'v35-bitflip-mid': { exit: 2, firstError: 'crc-mismatch' },
  'v35-broken-snap': { exit: 1 },
  'v35-crash': { exit: 0 },
  'v35-crc-link': { exit: 2, firstError: 'crc-chain-broken' },
  // etcd repairs the torn tail and boots, but the db is ahead of what is left of the log.
  'v35-db-ahead': { exit: 2, firstError: 'torn-tail' },
  'v35-etcd-repaired': { exit: 0 },
  'v35-fresh': { exit: 0 },
  'v35-garbage-tail': { exit: 1, firstError: 'crc-mismatch' },
  // Kubernetes objects (protobuf, JSON, an aescbc-encrypted value) under /registry/: healthy.
  'v35-k8s': { exit: 0 },
  'v35-leftover-tmp': { exit: 0 },
  'v35-missing-segment': { exit: 2, firstError: 'etcd-will-fail' },
  // the db went back in time below the newest .snap: setting the newer .snap files aside fixes it.
  'v35-db-behind-snap': { exit: 1, firstError: 'db-behind-snapshot' },
  // member a of a real 3-member cluster: healthy files (alone it waits for a quorum).
  'v35-member-of-3': { exit: 0 },
  // the same after a crash and a zeroed record: the db is ahead; --bridge must refuse (3 members).
  'v35-member-of-3-db-ahead': { exit: 2, firstError: 'torn-tail' },
  // segment 1 of 3 deleted: the chain from segment 0 does not lead into segment 2.
  'v35-missing-middle-segment': { exit: 2, firstError: 'crc-chain-broken' },
  'v35-oversized-length': { exit: 1, firstError: 'oversized-length' },
  'v35-segments': { exit: 0 },
  'v35-snapshots': { exit: 0 },
  'v35-torn-tail': { exit: 1, firstError: 'torn-tail' },
  'v35-torn-zero-sector': { exit: 1, firstError: 'torn-tail' },
  'v35-truncated-segment': { exit: 2, firstError: 'truncated-record' },
  'v35-workload': { exit: 0 },
  // writer B's first 20 records (its own fresh CRC chain) spliced into writer A's segment 0: A's chain breaks at
  // B's crc record; A's db has applied past the cut, so truncating there loses writes (and a two-writers finding).
  'v35-two-writers': { exit: 2, firstError: 'crc-chain-broken' },
  // etcd boots, but its db has applied entries the WAL no longer holds: new writes would vanish.
  'v35-zero-length-segment': { exit: 2, firstError: 'empty-segment' },
  'v35-zeroed-sector-mid': { exit: 2, firstError: 'torn-tail' },
  // Written by real etcd 3.6.16 / 3.7.3 (scripts/etcd-bin.sh builds them from upstream's Go modules),
  // the same workloads, damage kinds and seeds as their 3.5 twins, so the same verdicts.
  'v36-crash': { exit: 0 },
  'v36-fresh': { exit: 0 },
  'v36-garbage-tail': { exit: 1, firstError: 'crc-mismatch' },
  'v36-torn-tail': { exit: 1, firstError: 'torn-tail' },
  'v36-workload': { exit: 0 },
  'v37-crash': { exit: 0 },
  'v37-garbage-tail': { exit: 1, firstError: 'crc-mismatch' },
  'v37-torn-tail': { exit: 1, firstError: 'torn-tail' },
  'v37-workload': { exit: 0 },
  // one member upgraded 3.5 -> 3.6 (3.6 starts; 3.7 would panic on 3.5's v2 entries: see the manifest)
  'v35-then-v36': { exit: 0 },
  // ... and on to 3.7 after a 3.6 restart (which snapshotted past 3.5's entries): healthy under 3.7
  'v35-then-v36-then-v37': { exit: 0 },
};

// Where our prediction and what real etcd 3.6.16 / 3.7.3 did (recorded in the manifests) disagree today:
// `<fixture> <series>` (a recorded boot) or `<fixture> verdict` (the reviewed verdict above). The analysis
// is being rewritten elsewhere; until it catches up these are reported as diagnostics, not failures. Each
// entry must still disagree: once a prediction matches, the test fails until the entry is removed.
const KNOWN_DISAGREEMENTS: Record<string, string> = {
  // 3.6 panics replaying the v2 QGET entries 3.4 proposed for each /health (after repairing a torn tail)
  'v34-oversized-length 3.6': 'real: fails "detected disallowed v2 WAL for stage --v2-deprecation=write-only"; ours: self-repairs',
  'v34-then-v35 3.6': 'real: fails "detected disallowed v2 WAL for stage --v2-deprecation=write-only"; ours: starts',
  'v34-torn-tail 3.6': 'real: fails "detected disallowed v2 WAL for stage --v2-deprecation=write-only" (after writing .wal.broken); ours: self-repairs',
  'v34-workload 3.6': 'real: fails "detected disallowed v2 WAL for stage --v2-deprecation=write-only"; ours: starts',
  // db ahead of the WAL: 3.5 booted (writes time out), 3.6 is never healthy (member publish times out)
  'v35-db-ahead 3.6': 'real: not healthy within 20s (failed to publish local member to cluster through raft: etcdserver: request timed out), after writing .wal.broken; ours: self-repairs',
  'v35-zero-length-segment 3.6': 'real: not healthy within 20s (failed to publish local member ...); ours: starts',
  'v35-zeroed-sector-mid 3.6': 'real: not healthy within 20s (failed to publish local member ...), after writing .wal.broken; ours: self-repairs',
  // no 3.7 prediction at all (BootPrediction.version is 3.4 | 3.5 | 3.6)
  'v35-then-v36 3.7': 'real: fails "execute job failed" / "unmarshal should never fail (proto: cannot parse invalid wire-format data)"; ours: none',
  'v35-then-v36-then-v37 3.7': 'real: starts; ours: none',
  'v36-crash 3.7': 'real: starts (deletes wal/0.tmp); ours: none',
  'v36-fresh 3.7': 'real: starts; ours: none',
  'v36-garbage-tail 3.7': 'real: fails "walpb: crc mismatch: expected: 0 computed: 481be319: in file \'0000000000000000-0000000000000000.wal\' at position: 61072"; ours: none',
  'v36-torn-tail 3.7': 'real: self-repairs (the 3.6 repair error text); ours: none',
  'v36-workload 3.7': 'real: starts; ours: none',
  'v37-crash 3.7': 'real: starts; ours: none',
  'v37-garbage-tail 3.7': 'real: fails "walpb: crc mismatch: expected: 0 computed: ce441472: in file \'0000000000000000-0000000000000000.wal\' at position: 62024"; ours: none',
  'v37-torn-tail 3.7': 'real: self-repairs; ours: none',
  'v37-workload 3.7': 'real: starts; ours: none',
  // 3.6 on a 3.7 dir: schema check, not the downgrade check
  'v35-then-v36-then-v37 3.6': 'real: "discovery failed" / "version \\"3.7.0\\" is not supported"; ours: "invalid downgrade; server version is lower than determined cluster version"',
  'v37-crash 3.6': 'real: "discovery failed" / "version \\"3.7.0\\" is not supported"; ours: "invalid downgrade; ..."',
  'v37-torn-tail 3.6': 'real: "discovery failed" / "version \\"3.7.0\\" is not supported" (no repair first); ours: "invalid downgrade; ..."',
  'v37-workload 3.6': 'real: "discovery failed" / "version \\"3.7.0\\" is not supported"; ours: "invalid downgrade; ..."',
  'v37-garbage-tail 3.6': 'real: its WAL read fails first: "walpb: crc mismatch: expected: 0 computed: ce441472: in file ... at position: 62024"; ours: "invalid downgrade; ..."',
  // 3.7 dirs are judged by 3.6 rules (exit 2, etcd-will-fail: invalid downgrade) though 3.7 boots them
  'v35-then-v36-then-v37 verdict': 'reviewed: exit 0 (healthy under 3.7); ours: exit 2, etcd-will-fail',
  'v37-crash verdict': 'reviewed: exit 0; ours: exit 2, etcd-will-fail',
  'v37-workload verdict': 'reviewed: exit 0; ours: exit 2, etcd-will-fail',
};

/** No problems, or (for a listed known disagreement) at least one, reported as a diagnostic. */
function expectAgreement(t: TestContext, key: string, problems: string[]): void {
  const known = KNOWN_DISAGREEMENTS[key];
  if (known === undefined) {
    assert.deepEqual(problems, [], `${key}: ${problems.join('; ')}`);
    return;
  }
  assert.ok(problems.length > 0, `${key} is listed in KNOWN_DISAGREEMENTS (${known}) but our prediction now agrees with real etcd: remove the entry`);
  t.diagnostic(`known disagreement ${key}: ${problems.join('; ')}`);
}

describe('inspect on every real-etcd fixture', () => {
  for (const name of listFixtures()) {
    it(name, async (t) => {
      const golden = GOLDEN[name];
      assert.ok(golden, `fixture ${name} has no reviewed verdict in test/inspect/fixtures.test.ts`);
      const fx = await loadFixture(name);
      try {
        const before = treeHashes(fx.dir);
        const { report } = inspectPath(fx.dir);
        const parsed = Report.safeParse(report);
        assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3)));

        const firstError = report.findings.find((f) => f.severity === 'error');
        const verdictProblems: string[] = [];
        if (report.verdict.exitCode !== golden.exit) verdictProblems.push(`exit ${report.verdict.exitCode}, reviewed ${golden.exit}: ${JSON.stringify(report.verdict.reason)}`);
        if (firstError?.code !== golden.firstError) verdictProblems.push(`first error ${firstError?.code}, reviewed ${golden.firstError}: ${firstError?.message}`);
        expectAgreement(t, `${name} verdict`, verdictProblems);
        assert.equal(report.wal?.memberId, fx.manifest.member_id);
        assert.equal(report.wal?.clusterId, fx.manifest.cluster_id);
        const cluster = (fx.manifest.workload as { cluster?: { members: { id: string }[] } } | null)?.cluster;
        assert.deepEqual(report.cluster.members, cluster ? cluster.members.map((m) => m.id).sort() : [fx.manifest.member_id]);

        // The prediction for each release line real etcd was booted with.
        for (const [series, rec] of Object.entries(fx.manifest.etcd_boot)) {
          if (!rec) continue;
          const p = report.etcd.find((e) => e.version === series);
          const problems: string[] = [];
          const clusterSize = (fx.manifest.workload as { cluster?: { size?: number } } | null)?.cluster?.size ?? 1;
          const walRepaired = rec.new_files.some((f) => f.endsWith('.wal.broken'));
          if (!p) {
            problems.push(`no prediction for ${series}`);
          } else if (rec.boot === 'failed' && clusterSize > 1 && /^not healthy within/.test(rec.error ?? '')) {
            // A lone member of a multi-member cluster starts but waits for its peers: it did not fail
            // on its files, so we must not predict a failure either.
            if (p.outcome === 'fails') problems.push(`${series}: the member started and waited for a quorum; we predicted: ${p.error}`);
            if ((p.outcome === 'self-repairs') !== walRepaired) problems.push(`${series}: etcd ${walRepaired ? 'did' : 'did not'} repair the WAL`);
          } else if (rec.boot === 'failed') {
            if (p.outcome !== 'fails') problems.push(`${series}: real etcd failed with ${rec.error}; we predicted ${p.outcome}`);
            else if (!(rec.error && p.error && rec.error.includes(p.error))) problems.push(`${series}: etcd said "${rec.error}", we predicted "${p.error}"`);
          } else {
            if (p.outcome === 'fails') problems.push(`${series}: real etcd booted; we predicted: ${p.error}`);
            // `repaired` is any new *.broken file; a WAL repair also leaves a *.wal.broken.
            if ((p.outcome === 'self-repairs') !== walRepaired) problems.push(`${series}: etcd ${walRepaired ? 'did' : 'did not'} repair the WAL`);
            if (walRepaired && rec.repair_error && p.error !== rec.repair_error) problems.push(`${series}: etcd's repair error "${rec.repair_error}", we predicted "${p.error}"`);
            const snapsBroken = rec.new_files.filter((f) => f.endsWith('.snap.broken')).map((f) => f.slice(f.lastIndexOf('/') + 1, -'.broken'.length));
            if (JSON.stringify(p.snapsRenamedBroken) !== JSON.stringify(snapsBroken)) problems.push(`${series}: .snap.broken ${JSON.stringify(snapsBroken)}, we predicted ${JSON.stringify(p.snapsRenamedBroken)}`);
          }
          expectAgreement(t, `${name} ${series}`, problems);
        }

        // Where the good data ends: the byte the damage script recorded.
        const d = fx.manifest.damage;
        if (d && typeof d.last_good_offset === 'number' && report.wal?.goodUntil) {
          assert.equal(report.wal.goodUntil.offset, d.last_good_offset);
          assert.equal(report.wal.goodUntil.segment, d.file);
        }
        const bytesStayed = d && !['truncated-segment', 'torn-tail', 'zero-length-segment', 'missing-segment'].includes(d.kind);
        if (d && bytesStayed && typeof d.records_after_damage === 'number' && d.records_after_damage > 0 && report.wal?.goodUntil) {
          // Valid records after the damage: what etcd's own repair would throw away. All are found
          // again; all but the first chain to the one before (the first's predecessor may be lost).
          const seg = report.wal.segments.find((s) => d.file.endsWith(s.name));
          assert.equal(seg?.salvage.records, d.records_after_damage);
          assert.ok((seg?.salvage.chained ?? 0) >= d.records_after_damage - 1);
        }
        if (fx.manifest.category === 'healthy') assert.equal(report.wal?.goodUntil, null);

        assert.deepEqual(treeHashes(fx.dir), before, 'inspect changed the data dir');
      } finally {
        fx.cleanup();
      }
    });
  }
});
