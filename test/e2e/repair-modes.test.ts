// repair's modes and guards: --dry-run, --auto (boot hooks), no confirmation without a terminal,
// and the raft HardState fix — on real etcd 3.5.30 data dirs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync, writeSync, closeSync } from 'node:fs';
import { runCli as cli, treeHashes } from '../support/cli.js';
import { loadFixture } from '../support/fixtures.js';
import { bootEtcd, compareKeys, getAll, needEtcd, put } from '../support/etcd.js';
import { inspectPath } from '../../src/inspect/analyze.js';
import { gatherRepairFacts } from '../../src/repair/facts.js';
import { planRepair } from '../../src/repair/plan.js';
import { refusalReason } from '../../src/cli/render/plan.js';
import { RecordEncoder } from '../../src/format/wal/encoder.js';
import { encodeHardState } from '../../src/format/proto/encode.js';

describe('repair modes', () => {
  it('--dry-run names the bytes and the keys that would go, and changes nothing', async () => {
    const fx = await loadFixture('v35-zeroed-sector-mid');
    try {
      const before = treeHashes(fx.dir);
      // Without --bridge the records after the damage cannot be kept: the plan is a cut, it lists
      // the entries and keys it would drop and says what keeps them, and it is refused (the db is ahead).
      const r = cli(['repair', '--dry-run', '--allow-entry-loss', fx.dir]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /keep bytes 0\.\.\d+, zero bytes/);
      assert.match(r.stdout, /entries dropped: \d+ \(index \d+\.\.\d+\)/);
      assert.match(r.stdout, /keys they touched \(\d+\): \/fixture\//);
      assert.match(r.stdout, /repair --bridge keeps the 111 valid record\(s\) after the damage/);
      assert.deepEqual(treeHashes(fx.dir), before);
      const j = JSON.parse(cli(['repair', '--dry-run', '--json', '--allow-entry-loss', fx.dir]).stdout) as { plan: { dropped: { keys: string[]; entries: number } } };
      assert.ok(j.plan.dropped.entries > 0);
      assert.ok(j.plan.dropped.keys.length > 0);
      // With --bridge only the destroyed index goes (its write is in the db): nothing is dropped.
      const b = cli(['repair', '--dry-run', '--bridge', fx.dir]);
      assert.equal(b.code, 0, b.stdout + b.stderr);
      assert.match(b.stdout, /from byte \d+, empty entries 158\.\.158 \(term 2\) in place of bytes \d+\.\.\d+, then the records up to byte \d+ re-chained/);
      assert.match(b.stdout, /entries bridged \(empty; the db holds their writes\): 1 \(index 158\.\.158\)/);
      assert.doesNotMatch(b.stdout, /entries dropped/);
      const jb = JSON.parse(cli(['repair', '--dry-run', '--json', '--bridge', fx.dir]).stdout) as { plan: { dropped: { entries: number }; lossless: boolean } };
      assert.equal(jb.plan.dropped.entries, 0);
      assert.equal(jb.plan.lossless, true);
      assert.deepEqual(treeHashes(fx.dir), before);
    } finally {
      fx.cleanup();
    }
  });

  it('without a terminal and without --yes it refuses (64) and changes nothing', async () => {
    const fx = await loadFixture('v35-torn-tail');
    try {
      const before = treeHashes(fx.dir);
      const r = cli(['repair', fx.dir]);
      assert.equal(r.code, 64, r.stdout + r.stderr);
      assert.match(r.stderr, /--yes/);
      assert.deepEqual(treeHashes(fx.dir), before);
    } finally {
      fx.cleanup();
    }
  });

  it('--auto applies a lossless repair (torn tail), and is a no-op on a healthy dir', async () => {
    const fx = await loadFixture('v35-torn-tail');
    try {
      assert.equal(cli(['repair', '--auto', fx.dir]).code, 0);
      assert.equal(cli(['verify', fx.dir]).code, 0);
      const again = cli(['repair', '--auto', fx.dir]);
      assert.equal(again.code, 0);
      assert.match(again.stdout, /nothing to repair/);
    } finally {
      fx.cleanup();
    }
  });

  it('--auto changes nothing and fails with the reason when the repair would lose acknowledged entries', async () => {
    const fx = await loadFixture('v35-bitflip-mid');
    try {
      const before = treeHashes(fx.dir);
      const r = cli(['repair', '--auto', fx.dir]);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /REFUSED: .*acknowledged/);
      assert.deepEqual(treeHashes(fx.dir), before);
      assert.equal(cli(['repair', '--auto', '--bridge', fx.dir]).code, 64);
    } finally {
      fx.cleanup();
    }
  });

  it('--bridge refuses on a member of a multi-member cluster', async () => {
    const fx = await loadFixture('v35-db-ahead');
    try {
      const a = inspectPath(fx.dir);
      const facts = gatherRepairFacts(a);
      assert.equal(facts.members.length, 1, 'the fixture is a single member');
      // The planner is pure: the same facts with three voters (as a 3-member cluster's db shows).
      const three = { ...facts, members: [...facts.members, 0x1111n, 0x2222n] };
      const plan = planRepair(a, three, { allowEntryLoss: true, bridge: true, auto: false });
      assert.equal(plan.refusal?.exitCode, 2);
      assert.deepEqual(plan.refusal?.reasons.map((r) => r.code), ['bridge-on-cluster']);
      assert.match(plan.refusal ? refusalReason(plan.refusal) : '', /single-member.*3 members|3 members/);
      assert.ok(!plan.actions.some((x) => x.kind === 'append-records'));
    } finally {
      fx.cleanup();
    }
  });

  it('a HardState committing past the log: etcd panics; repair lowers the commit and etcd starts', async (t) => {
    // A real 3.5.30 dir given one more state record (valid CRC) that commits 5 entries it does not
    // have — the state raft refuses with "state.commit N is out of range".
    const fx = await loadFixture('v35-workload');
    try {
      if (!(await needEtcd(t, '3.5'))) return;
      const a = inspectPath(fx.dir);
      const seg = a.wal!.segments[a.wal!.segments.length - 1]!;
      const hs = seg.lastHardState!;
      const last = seg.lastEntry!.index;
      const rec = new RecordEncoder(seg.crcOut).record(3, encodeHardState({ term: hs.term, vote: hs.vote, commit: last + 5n }));
      const fd = openSync(seg.path, 'r+');
      writeSync(fd, rec, 0, rec.length, seg.end.offset);
      closeSync(fd);

      const v = JSON.parse(cli(['verify', '--json', fx.dir]).stdout) as { verdict: { exitCode: number }; etcd: { version: string; error: string | null }[] };
      assert.equal(v.verdict.exitCode, 1);
      const predicted = v.etcd.find((e) => e.version === '3.5')!.error!;
      const copy = `${fx.dir}-etcd`;
      spawnSync('cp', ['-a', fx.dir, copy]);
      const e = await bootEtcd('3.5', copy);
      assert.equal(e.ok, false);
      assert.ok(e.error?.includes(predicted), `etcd: ${e.error}; predicted: ${predicted}`);
      spawnSync('rm', ['-rf', copy]);

      const r = cli(['repair', '--yes', fx.dir]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`lowered the committed index from ${last + 5n} to ${last}`));
      const ok = await bootEtcd('3.5', fx.dir);
      assert.ok(ok.ok, ok.error);
      try {
        const cmp = compareKeys((await getAll(ok.endpoint)).kvs, fx.manifest.keys);
        assert.deepEqual({ missing: cmp.missing, wrong: cmp.wrong, extra: cmp.extra }, { missing: [], wrong: [], extra: [] });
        await put(ok.endpoint, '/after', 'x');
        assert.equal((await getAll(ok.endpoint)).kvs.get('/after')?.value.toString(), 'x');
      } finally {
        await ok.stop();
      }
    } finally {
      fx.cleanup();
    }
  });
});
