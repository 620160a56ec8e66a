// runRepair, the repair as a library call (what `wal-doctor repair` runs): each outcome on a real
// data dir, the plan handed over before the question, nothing written when the question is
// declined or throws, the dir's locks released however the run ends, and a repair put back when
// etcd would still refuse its result.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import type { RepairPlan } from '../../src/repair/plan.js';
import { runRepair } from '../../src/repair/run.js';
import { renderRepair } from '../../src/cli/render/repair.js';
import { treeHashes } from '../support/cli.js';
import { applyDamage, loadFixture } from '../support/fixtures.js';

/** The backups of a repair of dataDir: beside it, named after it. */
const backups = (dataDir: string): string[] =>
  readdirSync(dirname(dataDir))
    .filter((n) => n.startsWith(`${basename(dataDir)}.wal-doctor-backup-`))
    .map((n) => join(dirname(dataDir), n));

describe('runRepair', () => {
  it('a healthy dir: nothing-to-do, and the plan says noop', async () => {
    const fx = await loadFixture('v34-workload');
    try {
      const r = await runRepair(fx.dir, {}, { confirm: async () => assert.fail('nothing to ask') });
      assert.equal(r.outcome, 'nothing-to-do');
      assert.equal(r.plan.noop, true);
    } finally {
      fx.cleanup();
    }
  });

  it('damage it must not cut: refused, with the refusal in the plan, and nothing written', async () => {
    const fx = await loadFixture('v35-bitflip-mid');
    try {
      const before = treeHashes(fx.dir);
      const r = await runRepair(fx.dir, {}, { confirm: async () => assert.fail('a refused plan is never asked about') });
      assert.equal(r.outcome, 'refused');
      assert.ok(r.plan.refusal);
      assert.deepEqual(treeHashes(fx.dir), before);
    } finally {
      fx.cleanup();
    }
  });

  it('a torn tail: dry-run changes nothing; declined changes nothing; a throwing question changes nothing and releases the locks; applied', async () => {
    const fx = await loadFixture('v35-torn-tail');
    try {
      const before = treeHashes(fx.dir);
      const seen: RepairPlan[] = [];
      const dry = await runRepair(fx.dir, { dryRun: true }, { onPlan: (p) => seen.push(p) });
      assert.equal(dry.outcome, 'dry-run');
      assert.equal(seen.length, 1);
      assert.equal(seen[0], dry.plan);

      let asked: RepairPlan | undefined;
      const declined = await runRepair(fx.dir, {}, {
        onPlan: (p) => seen.push(p),
        confirm: async (p) => {
          assert.equal(seen.at(-1), p, 'the plan is handed over before the question');
          asked = p;
          return false;
        },
      });
      assert.equal(declined.outcome, 'declined');
      assert.equal(declined.plan, asked);
      assert.deepEqual(treeHashes(fx.dir), before);
      assert.deepEqual(backups(fx.dir), []);

      await assert.rejects(runRepair(fx.dir, {}, { confirm: async () => { throw new UsageError('no terminal'); } }), UsageError);
      assert.deepEqual(treeHashes(fx.dir), before);

      let progress = 0;
      const applied = await runRepair(fx.dir, {}, { confirm: async () => true, progress: () => ({ done: () => void progress++ }) });
      assert.equal(applied.outcome, 'applied', 'the locks the throwing run took were released');
      assert.equal(progress, 2, 'one analysis before, one after');
      if (applied.outcome !== 'applied') return;
      assert.equal(applied.verdictAfter.status, 'healthy');
      assert.equal(applied.analysisAfter.report.verdict, applied.verdictAfter);
      assert.deepEqual(applied.applied.length, applied.plan.actions.length);
      assert.ok(existsSync(applied.backupDir));
      assert.notDeepEqual(treeHashes(fx.dir), before);

      const again = await runRepair(fx.dir);
      assert.equal(again.outcome, 'nothing-to-do', 'a second repair is a no-op');
    } finally {
      for (const b of backups(fx.dir)) rmSync(b, { recursive: true, force: true });
      fx.cleanup();
    }
  });

  it('etcd would still refuse the result: undone, every file the repair wrote put back byte for byte', async () => {
    const fx = await loadFixture('v35-torn-tail');
    try {
      const db = join(fx.dir, 'member', 'snap', 'db');
      const wal = (tree: Record<string, string>) => Object.fromEntries(Object.entries(tree).filter(([k]) => k.startsWith('member/wal')));
      const before = wal(treeHashes(fx.dir));
      // Between the question and the first write the db is cut to one page, which the plan (a cut
      // of the WAL) does not touch: after the repair, etcd cannot open it.
      const r = await runRepair(fx.dir, {}, { confirm: async () => (truncateSync(db, 4096), true) });
      assert.equal(r.outcome, 'undone');
      if (r.outcome !== 'undone') return;
      assert.equal(r.etcdVersion, '3.5');
      assert.match(r.reason ?? '', /file size too small/);
      assert.notEqual(r.verdictAfter.exitCode, 0);
      assert.ok(existsSync(r.backupDir), 'the backup is kept');
      assert.deepEqual(wal(treeHashes(fx.dir)), before, 'the WAL is as it was before the repair');
    } finally {
      for (const b of backups(fx.dir)) rmSync(b, { recursive: true, force: true });
      fx.cleanup();
    }
  });

  it('etcd would start without a write the plan did not give up: undone, and said so', async () => {
    const fx = await loadFixture('v35-crash');
    try {
      let damaged: Record<string, string> = {};
      // The plan moves a leftover 0.tmp; between the question and the first write the block before
      // the log's last entry is lost: etcd would then start without that entry.
      const r = await runRepair(fx.dir, {}, { confirm: async () => (applyDamage('zeroed-before-last-entry', fx.dir), (damaged = treeHashes(fx.dir)), true) });
      assert.equal(r.outcome, 'undone');
      if (r.outcome !== 'undone') return;
      assert.deepEqual(r.plan.actions.map((x) => x.kind), ['set-aside']);
      assert.deepEqual([r.verdictAfter.reason.code, r.startsWithout?.entries], ['records-hidden', 1]);
      assert.match(renderRepair(r, false).stdout, /^etcd 3\.5 would start without \d+ record\(s\) a zero length word at \S+ byte \d+ hides \(1 entries, index (\d+)\.\.\1, 1 acknowledged as committed\); undone from .*, nothing changed$/m);
      assert.deepEqual(treeHashes(fx.dir), damaged, 'every file as it was before the repair wrote');
    } finally {
      for (const b of backups(fx.dir)) rmSync(b, { recursive: true, force: true });
      fx.cleanup();
    }
  });

  it('the result would still need a rebuild: undone as well', async () => {
    const fx = await loadFixture('v35-torn-tail');
    try {
      let damaged: Record<string, string> = {};
      // Between the question and the first write a length word below the db's consistent index is
      // zeroed: after the planned cut etcd would read the log only up to there, and the db is
      // ahead of it (records the word hides, that etcd would start without, come after that).
      const r = await runRepair(fx.dir, {}, { confirm: async () => (applyDamage('zero-length-mid', fx.dir), (damaged = treeHashes(fx.dir)), true) });
      assert.equal(r.outcome, 'undone');
      if (r.outcome !== 'undone') return;
      assert.deepEqual([r.verdictAfter.status, r.verdictAfter.reason.code, r.reason], ['needs-rebuild', 'db-ahead', null]);
      assert.deepEqual(treeHashes(fx.dir), damaged, 'every file as it was before the repair wrote');
    } finally {
      for (const b of backups(fx.dir)) rmSync(b, { recursive: true, force: true });
      fx.cleanup();
    }
  });
});
