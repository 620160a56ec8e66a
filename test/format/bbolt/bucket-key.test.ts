// etcd 3.6+'s BytesToBucketKey, as the restore simulation reads revision keys (etcd-restore.ts), and
// Go's %q of a byte in its panic text. goQuoteByte was compared with Go 1.26's fmt.Sprintf("%q",
// byte(b)) for all 256 bytes (equal); the cases below are one of each kind of answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bucketKeyProblem, goQuoteByte } from '../../../src/format/bbolt/etcd-restore.js';

function rev(main: bigint, sub: bigint, sep = 0x5f, tail: number[] = []): Uint8Array {
  const b = Buffer.alloc(17 + tail.length);
  b.writeBigUInt64BE(BigInt.asUintN(64, main), 0);
  b[8] = sep;
  b.writeBigUInt64BE(BigInt.asUintN(64, sub), 9);
  tail.forEach((x, i) => (b[17 + i] = x));
  return b;
}

describe('BytesToBucketKey (etcd 3.6+)', () => {
  it('takes 17 bytes, and 18 whatever the last is; refuses other lengths, another separator, a negative revision', () => {
    assert.equal(bucketKeyProblem(rev(5n, 0n)), undefined);
    assert.equal(bucketKeyProblem(rev(5n, 0n, 0x5f, [0x74])), undefined);
    assert.equal(bucketKeyProblem(rev(5n, 0n, 0x5f, [0x41])), undefined, 'an 18th byte other than t: a put to BytesToBucketKey');
    assert.deepEqual(bucketKeyProblem(rev(5n, 0n).subarray(0, 16)), { kind: 'length', length: 16 });
    assert.deepEqual(bucketKeyProblem(rev(5n, 0n, 0x5f, [0x74, 0])), { kind: 'length', length: 19 });
    assert.deepEqual(bucketKeyProblem(rev(5n, 0n, 0x7f)), { kind: 'separator', byte: 0x7f });
    assert.deepEqual(bucketKeyProblem(rev(5n, -1n)), { kind: 'negative', main: 5n, sub: -1n });
    assert.deepEqual(bucketKeyProblem(rev(-2n, 3n)), { kind: 'negative', main: -2n, sub: 3n });
  });
});

describe("Go's %q of a byte", () => {
  it('as Go prints it: printable as is, named escapes, \\x below 0x80, \\u for the C1 controls, NBSP and the soft hyphen', () => {
    const go: [number, string][] = [
      [0x00, "'\\x00'"], [0x07, "'\\a'"], [0x09, "'\\t'"], [0x0a, "'\\n'"], [0x1f, "'\\x1f'"], [0x20, "' '"], [0x27, "'\\''"],
      [0x4f, "'O'"], [0x5c, "'\\\\'"], [0x5f, "'_'"], [0x7f, "'\\x7f'"], [0x80, "'\\u0080'"], [0x9f, "'\\u009f'"],
      [0xa0, "'\\u00a0'"], [0xa1, "'¡'"], [0xad, "'\\u00ad'"], [0xdf, "'ß'"], [0xff, "'ÿ'"],
    ];
    for (const [b, want] of go) assert.equal(goQuoteByte(b), want, `0x${b.toString(16)}`);
  });
});
