import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrameSize, encodeFrameSize, frameBytes, hasZeroSector } from '../../../src/format/wal/frame.js';

describe('frame size word', () => {
  it('round-trips every length 0..4096 and a few large ones', () => {
    for (const n of [...Array.from({ length: 4097 }, (_, i) => i), 10 * 1024 * 1024, 2 ** 40 + 3]) {
      const { word, padBytes } = encodeFrameSize(n);
      const d = decodeFrameSize(word, 0);
      assert.equal(d.recBytes, n);
      assert.equal(d.padBytes, padBytes);
      assert.equal((n + padBytes) % 8, 0);
      assert.equal(frameBytes(n), 8 + n + padBytes);
      assert.ok(d.wellFormed);
    }
  });

  it('decodes the words real etcd 3.4.23 wrote (spec etcd-data-dir.md §11.1)', () => {
    // N=4 P=4 (crc record), N=32 P=0 (metadata), N=117 P=3 (first ConfChange entry)
    const cases: [number[], number, number][] = [
      [[0x04, 0, 0, 0, 0, 0, 0, 0x84], 4, 4],
      [[0x20, 0, 0, 0, 0, 0, 0, 0x00], 32, 0],
      [[0x75, 0, 0, 0, 0, 0, 0, 0x83], 117, 3],
    ];
    for (const [bytes, n, p] of cases) {
      const d = decodeFrameSize(Uint8Array.from(bytes), 0);
      assert.equal(d.recBytes, n);
      assert.equal(d.padBytes, p);
      assert.deepEqual(encodeFrameSize(n).word, Uint8Array.from(bytes));
    }
  });

  it('flags words etcd never writes', () => {
    const bad = decodeFrameSize(Uint8Array.from([0x05, 0, 0, 0, 0, 0, 0, 0x82]), 0); // pad 2 for N=5 (should be 3)
    assert.equal(bad.wellFormed, false);
    const bits = decodeFrameSize(Uint8Array.from([0x08, 0, 0, 0, 0, 0, 0, 0x08]), 0); // bit 59 set
    assert.equal(bits.wellFormed, false);
    const huge = decodeFrameSize(Uint8Array.from([0, 0, 0, 0, 0, 0, 0x01, 0]), 0); // 2^48
    assert.equal(huge.recBytes, 2 ** 48);
    assert.equal(huge.word, 2n ** 48n);
  });
});

describe("etcd's torn-write test", () => {
  it('is torn when a sector-aligned piece is all zeros', () => {
    const buf = new Uint8Array(1024).fill(1);
    buf.fill(0, 512 - 100, 1024 - 100); // file offset 100: the piece [412, 924) is file sector [512, 1024)
    assert.equal(hasZeroSector(buf, 100), true);
  });
  it('is not torn when zeros straddle a sector without covering a piece', () => {
    const buf = new Uint8Array(1024).fill(1);
    buf.fill(0, 300, 700); // covers no whole piece for file offset 100
    assert.equal(hasZeroSector(buf, 100), false);
  });
  it('counts a short all-zero first piece (the record ends before the next sector)', () => {
    assert.equal(hasZeroSector(new Uint8Array(24), 1872 + 8), true);
    assert.equal(hasZeroSector(Uint8Array.from([0, 0, 1]), 0), false);
  });
});
