import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crcHex } from '../../src/export/ndjson.js';

describe('crcHex', () => {
  it('writes a record crc as 0x and the 8 hex digits of its unsigned value', () => {
    const values = [0, 1, 0xf, 0x10, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xffffffff, -1, -0x80000000, 0xdecb411c];
    let x = 0x9e3779b9;
    for (let i = 0; i < 100000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0; // an LCG: every bit pattern, reproducibly
      values.push(x);
    }
    for (const v of values) assert.equal(crcHex(v), '0x' + (v >>> 0).toString(16).padStart(8, '0'), `${v}`);
  });
});
