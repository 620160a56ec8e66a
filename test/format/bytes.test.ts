import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { firstNonZero } from '../../src/format/bytes.js';

const naive = (b: Uint8Array, from: number): number => {
  for (let i = from; i < b.length; i++) if (b[i] !== 0) return i;
  return -1;
};

describe('firstNonZero', () => {
  it('finds the first non-zero byte as a byte-by-byte scan does, at any offset, alignment and length', () => {
    // seeded (xorshift): lengths around the 64 KiB compare runs and the 256-byte cut-off
    let x = 0x9e3779b9;
    const rnd = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const lengths = [0, 1, 7, 255, 256, 257, 4096, 65535, 65536, 65537, 200_000];
    for (const len of lengths) {
      const backing = new Uint8Array(len + 16);
      for (let trial = 0; trial < 12; trial++) {
        backing.fill(0);
        const shift = rnd(8);
        const b = backing.subarray(shift, shift + len);
        const marks = trial % 4 === 0 ? 0 : 1 + rnd(3); // some all-zero
        for (let m = 0; m < marks && len > 0; m++) b[rnd(len)] = 1 + rnd(255);
        const from = len > 0 && trial % 3 === 0 ? rnd(len) : 0;
        assert.equal(firstNonZero(b, from), naive(b, from), `length ${len}, shift ${shift}, from ${from}`);
      }
    }
  });

  it('sees a non-zero byte in the last position of a run and in the bytes after the view', () => {
    const backing = new Uint8Array(70_000);
    const b = backing.subarray(3, 65_539);
    backing[65_539] = 9; // just past the view: not part of it
    assert.equal(firstNonZero(b), -1);
    b[65_535] = 1;
    assert.equal(firstNonZero(b), 65_535);
  });
});
