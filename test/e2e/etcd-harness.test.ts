// The fixtures are only worth something if they still say what real etcd does. For every fixture in
// fixtures/ this boots the etcd version(s) recorded in its manifest on a COPY of its data dir and checks:
// healthy fixtures boot and serve exactly the manifest's keys; every recorded boot (healthy or damaged)
// still has the same outcome, the same error string, the same repair (.broken files) and serves the
// same keys and the same new write (probe_write); a 3.4 record's `capnslog` line is what 3.4 prints with
// its default text logger; a damage record's `repair_check` (what etcd does with .snap files set aside)
// still holds. Also: the tarball holds exactly the files the manifest lists (sizes and sha256), and the
// damage record's after_sha256 matches the damaged file.
// Needs etcd 3.4.23 / 3.5.30 (Debian) and 3.6.16 / 3.7.3 (built from Go modules), all via
// scripts/etcd-bin.sh: with CI=true a missing binary fails the test, otherwise the test is skipped and
// says that it was NOT run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootCheck, compareKeys, etcdBin, etcdctl, fileList, getAll, startMembers } from '../support/etcd.js';
import { FIXTURES_DIR, listFixtures, loadFixture, readManifest } from '../support/fixtures.js';
import type { ManifestKey } from '../support/fixtures.js';
import type { EtcdSeries } from '../support/fixtures.js';

const fixtures = listFixtures();

const sha256File = (p: string) => new Promise<string>((res, rej) => {
  const h = createHash('sha256');
  createReadStream(p).on('data', (c) => h.update(c)).on('end', () => res(h.digest('hex'))).on('error', rej);
});


test('the fixture set is complete', () => {
  const healthy = ['v35-fresh', 'v35-workload', 'v34-workload', 'v35-snapshots', 'v35-segments', 'v34-then-v35', 'v35-crash', 'v35-etcd-repaired',
    'v36-fresh', 'v36-workload', 'v36-crash', 'v37-workload', 'v37-crash', 'v35-then-v36', 'v35-then-v36-then-v37'];
  // written by real 3.6 / 3.7 and damaged by damage.mjs (the same kinds and seeds as their 3.4/3.5 twins)
  const damaged: Record<string, string> = { 'v36-torn-tail': 'torn-tail', 'v36-garbage-tail': 'garbage-tail', 'v37-torn-tail': 'torn-tail', 'v37-garbage-tail': 'garbage-tail' };
  // what a power cut, an operator or a bug leaves: the db, re-encoded WAL records, a .snap (v35-* on 3.5 bases, v36-* on v36-workload)
  for (const k of ['db-truncated', 'db-truncated-small', 'db-page-zeroed', 'db-missing', 'db-value-bitflip', 'entry-type-unknown', 'entry-undecodable',
    'member-not-voter', 'zero-length-mid']) { damaged[`v35-${k}`] = k; damaged[`v36-${k}`] = k; }
  Object.assign(damaged, { 'v35-db-missing-with-snaps': 'db-missing-with-snaps', 'v35-snap-no-voters': 'snap-no-voters',
    'v35-entry-type-unknown-unapplied': 'entry-type-unknown', 'v35-zero-length-mid-unapplied': 'zero-length-mid' });
  const kinds = ['torn-tail', 'torn-zero-sector', 'garbage-tail', 'bitflip-mid', 'zeroed-sector-mid', 'oversized-length', 'truncated-segment',
    'missing-segment', 'crc-link', 'broken-snap', 'leftover-tmp', 'zero-length-segment', 'db-ahead', ...new Set(Object.values(damaged))];
  for (const h of healthy) assert.ok(fixtures.includes(h), `fixture ${h} missing (run fixtures/generate.sh ${h})`);
  for (const [n, kind] of Object.entries(damaged)) {
    assert.ok(fixtures.includes(n), `fixture ${n} missing (run fixtures/generate.sh ${n})`);
    assert.equal(readManifest(n).damage?.kind, kind, `${n}: damage kind`);
  }
  // every release line we have binaries of wrote fixtures, and 3.6 booted every single-member fixture made by 3.4/3.5
  const writers = new Set(fixtures.flatMap((n) => readManifest(n).made_by.map((v) => v.slice(0, 3))));
  for (const s of ['3.4', '3.5', '3.6', '3.7']) assert.ok(writers.has(s), `no fixture written by etcd ${s}`);
  for (const n of fixtures) {
    const m = readManifest(n);
    const alone = ((m.workload as { cluster?: { size?: number } } | null)?.cluster?.size ?? 1) === 1;
    const older = m.made_by.every((v) => v.startsWith('3.4.') || v.startsWith('3.5.'));
    if (alone && older) assert.ok(m.etcd_boot['3.6'], `${n}: no etcd_boot."3.6" (fixtures/generate.sh --add-boot 3.6 ${n})`);
    if (m.made_by.at(-1)?.startsWith('3.6.')) assert.ok(m.etcd_boot['3.7'], `${n}: written by 3.6 but no etcd_boot."3.7"`);
    // what an operator of 3.4 reads (its default logger), beside the zap record
    if (m.etcd_boot['3.4']) assert.ok('capnslog' in m.etcd_boot['3.4'], `${n}: etcd_boot."3.4" has no capnslog (node fixtures/generate.mjs --add-capnslog ${n})`);
  }
  const seen = new Set(fixtures.map((n) => readManifest(n).damage?.kind).filter(Boolean));
  for (const k of kinds) assert.ok(seen.has(k), `no fixture with damage kind ${k}`);
});

for (const name of fixtures) {
  test(`fixture ${name}: tarball matches its manifest and real etcd still behaves as recorded`, async (t) => {
    const m = readManifest(name);
    assert.equal(m.name, name);
    assert.match(m.member_id, /^[0-9a-f]{16}$/);
    assert.match(m.cluster_id, /^[0-9a-f]{16}$/);
    assert.equal(m.category, m.damage ? 'damaged' : 'healthy');
    const versions = Object.keys(m.etcd_boot) as EtcdSeries[];
    assert.ok(versions.length > 0, 'no etcd_boot record');

    const fx = await loadFixture(name);
    try {
      // 1. the unpacked data dir is exactly the manifest's file list
      assert.deepEqual(fileList(fx.dir), m.files.map((f) => f.path), 'files in the tarball differ from manifest.files');
      for (const f of m.files) {
        const p = join(fx.dir, f.path);
        assert.equal(statSync(p).size, f.size, `size of ${f.path}`);
        assert.equal(await sha256File(p), f.sha256, `sha256 of ${f.path}`);
      }
      if (m.damage?.after_sha256) {
        assert.equal(m.files.find((f) => f.path === m.damage?.file)?.sha256, m.damage.after_sha256, 'damage.after_sha256 is not the damaged file');
      }

      // 2. real etcd, each recorded version, on a copy
      for (const v of versions) {
        const rec = m.etcd_boot[v];
        assert.ok(rec);
        if (!(await etcdBin(v))) { t.skip(`etcd ${v} binary not available: this test was NOT run`); return; }
        const got = await bootCheck(v, fx.dir, m, { probe: rec.probe_write !== undefined });
        const ctx = `${name} under etcd ${v}; log tail:\n${got.logTail}`;
        assert.equal(got.boot, rec.boot, `boot outcome (${got.error ?? 'ok'}) — ${ctx}`);
        assert.equal(got.error, rec.error, `error string — ${ctx}`);
        assert.equal(got.logMessage, rec.log_message, `fatal log message — ${ctx}`);
        assert.deepEqual(got.newFiles.filter((f) => f.endsWith('.broken')), rec.new_files.filter((f) => f.endsWith('.broken')), `.broken files — ${ctx}`);
        assert.equal(got.repairLogged, rec.repair_logged, `"repaired WAL" logged — ${ctx}`);
        assert.equal(got.repairError, rec.repair_error, `repair error — ${ctx}`);
        if (rec.boot === 'ok') {
          assert.equal(got.served, rec.keys_served, `number of keys served — ${ctx}`);
          assert.deepEqual(got.missing, rec.missing_keys, `missing keys — ${ctx}`);
          assert.deepEqual(got.wrong, rec.wrong_keys, `wrong keys — ${ctx}`);
          assert.deepEqual(got.extra, rec.extra_keys, `extra keys — ${ctx}`);
          if (rec.probe_write !== undefined) assert.equal(got.probeWrite, rec.probe_write, `a new write — ${ctx}`);
        }
        if (v === '3.4' && rec.capnslog !== undefined) {
          const c = await bootCheck('3.4', fx.dir, m, { capnslog: true });
          assert.equal(c.capnslog, rec.capnslog, `3.4's capnslog line — ${name}; log tail:\n${c.logTail}`);
        }
        // healthy fixtures: the version that made it last boots them and serves exactly the manifest's keys —
        // except one member of a multi-member cluster, which alone never has a quorum to become healthy
        const clusterSize = (m.workload as { cluster?: { size?: number } } | null)?.cluster?.size ?? 1;
        if (m.category === 'healthy' && clusterSize > 1) {
          assert.match(got.error ?? '', /^not healthy within/, `a lone member of ${clusterSize} must wait for its peers — ${ctx}`);
        } else if (m.category === 'healthy' && rec.etcd_version === m.etcd_version) {
          assert.equal(got.boot, 'ok', ctx);
          assert.equal(got.served, m.keys.filter((k) => k.present).length, `every present key is served — ${ctx}`);
          assert.deepEqual([got.missing, got.wrong, got.extra], [[], [], []], ctx);
        }
      }
      // 3. what etcd does on a copy with .snap files set aside (a repair's check), as recorded
      const rc = m.damage?.['repair_check'] as { set_aside?: string[]; boot: 'ok' | 'failed'; error: string | null; keys_served?: number;
        missing_keys?: string[]; wrong_keys?: string[]; probe_write?: string } | undefined;
      if (rc) {
        const aside = rc.set_aside ?? (m.damage?.['newer_snap_files'] as string[]);
        const work = mkdtempSync(join(tmpdir(), 'wal-doctor-repair-check-'));
        try {
          const copy = join(work, 'data');
          execFileSync('cp', ['-a', fx.dir, copy]);
          for (const f of aside) renameSync(join(copy, f), join(work, f.split('/').pop()!));
          const got = await bootCheck('3.5', copy, m, { probe: rc.probe_write !== undefined });
          const ctx = `${name}: repair check (${aside.length} .snap files set aside) under etcd 3.5; log tail:\n${got.logTail}`;
          assert.equal(got.boot, rc.boot, ctx);
          assert.equal(got.error, rc.error, ctx);
          if (rc.boot === 'ok') {
            assert.deepEqual([got.served, got.missing, got.wrong], [rc.keys_served, rc.missing_keys, rc.wrong_keys], ctx);
            if (rc.probe_write !== undefined) assert.equal(got.probeWrite, rc.probe_write, ctx);
          }
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      }
    } finally {
      fx.cleanup();
    }
  });
}

// A cluster fixture whose point is what etcd does at run time: member a's OLD data dir restored into the
// running cluster. Its tarball (a's old copy, b, c) is started on the members' recorded ports (a is caught
// up and serves every key); then a is stopped, its old copy put back and started while b and c run: its raft
// panics `tocommit(N) is out of range [lastIndex(M)]`, M = the old copy's last index, N = how far the leader
// remembers a's log reached (at least where a was before it was stopped).
test('cluster fixture v35-cluster-of-3-stale-member: a restored old member dir makes real etcd panic as recorded', async (t) => {
  const name = 'v35-cluster-of-3-stale-member';
  const m = JSON.parse(readFileSync(join(FIXTURES_DIR, `${name}.cluster-manifest.json`), 'utf8')) as {
    members: { name: string; id: string; peer_urls: string[] }[]; files: { path: string; size: number; sha256: string }[]; keys: ManifestKey[];
    stale_member: { copy_taken: { last_index: number }; a_before_restore: { last_index: number };
      from_these_files: { all_three_started: { ok: boolean; a_keys_served: number; a_missing_keys: string[]; a_wrong_keys: string[]; a_extra_keys: string[] };
        old_copy_put_back: { a_started: boolean; log_message: string; error: string } } };
  };
  if (!(await etcdBin('3.5'))) { t.skip('etcd 3.5 binary not available: this test was NOT run'); return; }
  const work = mkdtempSync(join(tmpdir(), 'wal-doctor-stale-member-'));
  const stop: (() => Promise<void>)[] = [];
  try {
    const root = join(work, 'fixture');
    mkdirSync(root);
    execFileSync('tar', ['-C', root, '-xzf', join(FIXTURES_DIR, `${name}.tar.gz`)]);
    assert.deepEqual(fileList(root), m.files.map((f) => f.path), 'files in the tarball differ from manifest.files');
    for (const f of m.files) assert.equal(await sha256File(join(root, f.path)), f.sha256, `sha256 of ${f.path}`);
    const run = join(work, 'run');
    execFileSync('cp', ['-a', root, run]);
    const members = m.members.map((x) => ({ name: x.name, dataDir: join(run, x.name), port: Number(new URL(x.peer_urls[0]!).port) - 1 }));
    const all = await startMembers('3.5', members, { logDir: work });
    stop.push(...all.members.map((x) => () => x.stop(true)));
    assert.ok(all.ok, `the tarball's three members did not start: ${all.error}`);
    const [a, b] = all.members as [typeof all.members[0], typeof all.members[0]];
    const cmp = compareKeys((await getAll(a.endpoint)).kvs, m.keys);
    const rec = m.stale_member.from_these_files;
    assert.deepEqual([cmp.served, cmp.missing, cmp.wrong, cmp.extra], [rec.all_three_started.a_keys_served, rec.all_three_started.a_missing_keys,
      rec.all_three_started.a_wrong_keys, rec.all_three_started.a_extra_keys], 'what a serves once the leader caught it up');
    const status = JSON.parse((await etcdctl(b.endpoint, ['endpoint', 'status', '-w', 'json'])).replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"')) as { Status: { leader: string } }[];
    const idA = m.members.find((x) => x.name === 'a')!.id;
    if (BigInt(status[0]!.Status.leader) === BigInt(`0x${idA}`)) {   // a must be a follower: its leader remembers how far it got
      await etcdctl(a.endpoint, ['move-leader', m.members.find((x) => x.name === 'b')!.id]);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await a.stop();
    rmSync(members[0]!.dataDir, { recursive: true, force: true });
    execFileSync('cp', ['-a', join(root, 'a'), members[0]!.dataDir]);
    const again = await startMembers('3.5', [members[0]!], { timeoutMs: 20000, logDir: join(work, 'again') });
    stop.push(...again.members.map((x) => () => x.stop(true)));
    const lastIndex = m.stale_member.copy_taken.last_index;
    const ctx = `a's log tail:\n${again.members[0]!.log().split('\n').slice(-15).join('\n')}`;
    assert.equal(again.ok, rec.old_copy_put_back.a_started, ctx);
    const got = /^tocommit\((\d+)\) is out of range \[lastIndex\((\d+)\)\]\. Was the raft log corrupted, truncated, or lost\?$/.exec(again.error ?? '');
    assert.ok(got, `a's panic: ${again.error} (recorded: ${rec.old_copy_put_back.error}) — ${ctx}`);
    assert.equal(Number(got[2]), lastIndex, `lastIndex is the old copy's last index — ${ctx}`);
    assert.ok(Number(got[1]) >= m.stale_member.a_before_restore.last_index, `tocommit ${got[1]}: at least where a was before it was stopped — ${ctx}`);
  } finally {
    for (const s of stop) await s();
    rmSync(work, { recursive: true, force: true });
  }
});
