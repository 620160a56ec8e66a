// The bbolt reader on committed fixtures (fixtures/<name>.tar.gz: data dirs written by real etcd
// 3.4.23 / 3.5.30 through fixtures/generate.mjs), checked against each fixture's manifest (what
// etcd served before it was stopped) and against `etcdutl snapshot status` run on the same files.
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesSource, check, decodeRevision, guessWriter, openBolt, readEtcdMeta, readMembers, snapshotStatus, summarizeKeys } from '../../../src/format/bbolt/index.js';
import type { BoltDb } from '../../../src/format/bbolt/index.js';
import { openBoltFile } from '../../../src/io/bolt-file.js';
import { decodeMessage } from '../../../src/format/proto/messages.js';
import { codes, le64, rd64, text } from './helpers.js';
import { loadFixture } from '../../support/fixtures.js';
import type { FixtureManifest, LoadedFixture } from '../../support/fixtures.js';

type Manifest = FixtureManifest;

/**
 * `etcdutl snapshot status -w json` (etcd 3.5.30) on each fixture's member/snap/db, pinned with the
 * db's sha256 so a regenerated fixture is noticed rather than silently compared with stale numbers.
 * (etcdctl 3.4.23 `snapshot status` printed the same for v34-workload.)
 */
const ETCDUTL_STATUS: Record<string, { dbSha256: string; hash: number; revision: bigint; totalKey: number; totalSize: number }> = {
  'v35-workload': { dbSha256: '697afc4d16b22e181ea2ecb1c5b57a398b67b02c7ccf4c1008b920b93decde2a', hash: 2100310089, revision: 207n, totalKey: 331, totalSize: 151552 },
  'v34-workload': { dbSha256: '2f9900acff2bd09ef50aa31daea204e08a20dd59dbaef7de9a09e59898e6e4a4', hash: 379905905, revision: 207n, totalKey: 319, totalSize: 151552 },
  'v35-segments': { dbSha256: '44c27fed30a9ebeb8e53939c224b48582bd4b8f3e96b18ee11441e9b14598bf5', hash: 1720106580, revision: 134n, totalKey: 185, totalSize: 77103104 },
  'v34-then-v35': { dbSha256: 'f1a45e9e9bf4abcced9541148b3d52e6302cfa20e2c7e8b75c80fced0d735652', hash: 2305225331, revision: 145n, totalKey: 189, totalSize: 86016 },
  'v35-fresh': { dbSha256: '5af7df2a5bb64a56cb81af709e4ef67ebc23fec98bded0214ddcf0fc795dd1ca', hash: 4158912000, revision: 0n, totalKey: 6, totalSize: 20480 },
};

type Loaded = LoadedFixture;

/** Unpack a fixture (test/support/fixtures.ts) and remove it again when the test ends. */
async function fixture(t: TestContext, name: string): Promise<Loaded> {
  const f = await loadFixture(name);
  t.after(() => f.cleanup());
  return f;
}

function dbPath(f: Loaded): string {
  return join(f.dir, 'member', 'snap', 'db');
}

/** Latest revision of every user key in `key` (fine for fixtures; a real tool would stream). */
function latestByKey(db: BoltDb): Map<string, { tombstone: boolean; kv: Record<string, unknown> }> {
  const out = new Map<string, { tombstone: boolean; kv: Record<string, unknown> }>();
  for (const item of db.items('key')) {
    const r = decodeRevision(item.key);
    assert.ok(r, `bad revision key at ${item.offset}`);
    const kv = decodeMessage('mvccpb.KeyValue', item.value);
    out.set(text(kv['key'] as Uint8Array), { tombstone: r.tombstone, kv });
  }
  return out;
}

function assertKeysMatchManifest(db: BoltDb, m: Manifest): void {
  const latest = latestByKey(db);
  let present = 0;
  for (const k of m.keys) {
    const got = latest.get(k.key);
    if (!k.present) {
      // Deleted: its last revision is a tombstone, or compaction removed the history entirely.
      assert.ok(got === undefined || got.tombstone, `${k.key} was deleted at ${k.deleted_revision} but the db has a live value`);
      continue;
    }
    present++;
    assert.ok(got && !got.tombstone, `${k.key}: missing from the key bucket`);
    const value = (got.kv['value'] as Uint8Array | undefined) ?? new Uint8Array();
    if (k.value !== undefined) assert.equal(text(value), k.value, k.key);
    else {
      assert.equal(value.length, k.value_bytes, k.key);
      assert.equal(createHash('sha256').update(value).digest('hex'), k.value_sha256, k.key);
    }
    assert.equal(got.kv['createRevision'], BigInt(k.create_revision ?? 0), `${k.key} create_revision`);
    assert.equal(got.kv['modRevision'], BigInt(k.mod_revision ?? 0), `${k.key} mod_revision`);
    assert.equal(got.kv['version'], BigInt(k.version ?? 0), `${k.key} version`);
    const lease = got.kv['lease'] as bigint | undefined;
    assert.equal(lease === undefined ? null : lease.toString(16).padStart(16, '0'), k.lease ?? null, `${k.key} lease`);
  }
  assert.ok(present > 0);
}

function assertStatusMatchesEtcdutl(name: string, db: BoltDb, m: Manifest): void {
  const want = ETCDUTL_STATUS[name];
  assert.ok(want);
  const file = m.files.find((f) => f.path === 'member/snap/db');
  assert.equal(file?.sha256, want.dbSha256, `fixture ${name} was regenerated: re-run etcdutl snapshot status -w json on its db and update ETCDUTL_STATUS`);
  const st = snapshotStatus(db);
  assert.deepEqual(
    { hash: st.hash, revision: st.revision, totalKey: st.totalKey, totalSize: st.totalSize, integrityOk: st.integrityOk, findings: st.findings },
    { hash: want.hash, revision: want.revision, totalKey: want.totalKey, totalSize: want.totalSize, integrityOk: true, findings: [] },
  );
}

describe('fixture v35-workload (etcd 3.5.30)', () => {
  it('meta: consistent index, term, confState voters = this member, compaction marks, 3.5 evidence', async (t) => {
    const f = await fixture(t, 'v35-workload');
    const { db, close } = openBoltFile(dbPath(f));
    try {
      assert.deepEqual(db.findings, []);
      const meta = readEtcdMeta(db);
      assert.deepEqual(meta.findings, []);
      assert.ok(meta.consistentIndex !== undefined && meta.consistentIndex > 0n);
      assert.ok(meta.term !== undefined && meta.term >= 1n);
      const memberId = BigInt('0x' + f.manifest.member_id);
      assert.deepEqual(meta.confState?.voters, [memberId]);
      assert.equal(meta.finishedCompactRev, BigInt(f.manifest.compact_revision ?? -1));
      assert.equal(meta.scheduledCompactRev, BigInt(f.manifest.compact_revision ?? -1));
      assert.equal(meta.clusterVersion, '3.5.0');
      assert.equal(guessWriter(meta, db.buckets()).writer, '3.5');
      const members = readMembers(db);
      assert.deepEqual(members.members.map((x) => x.id), [memberId]);
      assert.equal(members.members[0]?.key, memberId.toString(16));
    } finally {
      close();
    }
  });

  it('lastRevision == manifest last_revision, and every present key has its latest value in `key`', async (t) => {
    const f = await fixture(t, 'v35-workload');
    const { db, close } = openBoltFile(dbPath(f));
    try {
      const ks = summarizeKeys(db);
      assert.equal(ks.lastRevision?.main, BigInt(f.manifest.last_revision));
      assertKeysMatchManifest(db, f.manifest);
      assert.deepEqual(db.findings, []);
    } finally {
      close();
    }
  });

  it('snapshot status equals etcdutl 3.5.30 on the same file; check finds nothing', async (t) => {
    const f = await fixture(t, 'v35-workload');
    const { db, close } = openBoltFile(dbPath(f));
    try {
      assertStatusMatchesEtcdutl('v35-workload', db, f.manifest);
      const r = check(db);
      assert.equal(r.freelistPersisted, false); // etcd: NoFreelistSync
      assert.equal(r.reachablePages + r.freePages, db.highWater);
    } finally {
      close();
    }
  });

  it('a real branch page made to point at itself: findings, every other leaf still read', async (t) => {
    const f = await fixture(t, 'v35-workload');
    const bytes = new Uint8Array(readFileSync(dbPath(f))); // an in-memory copy; the fixture is not touched
    const db0 = openBolt(bytesSource(bytes));
    const ref = db0.bucket('key');
    assert.ok(ref && ref.root !== 0n, 'the key bucket should be a tree');
    const P = db0.pageSize;
    const root = Number(ref.root);
    const flags = new DataView(bytes.buffer).getUint16(root * P + 8, true);
    assert.equal(flags, 0x01, 'the key bucket root should be a branch page');
    const count = new DataView(bytes.buffer).getUint16(root * P + 10, true);
    const lastChildAt = root * P + 16 + (count - 1) * 16 + 8;
    const lastChild = rd64(bytes, lastChildAt);
    const before = [...db0.items('key')].length;
    const inLastLeaf = [...db0.walkTree(lastChild)].length;
    le64(bytes, lastChildAt, BigInt(root));
    const db = openBolt(bytesSource(bytes));
    const items = [...db.items('key')];
    assert.equal(items.length, before - inLastLeaf);
    assert.ok(db.findings.some((x) => x.code === 'bbolt-page-multiple-references' && x.pgid === root));
    const r = check(db);
    // The cycle is cut where it closes; the old last leaf is now unreachable, which without a
    // persisted freelist simply counts as free (as in bbolt).
    assert.deepEqual(codes(r.findings), ['bbolt-page-multiple-references']);
    assert.equal(r.reachablePages + r.freePages, db.highWater);
  });
});

describe('fixture v34-workload (etcd 3.4.23)', () => {
  it('no term, no confState; lastRevision, keys and etcdctl 3.4 snapshot status match', async (t) => {
    const f = await fixture(t, 'v34-workload');
    const { db, close } = openBoltFile(dbPath(f));
    try {
      const meta = readEtcdMeta(db);
      assert.ok(meta.consistentIndex !== undefined && meta.consistentIndex > 0n);
      assert.equal(meta.term, undefined);
      assert.equal(meta.confState, undefined);
      assert.equal(meta.clusterVersion, '3.4.0');
      const g = guessWriter(meta, db.buckets());
      assert.equal(g.writer, '<=3.4');
      assert.deepEqual(g.evidence[0], { fact: 'no-term' });
      assert.equal(summarizeKeys(db).lastRevision?.main, BigInt(f.manifest.last_revision));
      assertKeysMatchManifest(db, f.manifest);
      assertStatusMatchesEtcdutl('v34-workload', db, f.manifest);
    } finally {
      close();
    }
  });
});

describe('fixture v35-segments (1 MB values on overflow pages)', () => {
  it('values spanning overflow pages read back exactly; status matches etcdutl', async (t) => {
    const f = await fixture(t, 'v35-segments');
    const { db, close } = openBoltFile(dbPath(f));
    try {
      let big = 0;
      for (const item of db.items('key')) if (item.value.length > 4 * db.pageSize) big++;
      assert.ok(big > 0);
      assertKeysMatchManifest(db, f.manifest);
      assertStatusMatchesEtcdutl('v35-segments', db, f.manifest);
    } finally {
      close();
    }
  });
});

describe('fixtures v34-then-v35 and v35-fresh', () => {
  it('a 3.4 dir upgraded by 3.5 carries 3.5 evidence; status matches etcdutl', async (t) => {
    const f = await fixture(t, 'v34-then-v35');
    const { db, close } = openBoltFile(dbPath(f));
    try {
      const meta = readEtcdMeta(db);
      assert.equal(guessWriter(meta, db.buckets()).writer, '3.5');
      assert.equal(summarizeKeys(db).lastRevision?.main, BigInt(f.manifest.last_revision));
      assertKeysMatchManifest(db, f.manifest);
      assertStatusMatchesEtcdutl('v34-then-v35', db, f.manifest);
    } finally {
      close();
    }
  });

  it('a fresh 3.5 db: 16 MB file, 5 pages in use, an empty key bucket (revision 0)', async (t) => {
    const f = await fixture(t, 'v35-fresh');
    const { db, close } = openBoltFile(dbPath(f));
    try {
      assert.equal(db.source.size, 16_801_792);
      assert.equal(db.highWater, 5);
      assert.equal(summarizeKeys(db).revisions, 0);
      assertStatusMatchesEtcdutl('v35-fresh', db, f.manifest);
    } finally {
      close();
    }
  });
});
