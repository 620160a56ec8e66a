import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMeta, encodeMeta, fnv1a64, decodePageHeader, NO_FREELIST, bytesSource, openBolt } from '../../../src/format/bbolt/index.js';
import { parseJsonBigInt } from '../../../src/format/bbolt/json-bigint.js';
import { decodeRevision, encodeRevision, guessWriter } from '../../../src/format/bbolt/etcd-meta.js';
import { hasSnapshotTrailer, verifySnapshotTrailer } from '../../../src/format/bbolt/snapshot-file.js';
import { sha256Chunks } from '../../../src/io/bolt-file.js';
import { codes } from './helpers.js';

// Meta page 0 of an `etcdctl snapshot save` file written by etcd 3.4.23: the first 80 bytes as
// reproduced in shared/spec/etcd-data-dir.md §11.5.
const META0_3423 = Buffer.from(
  '0000000000000000' + '0400000000000000' +
    'edda0ced02000000' + '0010000000000000' +
    '0400000000000000' + '0000000000000000' +
    'ffffffffffffffff' + '0500000000000000' +
    '0c00000000000000' + '4e83c70a507c2ddb',
  'hex',
);

describe('bbolt meta page', () => {
  it('decodes the 3.4.23 snapshot meta and its FNV-1a checksum matches', () => {
    const m = decodeMeta(new Uint8Array(META0_3423), 0);
    assert.equal(m.magic, 0xed0cdaed);
    assert.equal(m.version, 2);
    assert.equal(m.pageSize, 4096);
    assert.equal(m.root, 4n);
    assert.equal(m.freelist, NO_FREELIST);
    assert.equal(m.pgid, 5n);
    assert.equal(m.txid, 12n);
    assert.equal(m.checksum, 0xdb2d7c500ac7834en);
    assert.equal(m.computedChecksum, m.checksum);
    assert.equal(fnv1a64(META0_3423.subarray(16, 72)), 0xdb2d7c500ac7834en);
  });

  it('encodeMeta reproduces the real meta page byte for byte, and meta 1 (txid 11) gets the documented checksum', () => {
    const m = decodeMeta(new Uint8Array(META0_3423), 0);
    const page0 = encodeMeta({ ...m, slot: 0 });
    assert.deepEqual(Buffer.from(page0.subarray(0, 80)), META0_3423);
    assert.ok(page0.subarray(80).every((b) => b === 0));
    const page1 = encodeMeta({ ...m, slot: 1, txid: 11n });
    const m1 = decodeMeta(page1, 1);
    assert.equal(m1.checksum, 0x40479922d41b10a9n); // etcd-data-dir.md §11.5
    assert.equal(decodePageHeader(page1).id, 1n);
    assert.equal(decodePageHeader(page1).flags, 0x04);
  });

  it('a two-page image of only metas opens; its root (page 4) is out of bounds of nothing it holds', () => {
    const m = decodeMeta(new Uint8Array(META0_3423), 0);
    const img = new Uint8Array(2 * 4096);
    img.set(encodeMeta({ ...m, slot: 0 }), 0);
    img.set(encodeMeta({ ...m, slot: 1, txid: 11n }), 4096);
    const db = openBolt(bytesSource(img));
    assert.equal(db.meta?.txid, 12n);
    assert.equal(db.meta?.slot, 0);
    assert.deepEqual(codes(db.findings), ['bbolt-truncated']); // pgid 5 × 4096 > 8192 bytes
    assert.deepEqual(db.buckets(), []);
    assert.deepEqual(codes(db.findings), ['bbolt-truncated', 'bbolt-page-past-eof']);
  });
});

describe('bigint-safe JSON', () => {
  it('keeps uint64 ids exact (JSON.parse would round them)', () => {
    const r = parseJsonBigInt('{"voters":[6094581469650864925],"auto_leave":false}');
    assert.ok(r.ok);
    assert.deepEqual(r.value, { voters: [6094581469650864925n], auto_leave: false });
    assert.notEqual(BigInt((JSON.parse('[6094581469650864925]') as number[])[0] as number), 6094581469650864925n);
  });
  it('member JSON with escapes and nested arrays', () => {
    const r = parseJsonBigInt('{"id":14262357235947879811,"peerURLs":["http://127.0.0.1:23795"],"name":"r\\u00e9","x":1.5e3}');
    assert.ok(r.ok);
    assert.deepEqual(r.value, { id: 14262357235947879811n, peerURLs: ['http://127.0.0.1:23795'], name: 'ré', x: 1500 });
  });
  it('reports bad input with an offset instead of throwing', () => {
    for (const bad of ['', '{', '{"a":}', '[1,]', '{"a":1} x', '"abc', '['.repeat(1000)]) {
      const r = parseJsonBigInt(bad);
      assert.equal(r.ok, false, bad.slice(0, 20));
      if (!r.ok) assert.ok(r.offset >= 0 && r.offset <= bad.length);
    }
  });
});

describe('etcd revision keys and writer guess', () => {
  it('round-trips the spec examples (rev 6.0 and tombstone 6.1)', () => {
    const put = Buffer.from('00000000000000065f0000000000000000', 'hex');
    const tomb = Buffer.from('00000000000000065f000000000000000174', 'hex');
    assert.deepEqual(decodeRevision(put), { main: 6n, sub: 0n, tombstone: false });
    assert.deepEqual(decodeRevision(tomb), { main: 6n, sub: 1n, tombstone: true });
    assert.deepEqual(Buffer.from(encodeRevision({ main: 6n, sub: 1n, tombstone: true })), tomb);
    assert.equal(decodeRevision(put.subarray(0, 16)), undefined);
  });
  it('guesses from evidence: storageVersion > term > no term', () => {
    assert.equal(guessWriter({ findings: [], storageVersion: '3.6.0', term: 2n }, ['meta']).writer, '3.6+');
    const g35 = guessWriter({ findings: [], term: 2n, confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, ['meta']);
    assert.equal(g35.writer, '3.5');
    assert.deepEqual(g35.evidence, [{ fact: 'term-present', value: 2n }, { fact: 'confState-present' }]);
    assert.equal(guessWriter({ findings: [], consistentIndex: 5n }, ['meta']).writer, '<=3.4');
    assert.equal(guessWriter({ findings: [] }, ['key']).writer, 'unknown');
  });
});

describe('snapshot-save trailer', () => {
  it('detects by size % 512 == 32, verifies SHA-256, reports a wrong or missing trailer', () => {
    const image = new Uint8Array(8192).fill(7);
    const digest = sha256Chunks([image]);
    const file = new Uint8Array(8192 + 32);
    file.set(image);
    file.set(digest, 8192);
    assert.ok(hasSnapshotTrailer(file.length));
    assert.ok(!hasSnapshotTrailer(image.length));
    const good = verifySnapshotTrailer(bytesSource(file), sha256Chunks);
    assert.equal(good.ok, true);
    assert.equal(good.imageSize, 8192);
    file[100] = 8;
    const bad = verifySnapshotTrailer(bytesSource(file), sha256Chunks);
    assert.equal(bad.ok, false);
    assert.deepEqual(codes(bad.findings), ['bbolt-snapshot-hash-mismatch']);
    const none = verifySnapshotTrailer(bytesSource(image), sha256Chunks);
    assert.deepEqual(none.findings, [{ code: 'bbolt-snapshot-no-trailer', offset: 8192, found: 0 }]);
  });
});
