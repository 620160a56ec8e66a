// src/io/bolt-file.ts: the file-backed PageSource (kept with the bbolt tests it serves).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoltFile, BoltFileError, openBoltFile } from '../../../src/io/bolt-file.js';
import { IoError } from '../../../src/errors.js';
import { snapshotStatus } from '../../../src/format/bbolt/index.js';
import { externalFile } from './helpers.js';
import { loadFixture } from '../../support/fixtures.js';
import type { BoltDb, LeafItem } from '../../../src/format/bbolt/db.js';

describe('BoltFile', () => {
  it('reads the same bytes as readFileSync for any offset/length, through a tiny cache', (t) => {
    // etcd-io/auger cmd/testdata/boltdb/db, read in place
    const path = externalFile(t, 'auger/boltdb/db');
    if (!path) return;
    const whole = new Uint8Array(readFileSync(path));
    const f = new BoltFile(path, { blockSize: 512, cacheBlocks: 2 });
    try {
      assert.equal(f.size, whole.length);
      let seed = 7;
      const rnd = (n: number): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      for (let i = 0; i < 500; i++) {
        const off = rnd(whole.length + 100);
        const len = rnd(3000);
        const want = whole.subarray(Math.min(off, whole.length), Math.min(whole.length, off + len));
        assert.deepEqual(f.read(off, len), want, `read(${off}, ${len})`);
        // readInto: the same bytes, from a cached block (the one just read) or straight from the file
        const into = new Uint8Array(len);
        assert.equal(f.readInto(into, off), want.length, `readInto(${off}, ${len})`);
        assert.deepEqual(into.subarray(0, want.length), want, `readInto(${off}, ${len})`);
        const elsewhere = rnd(whole.length);
        const into2 = new Uint8Array(rnd(700));
        const want2 = whole.subarray(elsewhere, Math.min(whole.length, elsewhere + into2.length));
        assert.equal(f.readInto(into2, elsewhere), want2.length);
        assert.deepEqual(into2.subarray(0, want2.length), want2, `readInto(${elsewhere}, ${into2.length})`);
      }
      assert.equal(f.read(whole.length, 10).length, 0);
      assert.equal(f.read(-5, 0).length, 0);
    } finally {
      f.close();
    }
  });

  it('a db read through a 2-block cache gives the same status as one read with the default cache', (t) => {
    const path = externalFile(t, 'auger/boltdb/db');
    if (!path) return;
    const a = openBoltFile(path, { blockSize: 1024, cacheBlocks: 2 });
    const b = openBoltFile(path);
    try {
      const sa = snapshotStatus(a.db);
      const sb = snapshotStatus(b.db);
      assert.deepEqual({ ...sa, findings: sa.findings.length }, { ...sb, findings: sb.findings.length });
    } finally {
      a.close();
      b.close();
    }
  });

  it('OS errors are thrown as BoltFileError (an IoError) naming the path and the OS code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wal-doctor-boltfile-'));
    try {
      const missing = join(dir, 'nope.db');
      assert.throws(
        () => openBoltFile(missing),
        (e: unknown) => e instanceof BoltFileError && e instanceof IoError && e.code === 'ENOENT' && e.path === missing && e.op === 'open' && e.message.includes(missing),
      );
      // A directory opens on Linux, but only a regular file is ever read: refused at open.
      assert.throws(
        () => new BoltFile(dir),
        (e: unknown) => e instanceof BoltFileError && e.code === 'EISDIR' && e.path === dir && /is a directory, expected a regular file/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('read after close is an error, not garbage', (t) => {
    const path = externalFile(t, 'auger/boltdb/db');
    if (!path) return;
    const f = new BoltFile(path);
    f.close();
    assert.throws(() => f.read(0, 16), BoltFileError);
    f.close(); // idempotent
  });
});

/** Every item of every bucket (nested ones too), with its bytes copied, and the db's findings after. */
function everything(db: BoltDb, transient: boolean): { items: unknown[]; findings: unknown[] } {
  const items: unknown[] = [];
  const copy = (it: LeafItem) => ({ ...it, key: Uint8Array.from(it.key), value: Uint8Array.from(it.value) });
  for (const ref of db.bucketRefs()) {
    for (const it of db.bucketItems(ref, { transient })) items.push(copy(it));
  }
  return { items, findings: [...db.findings] };
}

describe('BoltFile: transient reads (blocks reused once the cache drops them)', () => {
  // Damaged dbs too: pages past the end, a zeroed page, a flipped value.
  const FIXTURES = ['v35-workload', 'v35-k8s', 'v35-db-page-zeroed', 'v35-db-truncated', 'v35-db-value-bitflip', 'v35-missing-middle-segment'];

  it('readTransient gives the bytes read gives, and what read handed out is never overwritten', async () => {
    const fx = await loadFixture('v35-k8s');
    try {
      const path = join(fx.dir, 'member', 'snap', 'db');
      const whole = new Uint8Array(readFileSync(path));
      // 16 KiB blocks, 3 kept: nearly every read drops a block; the file's last block is a short one
      assert.ok(whole.length % 16384 !== 0);
      const f = new BoltFile(path, { blockSize: 16384, cacheBlocks: 3 });
      try {
        let seed = 11;
        const rnd = (n: number): number => {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          return seed % n;
        };
        const kept: [Uint8Array, Uint8Array][] = [];
        // reads spanning blocks come from a ring of 4 buffers: each holds until 4 more such reads
        const spans: [Uint8Array, Uint8Array][] = [];
        for (let i = 0; i < 3000; i++) {
          const off = i % 50 === 0 ? whole.length - rnd(600) : rnd(whole.length);
          const len = rnd(i % 7 === 0 ? 40000 : 9000);
          const want = whole.subarray(Math.min(off, whole.length), Math.min(whole.length, off + len));
          const got = f.readTransient(off, len);
          assert.deepEqual(got, want, `readTransient(${off}, ${len})`);
          const start = Math.min(off, whole.length);
          if (want.length > 0 && Math.floor(start / 16384) !== Math.floor((start + want.length - 1) / 16384)) {
            spans.push([got, Uint8Array.from(want)]);
            if (spans.length > 3) spans.shift();
            for (const [v, w] of spans) assert.deepEqual(v, w, 'a spanning transient read was overwritten within 4 such reads');
          }
          if (i % 10 === 0) {
            const v = f.read(off, len);
            kept.push([v, Uint8Array.from(want)]);
          }
        }
        for (const [v, want] of kept) assert.deepEqual(v, want, 'a block read handed out was reused');
        // a read larger than the ring serves (16 MiB: more than etcd writes) gets its own buffer
        assert.ok(whole.length > 16 << 20);
        const big = f.readTransient(0, whole.length);
        for (let i = 0; i < 8; i++) f.readTransient(i * 16384 + 100, 20000);
        assert.deepEqual(big, whole, 'a read beyond the ring\'s size was overwritten');
      } finally {
        f.close();
      }
      // The short last block, dropped while blocks `read` hands out fill the cache, is not reused for a whole one.
      const g = new BoltFile(path, { blockSize: 16384, cacheBlocks: 3 });
      try {
        const lastBlock = whole.length - (whole.length % 16384);
        assert.deepEqual(g.readTransient(lastBlock, 100), whole.subarray(lastBlock, lastBlock + 100));
        for (let b = 0; b < 3; b++) g.read(b * 16384, 10);
        assert.deepEqual(g.readTransient(5 * 16384, 16384), whole.subarray(5 * 16384, 6 * 16384));
      } finally {
        g.close();
      }
    } finally {
      fx.cleanup();
    }
  });

  for (const name of FIXTURES) {
    it(`${name}: a transient walk through a 2-block cache (16 KiB blocks, the last one short) yields what a plain walk does, with the same findings`, async () => {
      const fx = await loadFixture(name);
      try {
        const path = join(fx.dir, 'member', 'snap', 'db');
        const plain = openBoltFile(path);
        const tiny = openBoltFile(path, { blockSize: 16384, cacheBlocks: 2 });
        try {
          const want = everything(plain.db, false);
          assert.ok(want.items.length + want.findings.length > 0);
          assert.deepEqual(everything(tiny.db, true), want);
        } finally {
          plain.close();
          tiny.close();
        }
      } finally {
        fx.cleanup();
      }
    });
  }
});

describe('BoltDb: reverse walks', () => {
  const FIXTURES = ['v35-workload', 'v35-segments', 'v35-db-page-zeroed', 'v35-db-truncated', 'v35-db-value-bitflip', 'v36-db-page-zeroed'];
  const sorted = (findings: readonly unknown[]) => findings.map((f) => JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).sort();
  for (const name of FIXTURES) {
    it(`${name}: every bucket backwards is the forward walk reversed, with the same findings`, async () => {
      const fx = await loadFixture(name);
      try {
        const path = join(fx.dir, 'member', 'snap', 'db');
        const fwd = openBoltFile(path);
        const back = openBoltFile(path, { blockSize: 16384, cacheBlocks: 2 });
        try {
          const copy = (it: LeafItem) => ({ ...it, key: Uint8Array.from(it.key), value: Uint8Array.from(it.value) });
          let n = 0;
          assert.deepEqual(back.db.buckets(), fwd.db.buckets());
          for (const ref of fwd.db.bucketRefs()) {
            const want = [...fwd.db.bucketItems(ref)].map(copy).reverse();
            const ref2 = back.db.bucket(ref.name)!;
            // (copied as they come: a transient walk's item is valid until the next)
            assert.deepEqual(Array.from(back.db.bucketItems(ref2, { reverse: true, transient: true }), copy), want);
            n += want.length;
          }
          assert.ok(n > 0 || fwd.db.findings.length > 0);
          assert.deepEqual(sorted(back.db.findings), sorted(fwd.db.findings));
        } finally {
          fwd.close();
          back.close();
        }
      } finally {
        fx.cleanup();
      }
    });
  }
});
