// The segment decoder on a real segment (etcd 3.5.30, fixture v35-workload) and on copies of it
// damaged in the test the ways the issue lists: a length field claiming 2^56 bytes, a 0-byte
// segment, a record cut mid-varint, a flipped bit with valid records after it.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReadWindow, bytesSource } from '../../../src/format/bytes.js';
import { type SegmentEvent, type SegmentSummaryEvent, decodeSegment } from '../../../src/format/wal/decoder.js';
import { loadFixture } from '../../support/fixtures.js';

function run(bytes: Uint8Array, salvage = false): { records: number; end: SegmentSummaryEvent; salvaged: SegmentEvent[] } {
  let records = 0;
  let end: SegmentSummaryEvent | undefined;
  const salvaged: SegmentEvent[] = [];
  for (const ev of decodeSegment(new ReadWindow(bytesSource(bytes), 1 << 16), { crc: 0, salvage })) {
    if (ev.kind === 'record') records++;
    else if (ev.kind === 'end') end = ev;
    else salvaged.push(ev);
  }
  assert.ok(end);
  return { records, end, salvaged };
}

describe('decodeSegment', () => {
  let seg: Uint8Array = new Uint8Array(0);
  let clean: ReturnType<typeof run>;
  before(async () => {
    const fx = await loadFixture('v35-workload');
    try {
      seg = new Uint8Array(readFileSync(join(fx.dir, 'member/wal/0000000000000000-0000000000000000.wal')));
    } finally {
      fx.cleanup();
    }
    clean = run(seg);
  });

  it('reads a healthy preallocated segment to its zero end marker', () => {
    assert.equal(seg.length, 64_000_000);
    assert.equal(clean.end.end.kind, 'zero-length');
    assert.ok(clean.records > 400);
    if (clean.end.end.kind === 'zero-length') assert.equal(clean.end.end.nonZeroAfter, undefined);
  });

  it('a length word claiming 2^56 bytes ends the data there, without allocating', () => {
    const bad = Uint8Array.from(seg.subarray(0, clean.end.end.offset + 4096));
    const off = clean.end.end.offset;
    bad.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00], off);
    const before = process.memoryUsage().arrayBuffers;
    const r = run(bad, true);
    assert.equal(r.end.end.kind, 'oversized');
    assert.equal(r.end.end.offset, off);
    if (r.end.end.kind === 'oversized') assert.equal(r.end.end.frame.word, 2n ** 56n - 1n);
    assert.equal(r.records, clean.records);
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20);
  });

  it('a 0-byte segment is just an end', () => {
    const r = run(new Uint8Array(0));
    assert.equal(r.records, 0);
    assert.deepEqual(r.end.end, { kind: 'eof', offset: 0 });
  });

  it('a record cut mid-varint is reported at its frame, and the bytes before it are good', () => {
    // Cut the 20th record after its length word and 3 bytes: inside Record.crc's varint.
    let off = 0;
    for (let i = 0; i < 20; i++) {
      const lo = new DataView(seg.buffer, seg.byteOffset + off, 8).getUint32(0, true);
      const hi = new DataView(seg.buffer, seg.byteOffset + off, 8).getUint32(4, true);
      const n = lo + (hi & 0xffffff) * 2 ** 32;
      const p = hi >>> 31 ? (hi >>> 24) & 7 : 0;
      off += 8 + n + p;
    }
    const cut = seg.slice(0, off + 8 + 3);
    const r = run(cut);
    assert.equal(r.records, 20);
    assert.equal(r.end.end.kind, 'oversized'); // the frame needs more bytes than the file has
    assert.equal(r.end.end.offset, off);
  });

  it('a flipped bit mid-log: crc mismatch there, and the records after it still chain', () => {
    const bad = Uint8Array.from(seg.subarray(0, clean.end.end.offset + 512));
    // Flip a bit inside the payload of a record about halfway through.
    let off = 0;
    let recs = 0;
    while (recs < Math.floor(clean.records / 2)) {
      const v = new DataView(bad.buffer, off, 8);
      const n = v.getUint32(0, true) + (v.getUint32(4, true) & 0xffffff) * 2 ** 32;
      const hi = v.getUint32(4, true);
      off += 8 + n + (hi >>> 31 ? (hi >>> 24) & 7 : 0);
      recs++;
    }
    bad[off + 8 + 12]! ^= 0x04;
    const r = run(bad, true);
    assert.equal(r.end.end.offset, off);
    assert.ok(['crc-mismatch', 'decode-error'].includes(r.end.end.kind), r.end.end.kind);
    const chained = r.salvaged.filter((e) => e.kind === 'salvaged' && e.chained).length;
    // Every record after the damaged one is found again and validates against the one before.
    assert.equal(chained, clean.records - recs - 1);
  });
});
