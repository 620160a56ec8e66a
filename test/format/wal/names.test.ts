import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { firstSegmentFrom, walName } from '../../../src/format/wal/names.js';

describe('firstSegmentFrom', () => {
  // Names as etcd 3.6.16 cut them in the bench's k8s dir (sequence, index of the first entry).
  const names = [[0n, 0n], [1n, 0x1fdden], [2n, 0x3fa41n], [3n, 0x5f6can]].map(([s, i]) => walName(s!, i!));

  it('is the last segment whose name index is at most the index', () => {
    assert.equal(firstSegmentFrom(names, 0n), 0);
    assert.equal(firstSegmentFrom(names, 0x1fdddn), 0);
    assert.equal(firstSegmentFrom(names, 0x1fdden), 1);
    assert.equal(firstSegmentFrom(names, 0x3fa40n), 1);
    assert.equal(firstSegmentFrom(names, 0x3fa41n), 2);
    assert.equal(firstSegmentFrom(names, 0x5f6can), 3);
    assert.equal(firstSegmentFrom(names, 1n << 62n), 3);
    assert.equal(firstSegmentFrom([], 5n), 0);
  });

  it('takes the later of two segments with the same name index (a cut with no entry between)', () => {
    assert.equal(firstSegmentFrom([walName(0n, 0n), walName(1n, 9n), walName(2n, 9n)], 9n), 2);
  });

  it('reads everything when the names are not the sequence etcd writes', () => {
    const gap = [walName(0n, 0n), walName(2n, 0x99n), walName(3n, 0x120n)];
    assert.equal(firstSegmentFrom(gap, 0x200n), 0, 'a sequence number missing');
    const down = [walName(0n, 0n), walName(1n, 0x99n), walName(2n, 0x50n)];
    assert.equal(firstSegmentFrom(down, 0x200n), 0, 'a name index going down');
    assert.equal(firstSegmentFrom([walName(0n, 0n), 'x.wal', walName(2n, 0x50n)], 0x200n), 0, 'a name that does not parse');
    assert.equal(firstSegmentFrom([walName(0n, 0n), walName(0n, 0n)], 0x200n), 0, 'the same name twice');
  });
});
