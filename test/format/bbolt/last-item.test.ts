// lastItem descends the rightmost path; it must agree with a full walk on real etcd dbs (a
// multi-level tree with 1 MB values on overflow pages in v35-segments, small inline buckets in
// v35-workload) and on auger's db read in place.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openBoltFile } from '../../../src/io/bolt-file.js';
import { loadFixture } from '../../support/fixtures.js';
import { externalFile } from '../../support/external.js';

function check(path: string): void {
  const { db, close } = openBoltFile(path);
  try {
    for (const name of db.buckets()) {
      let last;
      for (const item of db.items(name)) last = item;
      const fast = db.lastItem(name);
      assert.deepEqual(fast?.key, last?.key, `bucket ${name}`);
      assert.deepEqual(fast?.value, last?.value, `bucket ${name}`);
    }
  } finally {
    close();
  }
}

describe('BoltDb.lastItem', () => {
  for (const name of ['v35-segments', 'v35-workload', 'v34-workload']) {
    it(`agrees with a full walk on every bucket of ${name}`, async () => {
      const fx = await loadFixture(name);
      try {
        check(join(fx.dir, 'member/snap/db'));
      } finally {
        fx.cleanup();
      }
    });
  }
  it("agrees with a full walk on auger's db", (t) => {
    const p = externalFile(t, 'auger/boltdb/db');
    if (p) check(p);
  });
});
