// `repair` proven the only way that counts: real etcd boots on the result, serves every key the
// fixture's manifest says was written, and accepts new writes that read back (which catches a log
// left below the db's consistent index: etcd would then skip them). Each case starts from a data
// dir written by real etcd and damaged by fixtures/damage.mjs.
//
// Needs etcd 3.4.23 / 3.5.30 (scripts/etcd-bin.sh): with CI=true a missing binary fails the test,
// otherwise the test is skipped and says that it was NOT run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli as cli, treeHashes } from '../support/cli.js';
import { type EtcdSeries, loadFixture, type LoadedFixture } from '../support/fixtures.js';
import { bootEtcd, compareKeys, getAll, needEtcd, put } from '../support/etcd.js';
import { decodeFrameSize } from '../../src/format/wal/frame.js';

function seriesOf(fx: LoadedFixture): EtcdSeries {
  const last = fx.manifest.made_by[fx.manifest.made_by.length - 1] ?? fx.manifest.etcd_version;
  return last.split('.').slice(0, 2).join('.') as EtcdSeries;
}

/** Boot real etcd on dir: every manifest key served exactly, then new writes read back. */
async function assertEtcdServesAndWrites(v: EtcdSeries, dir: string, fx: LoadedFixture): Promise<void> {
  const e = await bootEtcd(v, dir, { timeoutMs: 30000 });
  assert.ok(e.ok, `etcd ${v} did not start on the repaired dir: ${e.error}\n${e.logTail}`);
  try {
    const served = await getAll(e.endpoint, v);
    const cmp = compareKeys(served.kvs, fx.manifest.keys);
    assert.deepEqual({ missing: cmp.missing, wrong: cmp.wrong, extra: cmp.extra }, { missing: [], wrong: [], extra: [] });
    for (let i = 0; i < 5; i++) await put(e.endpoint, `/after-repair/${i}`, `value-${i}`, v);
    const after = await getAll(e.endpoint, v);
    for (let i = 0; i < 5; i++) assert.equal(after.kvs.get(`/after-repair/${i}`)?.value.toString(), `value-${i}`, 'a write after the repair did not read back');
  } finally {
    await e.stop();
  }
}

interface Case {
  fixture: string;
  flags: string[];
  /** Exit code of a plain `repair --yes` (no flags): 0 when it needs none. */
  plainExit: number;
}

const CASES: Case[] = [
  { fixture: 'v35-torn-tail', flags: [], plainExit: 0 },
  { fixture: 'v34-torn-tail', flags: [], plainExit: 0 },
  { fixture: 'v35-torn-zero-sector', flags: [], plainExit: 0 },
  { fixture: 'v35-garbage-tail', flags: [], plainExit: 0 },
  { fixture: 'v34-garbage-tail', flags: [], plainExit: 0 },
  { fixture: 'v35-oversized-length', flags: [], plainExit: 0 },
  { fixture: 'v34-oversized-length', flags: [], plainExit: 0 },
  { fixture: 'v35-broken-snap', flags: [], plainExit: 0 },
  { fixture: 'v35-leftover-tmp', flags: [], plainExit: 0 },
  { fixture: 'v35-crash', flags: [], plainExit: 0 },
  // etcd 3.5.30: failed to find database snapshot file; the newer .snap files go into the backup.
  { fixture: 'v35-db-behind-snap', flags: [], plainExit: 0 },
  // Damage inside the log, valid records after it, the db ahead of the damage: the records after
  // it are kept (re-chained) and only the destroyed indexes, which the db already applied, become
  // empty entries (--bridge). Nothing is lost, so --allow-entry-loss is not needed.
  { fixture: 'v35-bitflip-mid', flags: ['--bridge'], plainExit: 2 },
  { fixture: 'v35-zeroed-sector-mid', flags: ['--bridge'], plainExit: 2 },
  { fixture: 'v35-db-ahead', flags: ['--bridge'], plainExit: 2 },
  { fixture: 'v35-truncated-segment', flags: ['--bridge'], plainExit: 2 },
  { fixture: 'v35-missing-middle-segment', flags: ['--bridge'], plainExit: 2 },
  // A broken CRC link at the start of a segment: every record is intact, the chain is re-encoded.
  { fixture: 'v35-crc-link', flags: [], plainExit: 0 },
  // A zeroed length word in front of intact records: written back, nothing lost (etcd alone drops
  // them, and with them the acknowledged /fixture/meta/last in the -unapplied case).
  { fixture: 'v35-zero-length-mid', flags: [], plainExit: 0 },
  { fixture: 'v35-zero-length-mid-unapplied', flags: [], plainExit: 0 },
  { fixture: 'v36-zero-length-mid', flags: [], plainExit: 0 },
  // The db missing with .snap files (etcd panics): they go, etcd replays the WAL from index 1.
  { fixture: 'v35-db-missing-with-snaps', flags: [], plainExit: 0 },
  // A db etcd cannot open (bbolt faults, asserts): set aside, etcd replays the WAL from index 1.
  { fixture: 'v35-db-truncated', flags: [], plainExit: 0 },
  { fixture: 'v35-db-truncated-small', flags: [], plainExit: 0 },
  { fixture: 'v35-db-page-zeroed', flags: [], plainExit: 0 },
  { fixture: 'v36-db-truncated', flags: [], plainExit: 0 },
  { fixture: 'v36-db-page-zeroed', flags: [], plainExit: 0 },
  // Entries etcd cannot apply, already in the db: replaced by empty entries at the same index and term.
  { fixture: 'v35-entry-type-unknown', flags: [], plainExit: 0 },
  { fixture: 'v35-entry-undecodable', flags: [], plainExit: 0 },
  { fixture: 'v36-entry-type-unknown', flags: [], plainExit: 0 },
  { fixture: 'v36-entry-undecodable', flags: [], plainExit: 0 },
  { fixture: 'v35-zero-length-segment', flags: ['--bridge'], plainExit: 2 },
];

describe('repair, then real etcd', () => {
  for (const c of CASES) {
    it(`${c.fixture}: repair ${c.flags.join(' ')} → etcd serves every key and takes new writes`, async (t) => {
      const fx = await loadFixture(c.fixture);
      try {
        const v = seriesOf(fx);
        if (!(await needEtcd(t, v))) return;
        const original = treeHashes(fx.dir);
        const backups = mkdtempSync(join(tmpdir(), 'wal-doctor-backups-'));
        try {
          if (c.plainExit !== 0) {
            const plain = cli(['repair', '--yes', '--backup-dir', join(backups, 'plain'), fx.dir]);
            assert.equal(plain.code, c.plainExit, plain.stdout + plain.stderr);
            assert.match(plain.stdout, /REFUSED/);
            assert.deepEqual(treeHashes(fx.dir), original, 'a refused repair changed the dir');
            assert.equal(existsSync(join(backups, 'plain')), false, 'a refused repair left a backup');
          }
          const r = cli(['repair', '--yes', ...c.flags, '--backup-dir', join(backups, 'b1'), fx.dir]);
          assert.equal(r.code, 0, r.stdout + r.stderr);
          assert.equal(cli(['verify', fx.dir]).code, 0, 'verify after repair');
          const again = cli(['repair', '--yes', ...c.flags, '--backup-dir', join(backups, 'b2'), fx.dir]);
          assert.equal(again.code, 0, again.stdout + again.stderr);
          assert.match(again.stdout, /nothing to repair/);
          assert.equal(existsSync(join(backups, 'b2')), false, 'a no-op repair made a backup');

          // undo puts every byte back; then repair again and let etcd prove the result.
          const repaired = treeHashes(fx.dir);
          const u = cli(['undo', join(backups, 'b1')]);
          assert.equal(u.code, 0, u.stdout + u.stderr);
          assert.deepEqual(treeHashes(fx.dir), original, 'undo did not restore the original bytes');
          assert.equal(cli(['repair', '--yes', ...c.flags, '--backup-dir', join(backups, 'b3'), fx.dir]).code, 0);
          assert.deepEqual(treeHashes(fx.dir), repaired, 'the same repair twice gave different bytes');

          await assertEtcdServesAndWrites(v, fx.dir, fx);
        } finally {
          rmSync(backups, { recursive: true, force: true });
        }
      } finally {
        fx.cleanup();
      }
    });
  }

  it('v35-member-of-3-db-ahead: --bridge refuses on a member of a 3-member cluster, naming the members', async () => {
    const fx = await loadFixture('v35-member-of-3-db-ahead');
    try {
      const before = treeHashes(fx.dir);
      const r = cli(['repair', '--yes', '--allow-entry-loss', '--bridge', fx.dir]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /only safe on a single-member cluster; this one has 3 members/);
      const ids = (fx.manifest.workload as { cluster: { members: { id: string }[] } }).cluster.members.map((m) => m.id);
      for (const id of ids) assert.ok(r.stdout.includes(id), `member ${id} named`);
      assert.deepEqual(treeHashes(fx.dir), before);
      assert.match(cli(['verify', fx.dir]).stdout, /one of 3: remove it from the cluster and add it back/);
    } finally {
      fx.cleanup();
    }
  });

  it('v35-missing-segment (first segment gone): repair refuses, whatever the flags, and points to rebuild', async () => {
    const fx = await loadFixture('v35-missing-segment');
    try {
      const before = treeHashes(fx.dir);
      const r = cli(['repair', '--yes', '--allow-entry-loss', '--bridge', fx.dir]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /rebuild/);
      assert.deepEqual(treeHashes(fx.dir), before);
    } finally {
      fx.cleanup();
    }
  });

  it('refuses (exit 75, naming the pid) while etcd runs on the dir, and changes nothing', async (t) => {
    const fx = await loadFixture('v35-torn-tail');
    try {
      if (!(await needEtcd(t, '3.5'))) return;
      // Let etcd repair and hold the dir; then ask wal-doctor to repair it under etcd's feet.
      const e = await bootEtcd('3.5', fx.dir);
      assert.ok(e.ok, e.error);
      try {
        const before = treeHashes(fx.dir);
        const r = cli(['repair', '--yes', fx.dir]);
        assert.equal(r.code, 75, r.stdout + r.stderr);
        assert.match(r.stderr, new RegExp(`locked by .*pid ${e.pid}`));
        assert.equal(r.stderr.trimEnd().split('\n').length, 1);
        assert.deepEqual(Object.keys(treeHashes(fx.dir)), Object.keys(before), 'no file added or removed');
      } finally {
        await e.stop();
      }
    } finally {
      fx.cleanup();
    }
  });

  it("cuts a torn tail at the same offset as etcd's own repair", async (t) => {
    const fx = await loadFixture('v35-torn-tail');
    try {
      if (!(await needEtcd(t, '3.5'))) return;
      const seg = 'member/wal/0000000000000000-0000000000000000.wal';
      const orig = readFileSync(join(fx.dir, seg));
      const etcdCopy = mkdtempSync(join(tmpdir(), 'wal-doctor-etcdrepair-'));
      try {
        cpSync(fx.dir, join(etcdCopy, 'd'), { recursive: true });
        const e = await bootEtcd('3.5', join(etcdCopy, 'd'));
        assert.ok(e.ok, e.error);
        await e.stop();
        const broken = readFileSync(join(etcdCopy, 'd', `${seg}.broken`));
        assert.deepEqual(broken, orig, "etcd's .broken copy is the original file");
        const byEtcd = readFileSync(join(etcdCopy, 'd', seg));
        const { plan } = JSON.parse(cli(['repair', '--dry-run', '--json', fx.dir]).stdout) as { plan: { actions: { kind: string; keepBytes?: number }[] } };
        const keep = plan.actions.find((a) => a.kind === 'truncate-segment')?.keepBytes;
        assert.ok(keep !== undefined && keep > 0);
        // etcd kept exactly our prefix, and the record it wrote next starts where we cut.
        assert.deepEqual(byEtcd.subarray(0, keep), orig.subarray(0, keep));
        const next = decodeFrameSize(byEtcd, keep);
        assert.ok(next.word !== 0n && next.wellFormed, 'etcd wrote a record at our cut');
        const frame = 8 + next.recBytes + next.padBytes;
        assert.notDeepEqual(byEtcd.subarray(keep, keep + frame), orig.subarray(keep, keep + frame), 'etcd rewrote the bytes from our cut on');
      } finally {
        rmSync(etcdCopy, { recursive: true, force: true });
      }
    } finally {
      fx.cleanup();
    }
  });
});
