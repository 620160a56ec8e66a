// The bbolt writer on real etcd dbs: every committed fixture db we name here and the auger db from
// shared/external (read in place) is copied bucket by bucket through the writer; our reader must
// open the copy with no findings, check() must be clean, every bucket and key/value must be
// identical, and the snapshot status hash/revision/totalKey must equal the source's (etcd's status
// hash does not depend on the page layout). Plus: key edits keep the order, a 20,000-key bucket
// makes a multi-level tree with bounded writer memory, and the file side is atomic and 0600.
// Real etcd booting on rewritten dbs is in writer-etcd.test.ts.
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesSource, check, compareBytes, nameText, openBolt, snapshotStatus, NO_FREELIST } from '../../../src/format/bbolt/index.js';
import type { BoltDb } from '../../../src/format/bbolt/index.js';
import { BoltWriter, encodeBolt, writeBolt } from '../../../src/format/bbolt/writer.js';
import type { BoltChunk, BoltItem } from '../../../src/format/bbolt/writer.js';
import { copyDb, editDb, withKeys } from '../../../src/format/bbolt/writer-copy.js';
import { openBoltFile } from '../../../src/io/bolt-file.js';
import { copyDbFile, writeBoltFile } from '../../../src/io/bolt-write.js';
import { loadFixture } from '../../support/fixtures.js';
import type { LoadedFixture } from '../../support/fixtures.js';
import { externalFile } from '../../support/external.js';

const enc = new TextEncoder();
const P = 4096;

/** Copy `src` through copyDb into memory (checking the chunk contract on the way). */
function copyToBytes(src: BoltDb, opts: Parameters<typeof copyDb>[2] = {}): { bytes: Uint8Array; summary: ReturnType<typeof copyDb> } {
  const chunks: BoltChunk[] = [];
  const summary = copyDb(src, (c) => chunks.push(c), opts);
  assertChunkContract(chunks, summary.pgid, summary.pageSize);
  const bytes = new Uint8Array(summary.fileSize);
  for (const c of chunks) bytes.set(c.bytes, c.offset);
  return { bytes, summary };
}

/** Data pages ascending from 2, metas last at 0, every page id < pgid covered exactly once. */
function assertChunkContract(chunks: BoltChunk[], pgid: number, pageSize: number): void {
  const last = chunks.at(-1);
  assert.ok(last);
  assert.equal(last.pgid, 0);
  assert.equal(last.offset, 0);
  assert.equal(last.bytes.length, 2 * pageSize);
  let next = 2;
  for (const c of chunks.slice(0, -1)) {
    assert.equal(c.pgid, next, 'data chunks come in ascending pgid order without gaps');
    assert.equal(c.offset, c.pgid * pageSize);
    assert.equal(c.bytes.length % pageSize, 0);
    // The header id is the page's own position.
    assert.equal(new DataView(c.bytes.buffer, c.bytes.byteOffset).getBigUint64(0, true), BigInt(c.pgid));
    next += c.bytes.length / pageSize;
  }
  assert.equal(next, pgid, 'the chunks cover every page below the high-water mark');
}

/** Every bucket, key and value of `a` and `b` identical, in the same order. */
function assertSameContents(a: BoltDb, b: BoltDb): { buckets: number; items: number } {
  const ra = [...a.bucketRefs()];
  const rb = [...b.bucketRefs()];
  assert.deepEqual(rb.map((r) => nameText(r.name)), ra.map((r) => nameText(r.name)));
  let items = 0;
  for (let i = 0; i < ra.length; i++) {
    const ia = a.bucketItems(ra[i] as never)[Symbol.iterator]();
    const ib = b.bucketItems(rb[i] as never)[Symbol.iterator]();
    for (;;) {
      const x = ia.next();
      const y = ib.next();
      assert.equal(x.done, y.done, `bucket ${nameText((ra[i] as { name: Uint8Array }).name)}: item counts differ`);
      if (x.done || y.done) break;
      assert.equal(compareBytes(x.value.key, y.value.key), 0, `key #${items}`);
      assert.equal(compareBytes(x.value.value, y.value.value), 0, `value of key #${items}`);
      assert.equal(y.value.flags, 0);
      items++;
    }
  }
  return { buckets: ra.length, items };
}

/** The copy opens clean, checks clean, holds the same data and the same status hash. */
function assertFaithfulCopy(src: BoltDb, bytes: Uint8Array): BoltDb {
  const copy = openBolt(bytesSource(bytes));
  assert.deepEqual(copy.findings, []);
  const c = check(copy);
  assert.deepEqual(c.findings, []);
  assert.equal(c.freelistPersisted, true);
  assert.equal(c.freePages, 0, 'a compact copy has no free pages');
  assert.equal(c.reachablePages, copy.highWater);
  assert.equal(bytes.length, copy.highWater * P, 'file length = pgid × P');
  assertSameContents(src, copy);
  const s = snapshotStatus(src);
  const d = snapshotStatus(copy);
  assert.deepEqual({ hash: d.hash, revision: d.revision, totalKey: d.totalKey }, { hash: s.hash, revision: s.revision, totalKey: s.totalKey });
  assert.equal(d.integrityOk, true);
  assert.equal(d.totalSize, bytes.length);
  return copy;
}

const FIXTURES = ['v35-workload', 'v34-workload', 'v35-segments'] as const;

for (const name of FIXTURES) {
  describe(`writer: copy of fixture ${name}`, () => {
    let fx: LoadedFixture;
    before(async () => {
      fx = await loadFixture(name);
    });
    after(() => fx.cleanup());

    it('reads back identical, checks clean, same snapshot status hash/revision/totalKey', () => {
      const src = openBoltFile(join(fx.dir, 'member', 'snap', 'db'));
      try {
        assert.deepEqual(src.db.findings, []);
        const { bytes, summary } = copyToBytes(src.db);
        assert.equal(summary.skippedCount, 0);
        assert.equal(summary.buckets, src.db.buckets().length);
        const copy = assertFaithfulCopy(src.db, bytes);
        assert.equal(summary.keys, snapshotStatus(copy).totalKey);
        assert.equal(summary.root, Number(copy.meta?.root));
        assert.equal(copy.meta?.freelist, 2n);
        assert.deepEqual([copy.metas[0]?.txid, copy.metas[1]?.txid], [0n, 1n]);
        // The copy is compact: never bigger than the source's logical size.
        assert.ok(summary.fileSize <= src.db.logicalSize, `${summary.fileSize} > ${src.db.logicalSize}`);
        if (name === 'v35-segments') {
          // 1 MB values: leaf pages with overflow, and the key bucket is a tree with a branch root.
          assert.ok(summary.pages.overflow > 200, `overflow pages: ${summary.pages.overflow}`);
          assert.ok(summary.maxDepth >= 2);
        }
      } finally {
        src.close();
      }
    });

    it('with NO_FREELIST and another page size the copy is just as faithful', () => {
      const src = openBoltFile(join(fx.dir, 'member', 'snap', 'db'));
      try {
        const chunks: BoltChunk[] = [];
        const summary = copyDb(src.db, (c) => chunks.push(c), { freelist: 'none', pageSize: 16384, txid: 10n });
        assert.equal(chunks[0]?.pgid, 2, 'no freelist page: data starts at pgid 2');
        const bytes = new Uint8Array(summary.fileSize);
        for (const c of chunks) bytes.set(c.bytes, c.offset);
        const copy = openBolt(bytesSource(bytes));
        assert.deepEqual(copy.findings, []);
        assert.equal(copy.pageSize, 16384);
        assert.equal(copy.meta?.freelist, NO_FREELIST);
        assert.equal(copy.meta?.txid, 11n);
        assert.deepEqual(check(copy).findings, []);
        assertSameContents(src.db, copy);
        assert.equal(snapshotStatus(copy).hash, snapshotStatus(src.db).hash);
      } finally {
        src.close();
      }
    });
  });
}

describe('writer: the auger db (shared/external, read in place)', () => {
  it('a db whose meta names a leaf as its freelist copies into a clean one with the same hash', (t) => {
    const path = externalFile(t, 'auger/boltdb/db');
    if (!path) return;
    const src = openBoltFile(path);
    try {
      // The source fails bbolt's check (page 2 is a leaf, not a freelist); the walk still reads it all.
      assert.notDeepEqual(check(src.db).findings, []);
      const { bytes, summary } = copyToBytes(src.db);
      assert.equal(summary.keys, 10);
      const copy = assertFaithfulCopy(src.db, bytes);
      const st = snapshotStatus(copy);
      assert.deepEqual({ hash: st.hash, revision: st.revision, totalKey: st.totalKey, totalSize: st.totalSize }, { hash: 912522927, revision: 232274n, totalKey: 10, totalSize: 20480 });
    } finally {
      src.close();
    }
  });
});

describe('copyDb transforms (on fixture v35-workload)', () => {
  let fx: LoadedFixture;
  before(async () => {
    fx = await loadFixture('v35-workload');
  });
  after(() => fx.cleanup());

  it('replaces members, empties members_removed, sets consistent_index/term, keeps everything else', () => {
    const src = openBoltFile(join(fx.dir, 'member', 'snap', 'db'));
    try {
      const be64 = (n: bigint) => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, n);
        return b;
      };
      const member = '{"id":14262357235947879811,"peerURLs":["http://127.0.0.1:23795"],"name":"r1"}';
      const { bytes, summary } = copyToBytes(src.db, {
        ensureBuckets: ['members_removed', 'zz-added'],
        transform: (bucket, items) => {
          if (bucket === 'members') return withKeys([], [['c5ee125744653d83', member]]);
          if (bucket === 'members_removed') return [];
          // 'consistent_index' sorts before the existing keys it joins; 'aaa' is inserted first.
          if (bucket === 'meta') return withKeys(items, [['term', be64(1n)], ['consistent_index', be64(1n)], ['aaa', 'x'], ['finishedCompactRev', null]]);
          if (bucket === 'alarm') return null;
          return items;
        },
      });
      assert.deepEqual(summary.droppedBuckets, ['alarm']);
      assert.deepEqual(summary.addedBuckets, ['zz-added']);
      const copy = openBolt(bytesSource(bytes));
      assert.deepEqual(check(copy).findings, []);
      assert.deepEqual(copy.buckets(), src.db.buckets().filter((b) => b !== 'alarm').concat('zz-added'));
      const members = [...copy.items('members')];
      assert.deepEqual(members.map((i) => nameText(i.key)), ['c5ee125744653d83']);
      assert.equal(nameText(members[0]?.value ?? new Uint8Array()), member);
      assert.equal([...copy.items('members_removed')].length, 0);
      const meta = [...copy.items('meta')].map((i) => nameText(i.key));
      const srcMeta = [...src.db.items('meta')].map((i) => nameText(i.key));
      assert.deepEqual(meta, [...srcMeta.filter((k) => k !== 'finishedCompactRev'), 'aaa'].sort());
      assert.deepEqual(copy.get('meta', 'consistent_index'), be64(1n));
      assert.deepEqual(copy.get('meta', 'term'), be64(1n));
      assert.deepEqual(copy.get('meta', 'confState'), src.db.get('meta', 'confState'));
      // `key` untouched: identical items.
      const ka = [...src.db.items('key')];
      const kb = [...copy.items('key')];
      assert.equal(kb.length, ka.length);
      assert.ok(ka.every((x, i) => compareBytes(x.key, (kb[i] as BoltItem).key) === 0 && compareBytes(x.value, (kb[i] as BoltItem).value) === 0));
    } finally {
      src.close();
    }
  });

  it('editDb: the same edits as a commit on a copy — new pages past the high-water mark, one meta page, every old page as it was', () => {
    const src = openBoltFile(join(fx.dir, 'member', 'snap', 'db'));
    try {
      const meta0 = src.db.meta;
      assert.ok(meta0);
      const member = '{"id":14262357235947879811,"peerURLs":["http://127.0.0.1:23795"],"name":"r1"}';
      const transform = (bucket: string, items: Iterable<BoltItem>): Iterable<BoltItem> | null => {
        if (bucket === 'members') return withKeys([], [['c5ee125744653d83', member]]);
        if (bucket === 'members_removed') return [];
        if (bucket === 'meta') return withKeys(items, [['consistent_index', new Uint8Array(8).fill(1)], ['finishedCompactRev', null]]);
        if (bucket === 'alarm') return null;
        return items;
      };
      const opts = { ensureBuckets: ['members_removed', 'zz-added'], transform };
      const image = src.file.read(0, src.db.source.size).slice();
      const chunks: BoltChunk[] = [];
      const summary = editDb(src.db, (c) => chunks.push(c), opts);
      const P = src.db.pageSize;
      const slot = Number((meta0.txid + 1n) % 2n);
      // every chunk is a new page past the old high-water mark, but the last: one meta page, the slot txid + 1 takes
      const last = chunks.pop() as BoltChunk;
      assert.deepEqual([last.offset, last.bytes.length], [slot * P, P]);
      assert.ok(chunks.every((c) => c.pgid >= src.db.highWater && c.offset === c.pgid * P));
      assert.equal(summary.pgid, src.db.highWater + chunks.reduce((n, c) => n + c.bytes.length / P, 0));
      const edited = new Uint8Array(summary.fileSize);
      edited.set(image);
      for (const c of [...chunks, last]) edited.set(c.bytes, c.offset);
      // the old pages, and the other meta, are untouched (etcd's file runs past its high-water mark: new pages go there)
      const other = 1 - slot;
      const hw = src.db.highWater * P;
      assert.ok(Buffer.from(edited.subarray(other * P, other * P + P)).equals(image.subarray(other * P, other * P + P)));
      assert.ok(Buffer.from(edited.subarray(2 * P, hw)).equals(image.subarray(2 * P, hw)));
      assert.equal(summary.fileSize, Math.max(image.length, summary.pgid * P));

      const db = openBolt(bytesSource(edited));
      assert.deepEqual(db.findings, []);
      assert.deepEqual(check(db).findings, []);
      assert.equal(db.meta?.txid, meta0.txid + 1n);
      assert.equal(db.meta?.slot, slot);
      assert.equal(db.meta?.freelist, NO_FREELIST);
      assert.deepEqual(summary.droppedBuckets, ['alarm']);
      assert.deepEqual(summary.addedBuckets, ['zz-added']);
      // bucket for bucket what copyDb writes with the same transform
      const copy = openBolt(bytesSource(copyToBytes(src.db, opts).bytes));
      const dump = (d: BoltDb) => [...d.bucketRefs()].map((r) => [nameText(r.name), [...d.bucketItems(r)].map((i) => `${Buffer.from(i.key).toString('hex')}=${Buffer.from(i.value).toString('hex')}`)]);
      assert.deepEqual(dump(db), dump(copy));
      // an unchanged bucket still names its old root page
      assert.equal(db.bucket('key')?.root, src.db.bucket('key')?.root);
    } finally {
      src.close();
    }
  });

  it('rawBucket is for append mode only', () => {
    const w = new BoltWriter(() => undefined);
    assert.throws(() => w.rawBucket('key', new Uint8Array(16)), /append mode/);
  });

  it('withKeys merges in order: replace, insert before/between/after, delete, last edit wins', () => {
    const items = ['b', 'd', 'f'].map((k) => ({ key: enc.encode(k), value: enc.encode(k.toUpperCase()) }));
    const out = [...withKeys(items, [['g', '7'], ['a', '1'], ['d', '4'], ['e', '5'], ['f', null], ['a', '11']])].map((i) => `${nameText(i.key)}=${nameText(i.value)}`);
    assert.deepEqual(out, ['a=11', 'b=B', 'd=4', 'e=5', 'g=7']);
  });
});

/** n keys in ascending order with 100-byte values, produced lazily; counts what it produced. */
function generated(n: number, counter: { produced: number }): Iterable<BoltItem> {
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < n; i++) {
        counter.produced++;
        yield { key: enc.encode(`/registry/pods/default/pod-${String(i).padStart(8, '0')}`), value: new Uint8Array(100).fill(i & 0xff) };
      }
    },
  };
}

describe('copyDb on a damaged db (fixture v35-workload, bytes edited in memory)', () => {
  let fx: LoadedFixture;
  before(async () => {
    fx = await loadFixture('v35-workload');
  });
  after(() => fx.cleanup());

  it('drops a key out of order and a stray nested-bucket flag, lists them, and writes a clean db', () => {
    const bytes = new Uint8Array(readFileSync(join(fx.dir, 'member', 'snap', 'db')));
    const db0 = openBolt(bytesSource(bytes));
    const victim = [...db0.items('key')][5];
    const metaItem = [...db0.items('meta')][0];
    assert.ok(victim && metaItem);
    const victimOffset = victim.offset;
    victim.key.fill(0, 0, 8); // revision main 0: sorts before the keys already written
    bytes[metaItem.offset] = 1; // flags: "nested bucket" on a plain meta value
    const src = openBolt(bytesSource(bytes));
    const { bytes: out, summary } = copyToBytes(src);
    assert.equal(summary.skippedCount, 2);
    assert.deepEqual(summary.skipped.map((x) => [x.bucket, x.reason]).sort(), [['key', 'out-of-order'], ['meta', 'nested-bucket']]);
    assert.equal(summary.skipped.find((x) => x.bucket === 'key')?.offset, victimOffset);
    assert.ok(src.findings.some((f) => f.code === 'bbolt-keys-out-of-order'), 'the reader saw the damage too');
    const copy = openBolt(bytesSource(out));
    assert.deepEqual(copy.findings, []);
    assert.deepEqual(check(copy).findings, []);
    assert.equal(snapshotStatus(copy).totalKey, snapshotStatus(db0).totalKey - 2);
    assert.equal([...copy.items('key')].length, [...db0.items('key')].length - 1);
  });
});

describe('writer: 20,000 keys in one bucket', () => {
  it('makes a 3-level tree our reader and check accept, with the writer holding a few pages at most', () => {
    const N = 20_000;
    const counter = { produced: 0 };
    let producedAtFirstLeaf = -1;
    const chunks: BoltChunk[] = [];
    const summary = writeBolt(
      [
        { name: 'alarm', items: [] },
        { name: 'big', items: generated(N, counter) },
        { name: 'meta', items: [{ key: enc.encode('consistent_index'), value: new Uint8Array(8) }] },
      ],
      (c) => {
        if (producedAtFirstLeaf < 0 && c.pgid > 2) producedAtFirstLeaf = counter.produced;
        chunks.push(c);
      },
    );
    assertChunkContract(chunks, summary.pgid, P);
    // Streaming: the first leaf left the writer after ~30 items, not after all 20,000.
    assert.ok(producedAtFirstLeaf > 0 && producedAtFirstLeaf < 100, `first leaf after ${producedAtFirstLeaf} items`);
    assert.equal(summary.keys, N + 1);
    assert.equal(summary.inlineBuckets, 2);
    assert.equal(summary.maxDepth, 3, 'leaves, one branch level, a branch root');
    // Bounded memory: the held item bytes never exceed a few pages (one per level + the inline cap).
    assert.ok(summary.peakHeldBytes <= 4 * P, `peak held ${summary.peakHeldBytes} bytes`);

    const bytes = new Uint8Array(summary.fileSize);
    for (const c of chunks) bytes.set(c.bytes, c.offset);
    const db = openBolt(bytesSource(bytes));
    assert.deepEqual(db.findings, []);
    let depth = 0;
    let branchPages = 0;
    const ref = db.bucket('big');
    assert.ok(ref && ref.root > 0n);
    let n = 0;
    let prev: Uint8Array | undefined;
    for (const item of db.bucketItems(ref, { onPage: (v) => { depth = Math.max(depth, v.depth); if (v.header.flags & 1) branchPages++; } })) {
      if (prev) assert.ok(compareBytes(prev, item.key) < 0);
      assert.equal(item.value.length, 100);
      assert.equal(item.value[0], n & 0xff);
      prev = item.key;
      n++;
    }
    assert.equal(n, N);
    assert.equal(depth, 2, 'root branch (depth 0) → branches (1) → leaves (2)');
    assert.ok(branchPages > 2);
    const c = check(db);
    assert.deepEqual(c.findings, []);
    assert.equal(c.reachablePages, summary.pgid);
    assert.deepEqual(db.buckets(), ['alarm', 'big', 'meta']);
  });
});

describe('writer: edge cases', () => {
  it('an empty db (no buckets) and empty buckets are valid files', () => {
    for (const buckets of [[], [{ name: 'a', items: [] }, { name: 'b', items: [] }]]) {
      const { bytes, summary } = encodeBolt(buckets);
      assert.equal(summary.pgid, 4);
      const db = openBolt(bytesSource(bytes));
      assert.deepEqual(check(db).findings, []);
      assert.deepEqual(db.buckets(), buckets.map((b) => b.name));
    }
  });

  it('the inline limit is exactly 16 + Σ(16+|k|+|v|) <= P/4', () => {
    const item = (k: string, vlen: number) => ({ key: enc.encode(k), value: new Uint8Array(vlen) });
    // 16 + (16 + 1 + 991) = 1024: inline. One byte more: a tree.
    for (const [vlen, inline] of [[991, true], [992, false]] as const) {
      const { bytes, summary } = encodeBolt([{ name: 'b', items: [item('k', vlen)] }]);
      assert.equal(summary.inlineBuckets, inline ? 1 : 0);
      const db = openBolt(bytesSource(bytes));
      assert.equal(db.bucket('b')?.root === 0n, inline);
      assert.deepEqual(check(db).findings, []);
      assert.equal([...db.items('b')][0]?.value.length, vlen);
    }
  });

  it('refuses out-of-order keys and buckets, empty keys, keys over 32 KiB', () => {
    const w = new BoltWriter(() => {});
    assert.throws(() => w.bucket('b', [{ key: enc.encode('y'), value: new Uint8Array() }, { key: enc.encode('x'), value: new Uint8Array() }]), /strictly ascending/);
    const w2 = new BoltWriter(() => {});
    w2.bucket('b', []);
    assert.throws(() => w2.bucket('a', []), /ascending name order/);
    const w3 = new BoltWriter(() => {});
    assert.throws(() => w3.bucket('b', [{ key: new Uint8Array(), value: new Uint8Array() }]), /empty key/);
    const w4 = new BoltWriter(() => {});
    assert.throws(() => w4.bucket('b', [{ key: new Uint8Array(32769), value: new Uint8Array() }]), /limit is 32768/);
  });

  it('branch pages with huge keys still converge to one root (two elements per branch page at least)', () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ key: new Uint8Array(3000).fill(0x41 + i), value: new Uint8Array(10) }));
    const { bytes, summary } = encodeBolt([{ name: 'big-keys', items }]);
    assert.ok(summary.maxDepth >= 3);
    const db = openBolt(bytesSource(bytes));
    assert.deepEqual(check(db).findings, []);
    assert.equal([...db.items('big-keys')].length, 12);
  });
});

describe('io: writeBoltFile / copyDbFile', () => {
  let fx: LoadedFixture;
  let work: string;
  before(async () => {
    fx = await loadFixture('v34-workload');
    work = mkdtempSync(join(tmpdir(), 'wal-doctor-bolt-write-'));
  });
  after(() => {
    fx.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes the copy atomically with mode 0600 and no temp left; the source bytes are unchanged', () => {
    const srcPath = join(fx.dir, 'member', 'snap', 'db');
    const before = readFileSync(srcPath);
    const dst = join(work, 'db');
    writeFileSync(dst, 'old contents');
    const { summary, source } = copyDbFile(srcPath, dst);
    assert.deepEqual(source.db.findings, []);
    assert.equal(statSync(dst).mode & 0o777, 0o600);
    assert.equal(statSync(dst).size, summary.fileSize);
    assert.deepEqual(readdirSync(work), ['db']);
    assert.deepEqual(readFileSync(srcPath), before);
    const src = openBoltFile(srcPath);
    const out = openBoltFile(dst);
    try {
      assertFaithfulCopy(src.db, new Uint8Array(readFileSync(dst)));
      assert.deepEqual(out.db.findings, []);
    } finally {
      src.close();
      out.close();
    }
    assert.throws(() => copyDbFile(srcPath, srcPath), /refusing to rewrite a bbolt file in place/);
  });

  it('an error while producing leaves the old file and no temp; the error is the writer\'s own', (t: TestContext) => {
    const dst = join(work, 'db2');
    writeFileSync(dst, 'keep me');
    const bad = [{ name: 'b', items: [{ key: enc.encode('z'), value: new Uint8Array(5000) }, { key: enc.encode('a'), value: new Uint8Array() }] }];
    assert.throws(() => writeBoltFile(dst, (sink) => writeBolt(bad, sink)), (e: unknown) => e instanceof RangeError);
    assert.equal(readFileSync(dst, 'utf8'), 'keep me');
    assert.ok(!readdirSync(work).some((n) => n.startsWith('.db2')), 'temp removed');
    assert.ok(existsSync(dst));
    t.diagnostic('the temp file is removed and the destination keeps its old bytes');
  });
});
