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
