// Damage made by editing an in-memory COPY of a real db (etcd-io/auger cmd/testdata/boltdb/db, read
// in place from shared/external; see external.test.ts): every kind of damage must come back as
// findings, never as an exception, an endless loop or an allocation sized by a corrupt field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { bytesSource, check, encodeMeta, openBolt, readEtcdMeta, readMembers, snapshotStatus, summarizeKeys } from '../../../src/format/bbolt/index.js';
import type { BoltDb } from '../../../src/format/bbolt/index.js';
import { codes, copyOf, externalFile, le16, le32, le64, open, rd64 } from './helpers.js';

const P = 4096;

function auger(t: TestContext): Uint8Array | undefined {
  const path = externalFile(t, 'auger/boltdb/db');
  return path ? copyOf(path) : undefined;
}

/** Everything a command would do with a db; must not throw whatever the bytes. */
function exercise(db: BoltDb): { findings: string[]; items: number } {
  let items = 0;
  for (const b of db.buckets()) for (const _ of db.items(b)) items++;
  readEtcdMeta(db);
  readMembers(db);
  summarizeKeys(db);
  const st = snapshotStatus(db);
  return { findings: codes(st.findings), items };
}

/** Offset of the `key` bucket's 16-byte header inside the root leaf (page 4). */
function keyBucketOffset(bytes: Uint8Array): number {
  const ref = open(bytes).bucket('key');
  assert.ok(ref);
  assert.equal(ref.root, 2n);
  return ref.offset;
}

/** Rewrite both metas from the current one with `patch` applied and fresh checksums. */
function patchMetas(bytes: Uint8Array, patch: { pgid?: bigint; root?: bigint }): void {
  const db = open(bytes);
  for (const slot of [0, 1] as const) {
    const m = db.metas[slot];
    assert.ok(m);
    bytes.set(encodeMeta({ ...m, ...patch, slot }), slot * P);
  }
}

describe('truncated files', () => {
  it('every prefix (256-byte steps) opens, checks and hashes without throwing', (t) => {
    const full = auger(t);
    if (!full) return;
    for (let len = 0; len <= full.length; len += 256) {
      const { findings } = exercise(open(full.subarray(0, len)));
      if (len < 2 * P) assert.ok(findings.includes(len < 80 ? 'bbolt-no-valid-meta' : 'bbolt-file-too-small'), `len ${len}: ${findings}`);
      else if (len < full.length) assert.ok(findings.includes('bbolt-truncated'), `len ${len}: ${findings}`);
      else assert.ok(!findings.includes('bbolt-truncated'));
    }
  });

  it('cut inside the root page: the root is past EOF and says so', (t) => {
    const full = auger(t);
    if (!full) return;
    const db = open(full.subarray(0, 4 * P + 100));
    assert.deepEqual(db.buckets(), []);
    const f = db.findings.find((x) => x.code === 'bbolt-page-past-eof');
    assert.deepEqual(f, { code: 'bbolt-page-past-eof', pgid: 4, offset: 4 * P, expected: 5 * P, found: 4 * P + 100 });
    assert.ok(codes(db.findings).includes('bbolt-truncated'));
  });
});

describe('page ids out of bounds', () => {
  it('a page count (meta.pgid) far past EOF is reported, and the data in the file is still read', (t) => {
    const b = auger(t);
    if (!b) return;
    patchMetas(b, { pgid: 1_000_000_000n });
    const db = open(b);
    assert.deepEqual(db.findings, [{ code: 'bbolt-truncated', offset: b.length, expected: 1_000_000_000 * P, found: b.length, pgid: 1_000_000_000 }]);
    assert.equal([...db.items('key')].length, 4);
    const r = check(db); // bitmap sized by the file, not by the claimed pgid
    assert.ok(r.highWater === 1_000_000_000);
    assert.ok(codes(r.findings).includes('bbolt-truncated'));
  });

  it('a bucket root beyond the high-water mark, and one beyond 2^53', (t) => {
    const b = auger(t);
    if (!b) return;
    const at = keyBucketOffset(b);
    le64(b, at, 999n);
    let db = open(b);
    assert.deepEqual([...db.items('key')], []);
    assert.deepEqual(db.findings, [{ code: 'bbolt-page-out-of-bounds', pgid: 999n, offset: at, highWater: 5 }]); // offset: where the pointer is
    le64(b, at, 0xfedcba9876543210n);
    db = open(b);
    assert.equal(exercise(db).items, 6);
    assert.ok(db.findings.some((f) => f.code === 'bbolt-page-out-of-bounds' && f.pgid === 0xfedcba9876543210n));
  });

  it('a huge overflow count is checked before anything is allocated', (t) => {
    const b = auger(t);
    if (!b) return;
    le32(b, 2 * P + 12, 0xffffffff);
    const db = open(b);
    const items = [...db.items('key')];
    assert.equal(items.length, 4); // the page is read as one page; its elements fit
    assert.deepEqual(db.findings, [{ code: 'bbolt-page-overflow-out-of-bounds', pgid: 2, offset: 2 * P, overflow: 0xffffffff, highWater: 5 }]);
    // check() marks a page's overflow pages as reachable: the count is clamped, not looped over.
    const started = Date.now();
    const r = check(db);
    assert.ok(Date.now() - started < 2000);
    assert.ok(codes(r.findings).includes('bbolt-page-overflow-out-of-bounds'));
  });
});

describe('cycles and bad pages', () => {
  it('a branch page that points to itself: each page entered once, then a finding', (t) => {
    const b = auger(t);
    if (!b) return;
    // Page 3 is a free, unused page. Make it a branch: child 0 = page 2 (the real leaf), child 1 =
    // page 3 itself; then root the key bucket at page 3.
    const p3 = 3 * P;
    b.fill(0, p3, p3 + P);
    le64(b, p3, 3n);
    le16(b, p3 + 8, 0x01);
    le16(b, p3 + 10, 2);
    const keys = [new Uint8Array(17), new Uint8Array(17).fill(0xff)];
    keys[0]?.set([0, 0, 0, 0, 0, 0, 0, 4, 0x5f]);
    let data = p3 + 16 + 2 * 16;
    [2n, 3n].forEach((child, i) => {
      const e = p3 + 16 + i * 16;
      le32(b, e, data - e);
      le32(b, e + 4, 17);
      le64(b, e + 8, child);
      b.set(keys[i] as Uint8Array, data);
      data += 17;
    });
    le64(b, keyBucketOffset(b), 3n);
    const db = open(b);
    const items = [...db.items('key')];
    assert.equal(items.length, 4);
    assert.deepEqual(db.findings, [{ code: 'bbolt-page-multiple-references', pgid: 3, offset: p3, from: 3 }]);
    const r = check(db);
    // (auger's meta also names page 2 as its freelist, so page 2 is doubly referenced too; see external.test.ts)
    assert.deepEqual(
      r.findings.map((f) => [f.code, 'pgid' in f ? f.pgid : undefined]),
      [
        ['bbolt-page-multiple-references', 3],
        ['bbolt-bad-freelist', 2],
        ['bbolt-page-multiple-references', 2],
      ],
    );
  });

  it('two buckets sharing one page: multiple references, reported by check', (t) => {
    const b = auger(t);
    if (!b) return;
    // Point the (inline) `lease` bucket at page 2 as well. Its value is 32 bytes (empty inline page);
    // setting root = 2 makes it a tree bucket rooted at the key bucket's leaf.
    const lease = open(b).bucket('lease');
    assert.ok(lease?.inline);
    le64(b, lease.offset, 2n);
    const r = check(open(b));
    assert.ok(r.findings.some((f) => f.code === 'bbolt-page-multiple-references' && f.pgid === 2));
  });

  it('a tree page with the freelist flag is a wrong page type', (t) => {
    const b = auger(t);
    if (!b) return;
    le16(b, 2 * P + 8, 0x10);
    const db = open(b);
    assert.deepEqual([...db.items('key')], []);
    assert.deepEqual(db.findings, [{ code: 'bbolt-page-bad-type', pgid: 2, offset: 2 * P + 8, expected: 'branch|leaf', found: 0x10 }]);
  });

  it('a page header whose id is not its position', (t) => {
    const b = auger(t);
    if (!b) return;
    le64(b, 2 * P, 7n);
    const db = open(b);
    assert.equal([...db.items('key')].length, 4);
    assert.deepEqual(db.findings, [{ code: 'bbolt-page-id-mismatch', pgid: 2, offset: 2 * P, expected: 2n, found: 7n }]);
  });
});

describe('elements', () => {
  it('a ksize running past the page: that element is skipped with a finding, the others are read', (t) => {
    const b = auger(t);
    if (!b) return;
    le32(b, 2 * P + 16 + 16 + 8, 0xfffffff0); // element 1: ksize
    const db = open(b);
    const items = [...db.items('key')];
    assert.deepEqual(items.map((i) => i.index), [0, 2, 3]);
    assert.equal(db.findings.length, 1);
    assert.equal(db.findings[0]?.code, 'bbolt-element-out-of-bounds');
  });

  it('an element count larger than the page holds', (t) => {
    const b = auger(t);
    if (!b) return;
    le16(b, 2 * P + 10, 0xffff);
    const db = open(b);
    assert.doesNotThrow(() => exercise(db));
    assert.deepEqual(db.findings[0], { code: 'bbolt-element-array-overflow', pgid: 2, offset: 2 * P, count: 0xffff, expected: 16 + 0xffff * 16, found: P });
  });

  it('keys out of order within a leaf', (t) => {
    const b = auger(t);
    if (!b) return;
    // element 1's key := element 0's key (same bytes): pos1 = pos0 - 16
    const e0 = 2 * P + 16;
    const pos0 = new DataView(b.buffer).getUint32(e0 + 4, true);
    le32(b, e0 + 16 + 4, pos0 - 16);
    le32(b, e0 + 16 + 12, 10); // vsize small enough to stay in the page
    const db = open(b);
    assert.equal([...db.items('key')].length, 4);
    assert.deepEqual(db.findings, [{ code: 'bbolt-keys-out-of-order', pgid: 2, offset: e0 + 16, index: 1 }]);
  });

  it('an empty key', (t) => {
    const b = auger(t);
    if (!b) return;
    le32(b, 2 * P + 16 + 8, 0); // element 0: ksize 0 (its value now starts where the key was)
    const db = open(b);
    assert.equal([...db.items('key')].length, 4);
    assert.deepEqual(db.findings, [{ code: 'bbolt-empty-key', pgid: 2, offset: 2 * P + 16, index: 0 }]);
  });

  it('a root-tree element without the bucket flag, and a bucket value shorter than its header', (t) => {
    const b = auger(t);
    if (!b) return;
    const e0 = 4 * P + 16; // root leaf, element 0 = "alarm"
    le32(b, e0, 0); // flags: plain value
    le32(b, e0 + 16 + 12, 8); // element 1 ("auth"): vsize 8 < 16
    const db = open(b);
    assert.deepEqual(db.buckets(), ['authRoles', 'authUsers', 'cluster', 'key', 'lease', 'members', 'members_removed', 'meta']);
    assert.deepEqual(db.findings[0], { code: 'bbolt-root-item-not-bucket', pgid: 4, offset: e0, index: 0, found: 0 });
    const f = db.findings[1];
    assert.equal(f?.code, 'bbolt-bad-bucket-value');
    if (f?.code === 'bbolt-bad-bucket-value') assert.deepEqual([f.bucket, f.expected, f.found], ['auth', 16, 8]);
  });

  it('an inline bucket page without the leaf flag', (t) => {
    const b = auger(t);
    if (!b) return;
    const cluster = open(b).bucket('cluster');
    assert.ok(cluster?.inline);
    le16(b, cluster.offset + 16 + 8, 0x01); // inline page flags: branch
    const db = open(b);
    assert.deepEqual([...db.items('cluster')], []);
    assert.deepEqual(codes(db.findings), ['bbolt-bad-inline-page']);
    assert.equal(readEtcdMeta(db).clusterVersion, undefined);
  });
});

describe('meta pages', () => {
  it('newest meta with a bad checksum: falls back to the other and reports it', (t) => {
    const b = auger(t);
    if (!b) return;
    b[P + 72] = (b[P + 72] as number) ^ 0xff; // meta 1 (txid 3) checksum
    const db = open(b);
    assert.equal(db.meta?.slot, 0);
    assert.equal(db.meta?.txid, 2n);
    assert.deepEqual(codes(db.findings), ['bbolt-meta-checksum', 'bbolt-meta-fallback']);
    assert.deepEqual(db.findings[1], { code: 'bbolt-meta-fallback', offset: P, used: 0, rejected: 1, usedTxid: 2n });
    assert.equal([...db.items('key')].length, 4);
  });

  it('meta 0 with bad magic: the page size is found by probing for meta 1', (t) => {
    const b = auger(t);
    if (!b) return;
    b[16] = 0;
    const db = open(b);
    assert.equal(db.pageSize, P);
    assert.equal(db.meta?.slot, 1);
    assert.deepEqual(codes(db.findings), ['bbolt-bad-magic', 'bbolt-meta-checksum', 'bbolt-meta-fallback']);
  });

  it('a byte-swapped magic is named as a big-endian file, not just a bad one', (t) => {
    const b = auger(t);
    if (!b) return;
    for (const at of [16, P + 16]) b.set([0xed, 0x0c, 0xda, 0xed], at);
    const db = open(b);
    assert.equal(db.meta, undefined);
    assert.deepEqual(
      db.findings.filter((f) => f.code === 'bbolt-big-endian'),
      [
        { code: 'bbolt-big-endian', meta: 0, offset: 16 },
        { code: 'bbolt-big-endian', meta: 1, offset: P + 16 },
      ],
    );
  });

  it('a field changed without updating the checksum is caught', (t) => {
    const b = auger(t);
    if (!b) return;
    le64(b, 56, 6n); // meta 0 pgid
    const db = open(b);
    const f = db.findings[0];
    assert.equal(f?.code, 'bbolt-meta-checksum');
    if (f?.code === 'bbolt-meta-checksum') {
      assert.equal(f.meta, 0);
      assert.equal(f.found, rd64(b, 72));
    }
  });

  it('both metas bad: no valid meta, nothing read, nothing thrown; forcing a slot still reads it', (t) => {
    const b = auger(t);
    if (!b) return;
    b[72] = (b[72] as number) ^ 1;
    b[P + 72] = (b[P + 72] as number) ^ 1;
    const db = open(b);
    assert.equal(db.meta, undefined);
    assert.deepEqual(codes(db.findings), ['bbolt-meta-checksum', 'bbolt-meta-checksum', 'bbolt-no-valid-meta']);
    const r = exercise(db);
    assert.equal(r.items, 0);
    const st = snapshotStatus(db);
    assert.equal(st.integrityOk, false);
    assert.equal(st.totalKey, 0);
    // Forensics: use meta 0 anyway (its magic and page size are fine, only the checksum is off).
    const forced = openBolt(bytesSource(b), { meta: 0 });
    assert.equal(forced.meta?.txid, 2n);
    assert.equal([...forced.items('key')].length, 4);
  });
});

describe('persisted freelist (etcd corrupted_backup.db, read in place from shared/external)', () => {
  function backup(t: TestContext): Uint8Array | undefined {
    const path = externalFile(t, 'etcd/corrupted_backup.db');
    return path ? copyOf(path) : undefined;
  }

  it('the count = 0xffff form (real count in the first u64) is read', (t) => {
    const b = backup(t);
    if (!b) return;
    // Freelist page 3 lists [3, 3]; rewrite it as the long form listing [3, 4]: now every page
    // below the high-water mark is accounted for once, and check finds nothing.
    le16(b, 3 * P + 10, 0xffff);
    le64(b, 3 * P + 16, 2n);
    le64(b, 3 * P + 24, 3n);
    le64(b, 3 * P + 32, 4n);
    const r = check(open(b));
    assert.deepEqual(r.findings, []);
    assert.equal(r.freelistPersisted, true);
    assert.equal(r.freePages, 2);
  });

  it('freelist ids past the high-water mark, a count larger than the page, a freed tree page', (t) => {
    const b = backup(t);
    if (!b) return;
    le64(b, 3 * P + 24, 77n); // second id: beyond pgid 5
    let r = check(open(b));
    assert.deepEqual(
      r.findings.map((f) => f.code),
      ['bbolt-freelist-out-of-bounds', 'bbolt-page-unreachable-unfreed'],
    );
    le16(b, 3 * P + 10, 5000); // 5000 ids do not fit in one 4096-byte page
    r = check(open(b));
    assert.ok(r.findings.some((f) => f.code === 'bbolt-bad-freelist' && f.reason === 'count'));
    const c = backup(t);
    if (!c) return;
    le64(c, 3 * P + 24, 2n); // free the root page (page 2)
    r = check(open(c));
    assert.ok(r.findings.some((f) => f.code === 'bbolt-page-reachable-freed' && f.pgid === 2));
  });
});

describe('random damage', () => {
  it('byte flips anywhere in the tree pages never throw (200 deterministic cases)', (t) => {
    const orig = auger(t);
    if (!orig) return;
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let c = 0; c < 200; c++) {
      const b = orig.slice();
      const flips = 1 + rnd(40);
      for (let i = 0; i < flips; i++) {
        // headers and element arrays are where damage hurts: bias towards the first 256 bytes of pages 2..4
        const page = 2 + rnd(3);
        const at = page * P + (rnd(4) === 0 ? rnd(P) : rnd(256));
        b[at] = rnd(256);
      }
      assert.doesNotThrow(() => exercise(open(b)), `case ${c}`);
    }
  });
});
