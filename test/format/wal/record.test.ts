// walpb.Record decoding on real records (from a fixture written by etcd 3.5.30), every truncated
// prefix of them, and the protobuf errors etcd reports for damaged bytes.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord, encodeRecord, recordFailureText } from '../../../src/format/wal/record.js';
import { decodeFrameSize } from '../../../src/format/wal/frame.js';
import { loadFixture } from '../../support/fixtures.js';

/** The first `count` record payloads (without frame and padding) of a real segment. */
function realRecords(seg: Uint8Array, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (out.length < count) {
    const f = decodeFrameSize(seg, off);
    if (f.word === 0n) break;
    out.push(seg.subarray(off + 8, off + 8 + f.recBytes));
    off += 8 + f.recBytes + f.padBytes;
  }
  return out;
}

describe('walpb.Record', () => {
  let records: Uint8Array[] = [];
  before(async () => {
    const fx = await loadFixture('v35-workload');
    try {
      records = realRecords(readFileSync(join(fx.dir, 'member/wal/0000000000000000-0000000000000000.wal')), 40);
    } finally {
      fx.cleanup();
    }
  });

  it('decodes real records and re-encodes them byte for byte', () => {
    assert.ok(records.length >= 40);
    for (const b of records) {
      const r = decodeRecord(b);
      assert.ok(r.ok);
      assert.ok(r.record.type >= 1 && r.record.type <= 5);
      assert.deepEqual(Buffer.from(encodeRecord(r.record)), b);
    }
  });

  it('every truncated prefix of a record with data fails as unexpected EOF, like gogoproto', () => {
    for (const b of records.filter((x) => x.length > 8).slice(0, 10)) {
      for (let n = 1; n < b.length; n++) {
        const r = decodeRecord(b.subarray(0, n));
        // A prefix that ends exactly after the crc field is a valid record without data.
        if (r.ok) {
          assert.equal(r.record.data, undefined, `prefix ${n} of ${b.length}`);
          continue;
        }
        assert.equal(r.failure.kind, 'unexpected-eof', `prefix ${n} of ${b.length}: ${recordFailureText(r.failure)}`);
      }
    }
  });

  it('reports illegal wire types and tag 0 with etcd\'s text', () => {
    // field 4 is unknown to walpb.Record: gogoproto's skip rejects wire type 6
    const wt6 = decodeRecord(Uint8Array.from([0x08, 0x02, 0x26, 0x00]));
    assert.ok(!wt6.ok);
    assert.equal(recordFailureText(wt6.failure), 'proto: illegal wireType 6');
    // field 3 (Data) with a varint wire type
    const wt6data = decodeRecord(Uint8Array.from([0x08, 0x02, 0x1e, 0x00]));
    assert.ok(!wt6data.ok);
    assert.equal(recordFailureText(wt6data.failure), 'proto: wrong wireType = 6 for field Data');
    const tag0 = decodeRecord(Uint8Array.from([0x00, 0x00]));
    assert.ok(!tag0.ok);
    assert.equal(recordFailureText(tag0.failure), 'proto: Record: illegal tag 0 (wire type 0)');
    const wrong = decodeRecord(Uint8Array.from([0x0a, 0x00]));
    assert.ok(!wrong.ok);
    assert.equal(recordFailureText(wrong.failure), 'proto: wrong wireType = 2 for field Type');
  });

  it('never allocates from a length field: a data length of 2^35 is unexpected EOF', () => {
    const r = decodeRecord(Uint8Array.from([0x08, 0x02, 0x10, 0x00, 0x1a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
    assert.ok(!r.ok);
    assert.equal(r.failure.kind, 'unexpected-eof');
  });

  it('a type with bits above 2^32 is no record type', () => {
    const r = decodeRecord(Uint8Array.from([0x08, 0x82, 0x80, 0x80, 0x80, 0x10, 0x10, 0x00]));
    assert.ok(r.ok);
    assert.equal(r.record.type, -1);
  });
});
