// Real bbolt files written by other projects, read in place from shared/external:
//  - auger/boltdb/db: etcd-io/auger cmd/testdata/boltdb/db (commit dd03329b), a db written by an etcd
//    of cluster version 3.2 holding a small Kubernetes cluster; keys.txt lists its keys and
//    page2item*.bin are the raw values of the leaf items on its page 2.
//  - etcd/corrupted_backup.db: etcd-io/etcd tests/integration/snapshot/testdata/corrupted_backup.db
//    (commit c34dc7ee), which etcd's own TestCorruptedBackupFileCheck expects to fail the integrity
//    check with "page 3: already freed" and "page 4: unreachable unfreed".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, readEtcdMeta, readMembers, snapshotStatus, summarizeKeys, guessWriter, decodeRevision, ETCD_BUCKETS } from '../../../src/format/bbolt/index.js';
import { openBoltFile } from '../../../src/io/bolt-file.js';
import { decodeOk } from '../../support/proto.js';
import { codes, externalFile, hex, text } from './helpers.js';

describe('auger boltdb/db (real etcd 3.2-era db)', () => {
  it('opens with both metas valid and uses the newer one (txid 3)', (t) => {
    const path = externalFile(t, 'auger/boltdb/db');
    if (!path) return;
    const { db, close, trailer } = openBoltFile(path);
    try {
      assert.equal(trailer, undefined); // 20,480 bytes: a raw db, no snapshot-save trailer
      assert.deepEqual(db.metaValid, [true, true]);
      assert.equal(db.meta?.slot, 1);
      assert.equal(db.meta?.txid, 3n);
      assert.equal(db.metas[0]?.txid, 2n);
      assert.equal(db.pageSize, 4096);
      assert.equal(db.highWater, 5);
      assert.equal(db.meta?.root, 4n);
      assert.deepEqual(db.findings, []);
    } finally {
      close();
    }
  });

  it('reads every bucket; the key bucket holds exactly the keys of keys.txt, in revision order', (t) => {
    const path = externalFile(t, 'auger/boltdb/db');
    const keysTxt = externalFile(t, 'auger/boltdb/keys.txt');
    if (!path || !keysTxt) return;
    const { db, close } = openBoltFile(path);
    try {
      assert.deepEqual(db.buckets(), [...ETCD_BUCKETS]);
      const counts = Object.fromEntries(db.buckets().map((b) => [b, [...db.items(b)].length]));
      assert.deepEqual(counts, { alarm: 0, auth: 1, authRoles: 0, authUsers: 0, cluster: 1, key: 4, lease: 0, members: 1, members_removed: 0, meta: 3 });
      const items = [...db.items('key')];
      const revs = items.map((i) => decodeRevision(i.key));
      assert.deepEqual(revs.map((r) => r?.main), [4n, 82702n, 82703n, 232274n]);
      const userKeys = items.map((i) => text(decodeOk('mvccpb.KeyValue', i.value)['key'] as Uint8Array));
      assert.deepEqual(userKeys, ['/registry/namespaces/default', '/registry/pods/default/pi-dqtsw', '/registry/jobs/default/pi', 'compact_rev_key']);
      const expected = readFileSync(keysTxt, 'utf8').split('\n').filter((l) => l !== '');
      assert.deepEqual([...userKeys].sort(), expected);
      assert.deepEqual(db.findings, []);
    } finally {
      close();
    }
  });

  it('page 2 items are byte-identical to page2item*.bin and match their summaries', (t) => {
    const path = externalFile(t, 'auger/boltdb/db');
    if (!path) return;
    const dir = join(path, '..');
    const { db, close } = openBoltFile(path);
    try {
      const page2 = [...db.items('key')].filter((i) => i.pgid === 2);
      assert.equal(page2.length, 4);
      for (const n of [0, 1, 2]) {
        const item = page2[n];
        assert.ok(item);
        assert.equal(item.index, n);
        assert.deepEqual(Buffer.from(item.value), readFileSync(join(dir, `page2item${n}.bin`)));
        const kv = decodeOk('mvccpb.KeyValue', item.value);
        assert.equal(text(kv['key'] as Uint8Array), readFileSync(join(dir, `page2item${n}-key.txt`), 'utf8').trim());
        const summary = Object.fromEntries(
          readFileSync(join(dir, `page2item${n}-summary.txt`), 'utf8')
            .split('\n')
            .filter((l) => l.includes(': '))
            .map((l) => l.split(': ') as [string, string]),
        );
        assert.equal(String(kv['version'] ?? 0n), summary['Version']);
        assert.equal(String(kv['createRevision'] ?? 0n), summary['CreateRevision']);
        assert.equal(String(kv['modRevision'] ?? 0n), summary['ModRevision']);
        assert.equal(String(kv['lease'] ?? 0n), summary['Lease']);
        // The bbolt key is the mod revision.
        assert.equal(decodeRevision(item.key)?.main, kv['modRevision'] ?? 0n);
      }
    } finally {
      close();
    }
  });

  it('etcd buckets: consistent index, compaction, cluster version, member id beyond 2^53', (t) => {
    const path = externalFile(t, 'auger/boltdb/db');
    if (!path) return;
    const { db, close } = openBoltFile(path);
    try {
      const meta = readEtcdMeta(db);
      assert.equal(meta.consistentIndex, 698493n);
      assert.equal(meta.term, undefined);
      assert.equal(meta.scheduledCompactRev, 241828n);
      assert.equal(meta.finishedCompactRev, 241828n);
      assert.equal(meta.clusterVersion, '3.2.0');
      assert.equal(meta.authRevision, 1n);
      assert.deepEqual(meta.findings, []);
      const m = readMembers(db);
      assert.equal(m.members.length, 1);
      assert.equal(m.members[0]?.id, 3422665156528897914n);
      assert.equal(m.members[0]?.id.toString(16), m.members[0]?.key); // key = hex id, no padding
      assert.equal(m.members[0]?.name, 'default');
      assert.deepEqual(m.members[0]?.peerURLs, ['https://kubernetes-master:2380']);
      const g = guessWriter(meta, db.buckets());
      assert.equal(g.writer, '<=3.4');
      assert.deepEqual(g.evidence, [{ fact: 'no-term' }, { fact: 'clusterVersion', value: '3.2.0' }]);
      const ks = summarizeKeys(db);
      assert.equal(ks.revisions, 4);
      assert.equal(ks.lastRevision?.main, 232274n);
    } finally {
      close();
    }
  });

  it('check: its meta names page 2 as the freelist, but page 2 is the key bucket leaf', (t) => {
    // Real bbolt (etcdutl 3.5.30) panics here: "invalid freelist page: 2, page type is leaf".
    const path = externalFile(t, 'auger/boltdb/db');
    if (!path) return;
    const { db, close } = openBoltFile(path);
    try {
      const r = check(db);
      assert.deepEqual(r.findings, [
        { code: 'bbolt-bad-freelist', pgid: 2, offset: 2 * 4096 + 8, reason: 'type', found: 0x02 },
        { code: 'bbolt-page-multiple-references', pgid: 2, offset: 2 * 4096 },
        { code: 'bbolt-page-unreachable-unfreed', pgid: 3, offset: 3 * 4096 },
      ]);
      const st = snapshotStatus(db);
      assert.equal(st.integrityOk, false);
      assert.equal(st.revision, 232274n);
      assert.equal(st.totalKey, 10);
      assert.equal(st.totalSize, 20480);
    } finally {
      close();
    }
  });
});

describe('etcd corrupted_backup.db', () => {
  it('reports the same damage as etcd (page 3 already freed, page 4 unreachable unfreed) without throwing', (t) => {
    const path = externalFile(t, 'etcd/corrupted_backup.db');
    if (!path) return;
    const { db, close, trailer } = openBoltFile(path);
    try {
      assert.equal(trailer, undefined);
      assert.deepEqual(db.metaValid, [true, true]);
      assert.equal(db.meta?.txid, 11n);
      const r = check(db);
      assert.deepEqual(r.findings, [
        { code: 'bbolt-page-already-freed', pgid: 3, offset: 3 * 4096 },
        { code: 'bbolt-page-unreachable-unfreed', pgid: 4, offset: 4 * 4096 },
      ]);
      assert.equal(r.freelistPersisted, true);
      const st = snapshotStatus(db);
      assert.equal(st.integrityOk, false); // etcd: "snapshot file integrity check failed. 2 errors found."
      assert.deepEqual(codes(st.findings), ['bbolt-page-already-freed', 'bbolt-page-unreachable-unfreed']);
      // Its trees are still readable: the data is there, only the page accounting is wrong.
      assert.deepEqual(db.buckets().length, 10);
      assert.equal(st.revision, 2n);
      assert.equal(st.totalKey, 7);
      const m = readMembers(db);
      assert.deepEqual(
        m.members.map((x) => [x.name, x.key, x.id]),
        [
          ['infra1', '8211f1d0f64f3269', 0x8211f1d0f64f3269n],
          ['infra2', '91bc3c398fb3c146', 0x91bc3c398fb3c146n],
          ['infra3', 'fd422379fda50e48', 0xfd422379fda50e48n],
        ],
      );
      assert.equal(hex(db.get('meta', 'consistent_index') ?? new Uint8Array()), '0000000000000009');
    } finally {
      close();
    }
  });
});
