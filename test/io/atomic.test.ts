// The atomic write primitives on a real etcd 3.5 data dir (fixtures/v35-workload: a 64,000,000-byte
// segment and a 16 MB db): byte-exact prefixes, zero fill, modes kept, bounded memory, no temp
// files left, and errors that leave the original untouched.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  CRASH_POINTS,
  appendAtomic,
  crashPoint,
  isTempName,
  removeFile,
  removeStaleTemps,
  replaceWithTruncated,
  sha256File,
  tempPathFor,
  writeFileAtomic,
} from '../../src/io/atomic.js';
import { DoctorError, NotEtcdError } from '../../src/errors.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';

const WAL = 'member/wal/0000000000000000-0000000000000000.wal';
const SEGMENT_BYTES = 64_000_000;

/** sha256 of bytes [start, end) of a file, streamed */
function rangeSha(path: string, start: number, end: number): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let pos = start; pos < end; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      assert.ok(n > 0, `short read at ${pos}`);
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** true when bytes [start, end) of a file are all zero */
function allZero(path: string, start: number, end: number): boolean {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let pos = start; pos < end; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) return false;
      for (let i = 0; i < n; i++) if (buf[i] !== 0) return false;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return true;
}

function tempsIn(dir: string): string[] {
  return readdirSync(dir).filter(isTempName);
}

describe('atomic writes on a real data dir (v35-workload)', () => {
  let fx: LoadedFixture;
  let wal: string;
  let walSha: string;
  before(async () => {
    fx = await loadFixture('v35-workload');
    wal = join(fx.dir, WAL);
    walSha = sha256File(wal).sha256;
  });
  after(() => fx.cleanup());

  it('replaceWithTruncated keeps the prefix byte for byte, zero-fills to the original size, keeps the mode, in bounded memory', () => {
    const segment = join(fx.dir, 'member/wal/seg-copy.wal');
    writeFileAtomic(segment, (write) => {
      // a real segment, copied piecewise: also exercises the callback form
      const fd = openSync(wal, 'r');
      const buf = Buffer.alloc(1 << 20);
      try {
        for (let pos = 0; ; ) {
          const n = readSync(fd, buf, 0, buf.length, pos);
          if (n === 0) break;
          write(buf.subarray(0, n));
          pos += n;
        }
      } finally {
        closeSync(fd);
      }
    }, { mode: 0o640 });
    assert.equal(sha256File(segment).sha256, walSha);
    chmodSync(segment, 0o604); // an unusual mode, to see it kept
    assert.equal(statSync(segment).size, SEGMENT_BYTES);

    // the good data of the fixture ends at the end of its last record; cut at an odd offset inside it
    const keep = 40_001;
    const prefixSha = rangeSha(segment, 0, keep);
    const inodeBefore = statSync(segment).ino;
    const rssBefore = process.memoryUsage().rss;
    replaceWithTruncated(segment, keep);
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    const st = statSync(segment);
    assert.equal(st.size, SEGMENT_BYTES, 'zero-filled to the original size');
    assert.equal(st.mode & 0o7777, 0o604, 'mode kept');
    assert.notEqual(st.ino, inodeBefore, 'a new file was renamed in (not written in place)');
    assert.equal(rangeSha(segment, 0, keep), prefixSha, 'prefix byte-exact');
    assert.ok(allZero(segment, keep, SEGMENT_BYTES), 'the rest is zeros');
    assert.ok(rssGrowth < 16 * 1024 * 1024, `rss grew by ${rssGrowth} bytes copying a ${SEGMENT_BYTES}-byte segment`);
    assert.deepEqual(tempsIn(join(fx.dir, 'member/wal')), [], 'no temp file left');
  });

  it('replaceWithTruncated with zeroFillTo shorter or longer than the original', () => {
    const p = join(fx.dir, 'member/wal/small.wal');
    writeFileAtomic(p, [readFileSync(wal).subarray(0, 100_000)], { mode: 0o600 });
    const head = rangeSha(p, 0, 1000);
    replaceWithTruncated(p, 1000, { zeroFillTo: 5000 });
    assert.equal(statSync(p).size, 5000);
    assert.equal(rangeSha(p, 0, 1000), head);
    assert.ok(allZero(p, 1000, 5000));
    replaceWithTruncated(p, 1000, { zeroFillTo: 200_000 });
    assert.equal(statSync(p).size, 200_000);
    assert.equal(rangeSha(p, 0, 1000), head);
    assert.ok(allZero(p, 1000, 200_000));
    replaceWithTruncated(p, 1000, { zeroFillTo: 1000 });
    assert.equal(statSync(p).size, 1000);
    assert.equal(rangeSha(p, 0, 1000), head);
  });

  it('replaceWithTruncated refuses a cut outside the file and leaves it untouched', () => {
    const p = join(fx.dir, 'member/wal/bad-cut.wal');
    writeFileAtomic(p, [randomBytes(4096)], { mode: 0o600 });
    const sha = sha256File(p).sha256;
    assert.throws(() => replaceWithTruncated(p, 4097), /keepBytes 4097 outside the file/);
    assert.throws(() => replaceWithTruncated(p, 100, { zeroFillTo: 99 }), /below keepBytes/);
    assert.equal(sha256File(p).sha256, sha);
    assert.deepEqual(tempsIn(join(fx.dir, 'member/wal')), []);
    assert.throws(() => replaceWithTruncated(join(fx.dir, 'member/wal/nope.wal'), 0), NotEtcdError);
  });

  it('appendAtomic writes records into the zero area and changes nothing else', () => {
    const p = join(fx.dir, 'member/wal/append.wal');
    writeFileAtomic(p, [readFileSync(wal).subarray(0, 70_000)], { mode: 0o600 });
    replaceWithTruncated(p, 30_000, { zeroFillTo: 70_000 });
    const head = rangeSha(p, 0, 30_000);
    const rec = randomBytes(333);
    appendAtomic(p, rec, 30_000);
    assert.equal(statSync(p).size, 70_000);
    assert.equal(rangeSha(p, 0, 30_000), head);
    assert.deepEqual(readFileSync(p).subarray(30_000, 30_333), rec);
    assert.ok(allZero(p, 30_333, 70_000));
    // at the very end it extends the file
    appendAtomic(p, rec, 70_000);
    assert.equal(statSync(p).size, 70_333);
    assert.throws(() => appendAtomic(p, rec, 70_334), /outside the file/);
  });

  it('writeFileAtomic sets the mode whatever the umask, replaces, and on a failing producer leaves the old file', () => {
    const p = join(fx.dir, 'member/new-file');
    writeFileAtomic(p, [Buffer.from('one'), Buffer.from('two')], { mode: 0o600 });
    assert.equal(readFileSync(p, 'utf8'), 'onetwo');
    assert.equal(statSync(p).mode & 0o7777, 0o600);
    writeFileAtomic(p, [Buffer.from('three')], { mode: 0o644 });
    assert.equal(readFileSync(p, 'utf8'), 'three');
    assert.equal(statSync(p).mode & 0o7777, 0o644);
    assert.throws(
      () =>
        writeFileAtomic(p, (write) => {
          write(Buffer.from('half'));
          throw new Error('producer failed');
        }, { mode: 0o644 }),
      /producer failed/,
    );
    assert.equal(readFileSync(p, 'utf8'), 'three', 'old content kept');
    assert.deepEqual(tempsIn(join(fx.dir, 'member')), []);
    // into a missing directory: an IoError-family error, not a crash
    assert.throws(() => writeFileAtomic(join(fx.dir, 'no/such/dir/f'), [], { mode: 0o644 }), DoctorError);
  });

  it('removeFile unlinks once and reports a file already gone', () => {
    const p = join(fx.dir, 'member/remove-me');
    writeFileSync(p, 'x');
    assert.equal(removeFile(p), true);
    assert.equal(existsSync(p), false);
    assert.equal(removeFile(p), false);
  });

  it('removeStaleTemps removes temps of other (dead) processes only', () => {
    const dir = join(fx.dir, 'member/wal');
    const stale = join(dir, `.x.wal.wal-doctor-tmp-999999999`);
    const mine = tempPathFor(join(dir, 'y.wal'));
    const lookalike = join(dir, '.x.wal.wal-doctor-tmp-');
    writeFileSync(stale, 'half');
    writeFileSync(mine, 'mine');
    writeFileSync(lookalike, 'not ours');
    assert.deepEqual(removeStaleTemps(dir), [stale]);
    assert.equal(existsSync(mine), true);
    assert.equal(existsSync(lookalike), true);
    rmSync(mine);
    rmSync(lookalike);
  });

  it('the original segment was never touched by any of this', () => {
    assert.equal(sha256File(wal).sha256, walSha);
  });
});

describe('crash points', () => {
  it('names are unique and crashPoint is a no-op without WAL_DOCTOR_CRASH_AT', () => {
    assert.equal(new Set(CRASH_POINTS).size, CRASH_POINTS.length);
    assert.ok(CRASH_POINTS.length >= 10);
    const saved = process.env['WAL_DOCTOR_CRASH_AT'];
    delete process.env['WAL_DOCTOR_CRASH_AT'];
    try {
      for (const name of CRASH_POINTS) crashPoint(name);
      process.env['WAL_DOCTOR_CRASH_AT'] = 'some-other-point';
      for (const name of CRASH_POINTS) crashPoint(name);
    } finally {
      if (saved === undefined) delete process.env['WAL_DOCTOR_CRASH_AT'];
      else process.env['WAL_DOCTOR_CRASH_AT'] = saved;
    }
    assert.ok(true, 'still alive');
  });
});
