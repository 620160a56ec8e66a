// BoltDb.seek looks a key up as bbolt's cursor does (binary search down the tree). On a tree in
// order it must find every key a walk meets, in every bucket of real etcd dbs (a multi-level `key`
// tree with overflow pages in v35-segments, inline buckets in v35-workload) and of auger's db; a key
// between two others lands on the next, past a leaf's end on the next leaf's first (Cursor.Seek).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openBoltFile } from '../../../src/io/bolt-file.js';
import { loadFixture } from '../../support/fixtures.js';
import { externalFile } from '../../support/external.js';

function check(path: string): number {
  const { db, close } = openBoltFile(path);
  let seeks = 0;
  try {
    for (const ref of db.bucketRefs()) {
      const items = [...db.bucketItems(ref)];
      items.forEach((item, i) => {
        assert.deepEqual(db.seek(ref, item.key, { next: false })?.key, item.key);
        // one byte more than this key sorts before the next key: Cursor.Seek lands on that
        const after = Buffer.concat([item.key, Buffer.from([0])]);
        assert.deepEqual(db.seek(ref, after, { next: true })?.key, items[i + 1]?.key, `after item ${i} of ${ref.name}`);
        seeks += 2;
      });
      const b = db.seek(undefined, ref.name, { next: false });
      assert.deepEqual(b?.key, ref.name, 'tx.Bucket finds the bucket');
    }
    const ci = db.etcdGet('meta', 'consistent_index');
    assert.equal(ci?.value.length, 8, 'etcd reads an 8-byte consistent index');
  } finally {
    close();
  }
  return seeks;
}

describe('BoltDb.seek', () => {
  for (const name of ['v35-segments', 'v35-workload', 'v36-k8s-txn']) {
    it(`finds every key of ${name} a walk meets`, async () => {
      const fx = await loadFixture(name);
      try {
        assert.ok(check(join(fx.dir, 'member/snap/db')) > 100);
      } finally {
        fx.cleanup();
      }
    });
  }
  it("finds every key of auger's db a walk meets", (t) => {
    const p = externalFile(t, 'auger/boltdb/db');
    if (p) assert.ok(check(p) >= 10); // ten items in all
  });
});
