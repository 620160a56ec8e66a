// Run as root on a data dir owned by etcd's user (uid 4242 here, a user that does not exist:
// etcd only needs the number), `repair` keeps the owner, group and mode of every file and
// directory, and `undo` gives back owner, group, mode and mtime (to the nanosecond) of every file
// and directory it touched — including the ones the repair removed (a leftover wal.tmp/ dir). Real
// etcd 3.5.30, run as uid 4242 with no supplementary groups, starts on the repaired dir and on the
// undone one. The modes compared are the ones etcd itself created (the fixtures are etcd's dirs).
// Needs root (chown, setuid) and etcd: with CI=true either missing fails the test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { sha256File } from '../../src/io/atomic.js';
import { runCli } from '../support/cli.js';
import { bootEtcd, compareKeys, getAll, needEtcd, put } from '../support/etcd.js';
import { loadFixture } from '../support/fixtures.js';

const UID = 4242;

interface Meta {
  kind: 'file' | 'dir';
  uid: number;
  gid: number;
  mode: string;
  mtimeNs: string;
  sha256?: string;
}

function statTree(root: string): Map<string, Meta> {
  const out = new Map<string, Meta>();
  const walk = (p: string) => {
    const st = lstatSync(p, { bigint: true });
    const rel = relative(root, p) || '.';
    const base = { uid: Number(st.uid), gid: Number(st.gid), mode: (Number(st.mode) & 0o7777).toString(8), mtimeNs: String(st.mtimeNs) };
    if (st.isDirectory()) {
      out.set(rel, { kind: 'dir', ...base });
      for (const n of readdirSync(p).sort()) walk(join(p, n));
    } else out.set(rel, { kind: 'file', ...base, sha256: sha256File(p).sha256 });
  };
  walk(root);
  return out;
}

const withoutTimes = (m: Map<string, Meta>) => new Map([...m].map(([k, v]) => [k, { kind: v.kind, uid: v.uid, gid: v.gid, mode: v.mode }]));

describe('repair and undo keep etcd\'s ownership (as root on a dir owned by uid 4242)', () => {
  for (const fixture of ['v35-torn-tail', 'v35-leftover-tmp']) {
    it(`${fixture}: owner, group, mode kept by repair; owner, group, mode, mtime and bytes back after undo; etcd as uid ${UID} starts on both`, async (t) => {
      if (process.getuid?.() !== 0) {
        if (process.env['CI'] === 'true') assert.fail('this test needs root (chown, running etcd as another user) in CI');
        t.skip('not root: this test was NOT run');
        return;
      }
      const bin = await needEtcd(t, '3.5');
      if (!bin) return;
      const fx = await loadFixture(fixture);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-owner-'));
      try {
        chmodSync(work, 0o755); // uid 4242 must reach the data dir, and the etcd binary
        const etcdPath = join(work, 'etcd');
        copyFileSync(join(bin, 'etcd'), etcdPath);
        chmodSync(etcdPath, 0o755);
        const data = join(work, 'data');
        execFileSync('cp', ['-a', fx.dir, data]);
        execFileSync('chown', ['-R', `${UID}:${UID}`, data]);
        const before = statTree(data);
        // the modes etcd 3.5.30 created (spec §1.1): dirs 0700, WAL segments and db 0600
        assert.equal(before.get('member')?.mode, '700');
        assert.equal(before.get('member/wal')?.mode, '700');
        assert.equal(before.get('member/snap/db')?.mode, '600');
        assert.equal(before.get('member/wal/0000000000000000-0000000000000000.wal')?.mode, '600');
        assert.ok([...before.values()].every((m) => m.uid === UID && m.gid === UID));

        const backup = join(work, 'backup');
        const r = runCli(['repair', '--yes', '--backup-dir', backup, data]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const repaired = statTree(data);
        assert.notDeepEqual(repaired, before, 'the repair changed something');
        for (const [p, m] of withoutTimes(repaired)) {
          assert.deepEqual(m, withoutTimes(before).get(p), `${p}: owner, group and mode as before the repair`);
        }
        t.diagnostic(`repaired: ${[...before.keys()].filter((p) => !repaired.has(p)).join(', ') || 'no path'} set aside; every remaining path keeps uid ${UID}, gid ${UID} and its mode`);

        // etcd, as uid 4242, on a copy of the repaired dir (cp -a keeps owners and modes)
        const boot = join(work, 'repaired-boot');
        execFileSync('cp', ['-a', data, boot]);
        const e1 = await bootEtcd('3.5', boot, { uid: UID, gid: UID, etcdPath, timeoutMs: 30_000 });
        assert.ok(e1.ok, `etcd as uid ${UID} did not start on the repaired dir: ${e1.error}\n${e1.logTail}`);
        try {
          const cmp = compareKeys((await getAll(e1.endpoint)).kvs, fx.manifest.keys);
          assert.deepEqual({ missing: cmp.missing, wrong: cmp.wrong }, { missing: [], wrong: [] });
          await put(e1.endpoint, '/written-as-etcd-user', 'ok');
          assert.equal((await getAll(e1.endpoint)).kvs.get('/written-as-etcd-user')?.value.toString(), 'ok');
        } finally {
          await e1.stop();
        }

        const u = runCli(['undo', backup]);
        assert.equal(u.code, 0, u.stdout + u.stderr);
        const undone = statTree(data);
        assert.deepEqual([...undone.keys()], [...before.keys()], 'the same files and directories');
        for (const [p, m] of before) assert.deepEqual(undone.get(p), m, `${p}: bytes, owner, group, mode and mtime (ns) as before the repair`);

        const e2 = await bootEtcd('3.5', data, { uid: UID, gid: UID, etcdPath, timeoutMs: 30_000 });
        assert.ok(e2.ok, `etcd as uid ${UID} did not start on the undone dir: ${e2.error}\n${e2.logTail}`);
        try {
          await put(e2.endpoint, '/after-undo', 'ok');
          assert.equal((await getAll(e2.endpoint)).kvs.get('/after-undo')?.value.toString(), 'ok');
        } finally {
          await e2.stop();
        }
        const afterEtcd = statTree(data);
        assert.ok([...afterEtcd.values()].every((m) => m.uid === UID && m.gid === UID), 'etcd, as its user, could write everything it needed');
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  }
});
