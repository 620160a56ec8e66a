// restore.ts on real etcd dbs (fixtures written by etcd 3.5.30 / 3.4.23), without running etcd:
// the plan, what lands on disk (modes, sizes, the db's buckets read back), etcd's refusals with
// etcd's texts (checked against etcdutl 3.5.30 and etcdctl 3.4.23), and that a failed restore
// leaves neither --out nor its build directory behind. The real-etcd proof is test/e2e/rebuild.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFixture } from '../support/fixtures.js';
import { IoError, NotEtcdError, RefusedError, UsageError } from '../../src/errors.js';
import { openBolt, nameText } from '../../src/format/bbolt/db.js';
import { check } from '../../src/format/bbolt/check.js';
import { bytesSource, encodeMeta } from '../../src/format/bbolt/page.js';
import { readEtcdMeta, readMembers } from '../../src/format/bbolt/etcd-meta.js';
import { openBoltFile } from '../../src/io/bolt-file.js';
import { planRestore, restoreFromFile, writeRestoredDataDir } from '../../src/rebuild/restore.js';
import type { RestoreOptions } from '../../src/rebuild/restore.js';

const r1: RestoreOptions = {
  name: 'r1',
  initialCluster: 'r1=http://127.0.0.1:23795',
  initialClusterToken: 'tok',
  initialAdvertisePeerUrls: 'http://127.0.0.1:23795',
  target: '3.5',
};
const WAL = join('member', 'wal', '0000000000000000-0000000000000000.wal');
const SNAP = join('member', 'snap', '0000000000000001-0000000000000001.snap');
const DB = join('member', 'snap', 'db');

function buckets(path: string): Map<string, string[]> {
  const o = openBoltFile(path);
  try {
    const m = new Map<string, string[]>();
    for (const ref of o.db.bucketRefs()) m.set(nameText(ref.name), [...o.db.bucketItems(ref)].map((i) => `${Buffer.from(i.key).toString('hex')}=${Buffer.from(i.value).toString('hex')}`));
    return m;
  } finally {
    o.close();
  }
}

/** A `snapshot save`-style file: the db image plus the SHA-256 of it. */
function withTrailer(db: Buffer, tamper = false): Buffer {
  const sha = createHash('sha256').update(db).digest();
  if (tamper) sha[31] = (sha[31] as number) ^ 1;
  return Buffer.concat([db, sha]);
}

const goBytes = (b: Buffer) => `[${[...b].join(' ')}]`;

describe('planRestore', () => {
  it('computes the IDs and the files from the flags alone', () => {
    const p = planRestore(r1);
    assert.equal(p.local.id, 0xc5ee125744653d83n);
    assert.equal(p.clusterId, 0x8d244b9e714454e8n);
    assert.equal(p.index, 1n);
    assert.deepEqual([p.wal.path, p.wal.size, p.wal.mode, p.wal.records.length], [WAL, 64_000_000, 0o600, 0x118]);
    assert.deepEqual([p.snap.path, p.snap.size, p.snap.mode], [SNAP, 6492, 0o644]);
    assert.deepEqual(p.db.members, [['c5ee125744653d83', '{"id":14262357235947879811,"peerURLs":["http://127.0.0.1:23795"],"name":"r1"}']]);
    assert.equal(p.db.term, 1n);
    assert.equal(p.db.confState, undefined);
    const p34 = planRestore({ ...r1, target: '3.4', updateConfState: true });
    assert.equal(p34.db.term, undefined);
    assert.equal(p34.db.confState, '{"voters":[14262357235947879811],"auto_leave":false}');
    assert.equal(p34.wal.records.length, 0xf0 + 24);
  });

  it('refuses bad flags before anything else, with etcd\'s text', () => {
    assert.throws(() => planRestore({ ...r1, name: 'nope' }), (e: unknown) => e instanceof UsageError && e.message === `couldn't find local name "nope" in the initial cluster configuration`);
  });
});

describe('restoreFromFile / writeRestoredDataDir on real etcd dbs', () => {
  it('3.5: writes db, .snap and WAL with etcd\'s modes; the db keeps every other bucket as it was', async () => {
    const fx = await loadFixture('v35-workload');
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-restore-'));
    try {
      const src = join(fx.dir, DB);
      const file = join(work, 'snapshot.db');
      writeFileSync(file, withTrailer(readFileSync(src)));
      const out = join(work, 'out');
      const res = restoreFromFile(file, r1, out);
      assert.equal(res.trailer?.ok, true);
      assert.equal(res.memberId, 0xc5ee125744653d83n);
      assert.deepEqual(readdirSync(work).sort(), ['out', 'snapshot.db']); // no build dir left beside it
      assert.equal(statSync(out).mode & 0o777, 0o700);
      assert.equal(statSync(join(out, WAL)).mode & 0o777, 0o600);
      assert.equal(statSync(join(out, WAL)).size, 64_000_000);
      assert.equal(statSync(join(out, SNAP)).mode & 0o777, 0o644);
      assert.equal(statSync(join(out, DB)).mode & 0o777, 0o600);
      const wal = readFileSync(join(out, WAL));
      assert.deepEqual(wal.subarray(0, 0x118), Buffer.from(planRestore(r1).wal.records));
      assert.ok(wal.subarray(0x118).every((b) => b === 0));

      const before = buckets(src);
      const after = buckets(join(out, DB));
      assert.deepEqual([...after.keys()], [...before.keys()]);
      for (const [name, items] of before) if (name !== 'members' && name !== 'meta') assert.deepEqual(after.get(name), items, name);
      const db = openBolt(bytesSource(new Uint8Array(readFileSync(join(out, DB)))));
      assert.deepEqual(db.findings, []);
      const meta = readEtcdMeta(db);
      const srcMeta = readEtcdMeta(openBolt(bytesSource(new Uint8Array(readFileSync(src)))));
      assert.equal(meta.consistentIndex, 1n);
      assert.equal(meta.term, 1n);
      assert.deepEqual(meta.confState, srcMeta.confState); // etcdutl leaves confState as it was
      assert.equal(meta.finishedCompactRev, srcMeta.finishedCompactRev);
      const members = readMembers(db);
      assert.deepEqual(members.members.map((m) => [m.key, m.name, m.peerURLs]), [['c5ee125744653d83', 'r1', ['http://127.0.0.1:23795']]]);
      assert.deepEqual(members.removed, []);

      // --out now exists and is not empty: refused with etcdutl's text, nothing touched
      const walBefore = statSync(join(out, WAL)).mtimeMs;
      assert.throws(() => restoreFromFile(file, r1, out), (e: unknown) => e instanceof UsageError && e.message === `data-dir "${out}" not empty or could not be read`);
      assert.equal(statSync(join(out, WAL)).mtimeMs, walBefore);
      // a file in the way is refused the same way
      writeFileSync(join(work, 'afile'), 'x');
      assert.throws(() => restoreFromFile(file, r1, join(work, 'afile')), UsageError);
    } finally {
      rmSync(work, { recursive: true, force: true });
      fx.cleanup();
    }
  });

  it('a sound db is copied and edited as etcdutl does (its pages as they were); a damaged one is rewritten from its tree, without what it cannot keep', async () => {
    const fx = await loadFixture('v35-workload');
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-restore-'));
    try {
      const src = join(fx.dir, DB);
      const image = new Uint8Array(readFileSync(src));
      const srcDb = openBolt(bytesSource(image));
      const P = srcDb.pageSize;
      const sound = join(work, 'sound');
      const res = restoreFromFile(src, { ...r1, skipHashCheck: true }, sound);
      assert.equal(res.db.skippedCount, 0);
      const copied = new Uint8Array(readFileSync(join(sound, DB)));
      assert.equal(res.files.find((f) => f.path === DB)?.size, copied.length);
      assert.ok(copied.length >= image.length);
      const hw = srcDb.highWater * P;
      assert.ok(Buffer.from(copied.subarray(2 * P, hw)).equals(image.subarray(2 * P, hw)), 'every page of the source is where it was');
      const db = openBolt(bytesSource(copied));
      assert.deepEqual(check(db).findings, []);
      assert.equal(db.meta?.txid, (srcDb.meta?.txid ?? 0n) + 1n);
      assert.equal(readEtcdMeta(db).consistentIndex, 1n);

      // a key out of order in `key`: the copy would carry it to etcd; the rewrite drops it and says so
      const victim = [...srcDb.items('key')][5];
      assert.ok(victim);
      image.fill(0, victim.offset, victim.offset + 8);
      const bad = join(work, 'bad.db');
      writeFileSync(bad, image);
      const rewritten = join(work, 'rewritten');
      const res2 = restoreFromFile(bad, { ...r1, skipHashCheck: true }, rewritten);
      assert.equal(res2.db.skippedCount, 1);
      assert.deepEqual(res2.db.skipped.map((x) => [x.bucket, x.reason]), [['key', 'out-of-order']]);
      const db2 = openBolt(bytesSource(new Uint8Array(readFileSync(join(rewritten, DB)))));
      assert.deepEqual(check(db2).findings, []);
      assert.equal(db2.meta?.freelist, 2n, 'a fresh file from the writer');
    } finally {
      rmSync(work, { recursive: true, force: true });
      fx.cleanup();
    }
  });

  it('a db whose tree has a page it cannot read is refused (what the page holds would vanish); --salvage rebuilds from the rest', async () => {
    // v35-db-page-zeroed: real etcd 3.5's db with a leaf of the `key` bucket zeroed (fixtures/damage.mjs).
    // The same when the root page goes: the rewrite then held no bucket at all and said "rebuilt".
    const fx = await loadFixture('v35-db-page-zeroed');
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-restore-'));
    try {
      const src = join(fx.dir, DB);
      const lost = (fx.manifest.damage as { items_lost?: number }).items_lost ?? 0;
      assert.ok(lost > 0);
      const out = join(work, 'out');
      assert.throws(() => restoreFromFile(src, { ...r1, skipHashCheck: true }, out), (e: unknown) => e instanceof RefusedError && /its tree cannot be read whole \(bbolt-page-bad-type at byte \d+, page \d+\).*--salvage/.test(e.message));
      assert.ok(!existsSync(out), 'nothing written');
      const before = [...openBoltFile(src).db.items('key')].length;
      const res = restoreFromFile(src, { ...r1, skipHashCheck: true, salvage: true }, out);
      const db = openBolt(bytesSource(new Uint8Array(readFileSync(join(out, DB)))));
      assert.deepEqual(check(db).findings, []);
      assert.equal([...db.items('key')].length, before, 'every revision the tree still reaches, and only those');
      assert.ok(res.files.length === 3);
    } finally {
      rmSync(work, { recursive: true, force: true });
      fx.cleanup();
    }
  });

  it('a db whose meta pages change between the check and the copy (a commit meanwhile) is refused, and nothing is left', async () => {
    const fx = await loadFixture('v35-workload');
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-restore-'));
    try {
      const file = join(work, 'db');
      writeFileSync(file, readFileSync(join(fx.dir, DB)));
      const src = openBoltFile(file);
      try {
        // another commit's meta: txid + 2 in the slot it had, checksum and all (as bbolt writes one)
        const m = src.db.meta;
        assert.ok(m);
        const fd = openSync(file, 'r+');
        writeSync(fd, encodeMeta({ ...m, txid: m.txid + 2n }), 0, src.db.pageSize, m.slot * src.db.pageSize);
        closeSync(fd);
        const out = join(work, 'out');
        assert.throws(() => writeRestoredDataDir(src.db, planRestore(r1), out, { sourcePath: file }), (e: unknown) => e instanceof IoError && /changed while it was read/.test(e.message));
        assert.deepEqual(readdirSync(work), ['db']);
      } finally {
        src.close();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
      fx.cleanup();
    }
  });

  it('3.4 target: consistent_index = N, no term added; updateConfState writes the new voters', async () => {
    const fx = await loadFixture('v34-workload');
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-restore-'));
    try {
      const out = join(work, 'out');
      const res = restoreFromFile(join(fx.dir, DB), { ...r1, target: '3.4', skipHashCheck: true, updateConfState: true }, out);
      assert.equal(res.trailer, undefined);
      const meta = readEtcdMeta(openBolt(bytesSource(new Uint8Array(readFileSync(join(out, DB))))));
      assert.equal(meta.consistentIndex, 1n);
      assert.equal(meta.term, undefined);
      assert.deepEqual(meta.confState?.voters, [0xc5ee125744653d83n]);
    } finally {
      rmSync(work, { recursive: true, force: true });
      fx.cleanup();
    }
  });

  it('refuses a file without trailer, or with a wrong one, as etcd does, and creates nothing', async () => {
    const fx = await loadFixture('v35-workload');
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-restore-'));
    try {
      const src = join(fx.dir, DB);
      const out = join(work, 'out');
      assert.throws(() => restoreFromFile(src, r1, out), (e: unknown) => e instanceof UsageError && e.message === 'snapshot missing hash but --skip-hash-check=false');
      const image = readFileSync(src);
      const bad = join(work, 'bad.db');
      writeFileSync(bad, withTrailer(image, true));
      const stored = readFileSync(bad).subarray(image.length);
      const computed = createHash('sha256').update(image).digest();
      // etcdutl 3.5.30 / etcdctl 3.4.23: "expected sha256 <stored trailer>, got <computed>"
      assert.throws(() => restoreFromFile(bad, r1, out), (e: unknown) => e instanceof UsageError && e.message === `expected sha256 ${goBytes(stored)}, got ${goBytes(computed)}`);
      assert.deepEqual(readdirSync(work), ['bad.db']);
    } finally {
      rmSync(work, { recursive: true, force: true });
      fx.cleanup();
    }
  });

  it('a failure while writing removes the build dir and leaves an empty --out as it was', async () => {
    const fx = await loadFixture('v35-workload');
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-restore-'));
    try {
      const out = join(work, 'out');
      mkdirSync(out);
      const plan = planRestore(r1);
      // an empty key makes the bbolt writer throw halfway through the db
      const broken = { ...plan, db: { ...plan.db, members: [['', 'x']] as [string, string][] } };
      const src = openBoltFile(join(fx.dir, DB));
      try {
        assert.throws(() => writeRestoredDataDir(src.db, broken, out), RangeError);
      } finally {
        src.close();
      }
      assert.deepEqual(readdirSync(work), ['out']);
      assert.deepEqual(readdirSync(out), []);
      // no usable meta: not a bbolt db
      const junk = openBolt(bytesSource(new Uint8Array(8192)));
      assert.throws(() => writeRestoredDataDir(junk, plan, out), NotEtcdError);
      assert.equal(existsSync(join(out, 'member')), false);
    } finally {
      rmSync(work, { recursive: true, force: true });
      fx.cleanup();
    }
  });
});
