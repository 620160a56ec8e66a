// The analysis on every committed fixture (data dirs written by real etcd 3.4.23 / 3.5.30 / 3.6.16 /
// 3.7.3 and damaged by fixtures/damage.mjs), checked against what real etcd did when it booted on
// that fixture (manifest.etcd_boot, recorded by fixtures/generate.sh and re-checked against live
// etcd by test/e2e/etcd-harness.test.ts) — never against our own earlier output:
//  - our prediction for every release line that was booted has etcd's outcome, and, where etcd
//    died or repaired its WAL, etcd's exact error and log message;
//  - the verdict is `healthy` (exit 0) exactly when the release line that wrote the dir started on
//    it, served every key of the manifest and took a new write (a lone member of a multi-member
//    cluster: started and waited for its quorum, on files that hold everything).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectPath, memberFacts } from '../../src/inspect/analyze.js';
import { Report, ReportJson } from '../../src/inspect/report.js';
import { reportForJson } from '../../src/cli/render/verdict.js';
import type { EtcdVersion } from '../../src/inspect/predict.js';
import { treeHashes } from '../support/cli.js';
import { listFixtures, loadFixture, type EtcdBootRecord } from '../support/fixtures.js';

type Prediction = Report['etcd'][number];

/** Where our prediction differs from what real etcd did (empty: it does not). */
export function disagreements(p: Prediction | undefined, rec: EtcdBootRecord, clusterSize: number, dataDir: string): string[] {
  const out: string[] = [];
  if (!p) return ['no prediction'];
  const walRepaired = rec.new_files.some((f) => f.endsWith('.wal.broken'));
  const notHealthy = rec.boot === 'failed' && /^not healthy within/.test(rec.error ?? '');
  const said = (e: string | null, l: string | null) => e === rec.error && l === rec.log_message;
  if (rec.boot === 'failed' && !notHealthy) {
    if (p.outcome !== 'fails') out.push(`etcd failed (${rec.log_message ?? ''}: ${rec.error ?? ''}); we predicted ${p.outcome}`);
    else if (!said(p.error, p.log) && !(p.orElse && said(p.orElse.error, p.orElse.log))) out.push(`etcd said ${JSON.stringify([rec.log_message, rec.error])}, we predicted ${JSON.stringify([p.log, p.error])}`);
  } else if (notHealthy) {
    // Alone, a member of a bigger cluster waits for its peers; one of one never serving is a stall.
    if (clusterSize > 1 ? p.outcome === 'fails' : p.outcome !== 'never-healthy') out.push(`etcd ran but was never healthy (${rec.last_log ?? ''}); we predicted ${p.outcome} ${p.error ?? ''}`);
  } else if (p.outcome === 'fails' || p.outcome === 'never-healthy') {
    out.push(`etcd started; we predicted ${p.outcome}: ${p.error ?? JSON.stringify(p.stall)}`);
  }
  if (rec.boot === 'ok' || notHealthy || rec.repair_logged) {
    if ((p.outcome === 'self-repairs' || (p.outcome === 'never-healthy' && p.repair !== null) || (p.outcome === 'fails' && p.repair !== null)) !== walRepaired) {
      out.push(`etcd ${walRepaired ? 'did' : 'did not'} repair the WAL`);
    }
    const repairError = p.repair ? (p.outcome === 'self-repairs' ? p.error : undefined) : undefined;
    if (walRepaired && rec.repair_error && p.outcome === 'self-repairs' && repairError !== rec.repair_error) out.push(`etcd's repair error ${JSON.stringify(rec.repair_error)}, we predicted ${JSON.stringify(repairError)}`);
  }
  // 3.4 booted with its default logger: the fatal line (data dir path as <data-dir>).
  const capn = (rec as { capnslog?: string | null }).capnslog;
  if (capn !== undefined && capn !== null && rec.boot === 'failed' && !notHealthy) {
    const ours = p.capnslog?.replace(dataDir, '<data-dir>') ?? null;
    if (ours !== capn) out.push(`3.4's capnslog line ${JSON.stringify(capn)}, we predicted ${JSON.stringify(ours)}`);
  }
  if (rec.boot === 'ok') {
    const snapsBroken = rec.new_files.filter((f) => f.endsWith('.snap.broken')).map((f) => f.slice(f.lastIndexOf('/') + 1, -'.broken'.length));
    if (JSON.stringify(p.snapsRenamedBroken) !== JSON.stringify(snapsBroken)) out.push(`.snap.broken ${JSON.stringify(snapsBroken)}, we predicted ${JSON.stringify(p.snapsRenamedBroken)}`);
  }
  return out;
}

/** Did etcd, booted on the dir, give back everything its files hold? */
function servedEverything(rec: EtcdBootRecord, clusterSize: number): boolean {
  if (clusterSize > 1) return rec.boot === 'failed' && /^not healthy within/.test(rec.error ?? '') && !rec.repaired;
  return rec.boot === 'ok' && (rec.missing_keys ?? []).length === 0 && (rec.wrong_keys ?? []).length === 0 && rec.probe_write === 'visible' && !rec.repaired;
}

describe('inspect on every real-etcd fixture', () => {
  for (const name of listFixtures()) {
    it(name, async () => {
      const fx = await loadFixture(name);
      try {
        const before = treeHashes(fx.dir);
        const analysis = inspectPath(fx.dir, { checkHolders: false });
        const { report } = analysis;
        const parsed = Report.safeParse(report);
        assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3)));
        // What --json prints: every finding's typed fields and its words fit the published schema.
        const json = ReportJson.safeParse(JSON.parse(JSON.stringify(reportForJson(analysis))));
        assert.ok(json.success, json.success ? '' : JSON.stringify(json.error.issues.slice(0, 3)));
        // member-not-voter rewrote the WAL's member ID on purpose; the cluster's members are the base's.
        const walMember = fx.manifest.damage?.kind === 'member-not-voter' ? (fx.manifest.damage['member_id_after'] as string) : fx.manifest.member_id;
        assert.equal(report.wal?.memberId, walMember);
        assert.equal(report.wal?.clusterId, fx.manifest.cluster_id);
        const cluster = (fx.manifest.workload as { cluster?: { members: { id: string }[]; size?: number } } | null)?.cluster;
        const clusterSize = cluster?.size ?? 1;
        assert.deepEqual(report.cluster.members, cluster ? cluster.members.map((m) => m.id).sort() : [fx.manifest.member_id]);

        // The prediction for each release line real etcd was booted with.
        const problems: string[] = [];
        for (const [series, rec] of Object.entries(fx.manifest.etcd_boot)) {
          if (!rec) continue;
          const p = report.etcd.find((e) => e.version === series);
          for (const d of disagreements(p, rec, clusterSize, fx.dir)) problems.push(`${series}: ${d}`);
        }
        assert.deepEqual(problems, [], `${name}: our predictions differ from what real etcd did`);

        // The verdict, for the line that wrote the dir (its last writer): healthy exactly when that
        // etcd gave back everything.
        const writer = fx.manifest.made_by[fx.manifest.made_by.length - 1]!.split('.').slice(0, 2).join('.') as EtcdVersion;
        const rec = fx.manifest.etcd_boot[writer as keyof typeof fx.manifest.etcd_boot];
        assert.ok(rec, `${name}: no boot record of its writer ${writer}`);
        assert.equal(report.verdict.etcdVersion, writer, `${name}: judged by ${report.verdict.etcdVersion}, written by ${writer}`);
        const everything = servedEverything(rec, clusterSize);
        assert.equal(report.verdict.exitCode === 0, everything, `${name}: verdict ${report.verdict.status} (${JSON.stringify(report.verdict.reason)}) but etcd ${writer}: ${rec.boot} ${rec.error ?? ''}, missing ${rec.missing_keys?.length ?? '-'}, wrong ${rec.wrong_keys?.length ?? '-'}, new write ${rec.probe_write ?? '-'}`);

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

        // memberFacts (diff's reading: no checks) gives what the analysis's report says of the WAL,
        // the .snap files and the db, and the same walk but for the apply check's findings.
        const facts = memberFacts(fx.dir);
        assert.deepEqual([facts.walReport, facts.snapFiles, facts.db], [report.wal, report.snapFiles, report.db]);
        assert.deepEqual({ ...facts.wal, badEntries: [], clusterVersion: undefined, termAt: undefined }, { ...analysis.wal, badEntries: [], clusterVersion: undefined, termAt: undefined });

        assert.deepEqual(treeHashes(fx.dir), before, 'inspect changed the data dir');
      } finally {
        fx.cleanup();
      }
    });
  }
});
