// diff on real 3-member etcd 3.5.30 clusters (fixtures v35-cluster-of-3 and v35-cluster-of-3-diverged,
// see fixtures/README.md): the KV hash we compute from each member's db is the one `etcdctl endpoint
// hashkv` gave for that member while the cluster ran; the healthy cluster is consistent; the member
// stopped while the others took writes is found behind, with the keys it lacks; and an entry changed
// in one member's WAL (same term, CRC chain re-made: etcd reads it without complaint) is corruption.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { FileSource } from '../../src/io/file-source.js';
import { walkWal } from '../../src/format/wal/walk.js';
import { diffDirs } from '../../src/diff/diff.js';
import { DiffReport } from '../../src/diff/schema.js';
import { openBoltFile } from '../../src/io/bolt-file.js';
import { hashKV } from '../../src/format/bbolt/hashkv.js';
import { readMemberLog } from '../../src/diff/member-log.js';
import { locate } from '../../src/io/layout.js';
import { inspectPath } from '../../src/inspect/analyze.js';
import { describeEntry, summarizePayload } from '../../src/format/payload/payload.js';
import { corruptPutValue, loadCluster } from './cluster-fixture.js';
import { loadFixture } from '../support/fixtures.js';
import { diffReport, renderDiff } from '../../src/cli/render/diff.js';

function ourHash(dataDir: string, revision: number): { hash: number; compactRevision: bigint } {
  const bolt = openBoltFile(join(dataDir, 'member', 'snap', 'db'));
  try {
    const h = hashKV(bolt.db, { revision: BigInt(revision) });
    return { hash: h.hash, compactRevision: h.compactRevision };
  } finally {
    bolt.close();
  }
}

describe('KV hash = etcdctl endpoint hashkv, per member of a real cluster', () => {
  for (const name of ['v35-cluster-of-3', 'v35-cluster-of-3-diverged', 'v35-cluster-of-3-term-split', 'v35-cluster-of-3-rejoined']) {
    it(name, () => {
      const fx = loadCluster(name);
      try {
        const recorded = [...Object.entries(fx.manifest.hashkv), ...Object.entries(fx.manifest.hashkv_at_common_revision ?? {}), ...Object.entries(fx.manifest.hashkv_final ?? {}), ...Object.entries(fx.manifest.hashkv_rejoined ?? {})];
        assert.ok(recorded.length >= 3);
        for (const [member, rec] of recorded) {
          const ours = ourHash(fx.dir(member), rec.revision);
          assert.equal(ours.hash, rec.hash, `${name} member ${member} at revision ${rec.revision}`);
          assert.equal(ours.compactRevision, BigInt(rec.compact_revision));
        }
      } finally {
        fx.cleanup();
      }
    });
  }
});

describe('diff', () => {
  it('a cluster stopped cleanly together is consistent', () => {
    const fx = loadCluster('v35-cluster-of-3');
    try {
      const r = DiffReport.parse(diffReport(diffDirs(['a', 'b', 'c'].map(fx.dir))));
      assert.equal(r.status, 'consistent', r.headline);
      assert.equal(r.exitCode, 0);
      assert.equal(r.log.firstDivergence, null);
      assert.deepEqual(r.log.lacking, []);
      assert.equal(r.kv.revision, String(fx.manifest.last_revision));
      assert.equal(r.kv.equal, true);
      for (const m of r.members) assert.equal(m.db?.hashKV?.hash, fx.manifest.hashkv['a']!.hash);
      assert.deepEqual(r.members.map((m) => m.memberId), fx.manifest.members.map((m) => m.id));
      assert.deepEqual(r.members.map((m) => m.db?.revision), ['a', 'b', 'c'].map(() => String(fx.manifest.last_revision)));
      assert.deepEqual(r.members.map((m) => m.db?.compactRevision), ['a', 'b', 'c'].map(() => String(fx.manifest.compact_revision)));
    } finally {
      fx.cleanup();
    }
  });

  it('the member stopped while the others took writes is behind, from its last index on, and the keys it lacks are named', () => {
    const fx = loadCluster('v35-cluster-of-3-diverged');
    try {
      const r = DiffReport.parse(diffReport(diffDirs(['a', 'b', 'c'].map(fx.dir))));
      const [a, b, c] = r.members;
      assert.equal(r.status, 'behind', 'stopped, not corrupt');
      assert.equal(r.exitCode, 3);
      assert.deepEqual(r.problems.map((p) => [p.kind, p.members]), [['behind', [fx.dir('c')]]]);
      const d = r.log.firstDivergence!;
      assert.equal(d.kind, 'missing');
      assert.equal(d.index, String(BigInt(c!.wal.lastIndex!) + 1n));
      assert.deepEqual(d.lacking, [fx.dir('c')]);
      assert.match(d.entries[0]!.summary, /^PUT \/fixture\/after-c-stopped\/000 /);
      assert.deepEqual(r.log.lacking, [{ member: fx.dir('c'), from: d.index, to: a!.wal.lastIndex!, where: 'after-last' }]);
      assert.equal(a!.wal.lastIndex, b!.wal.lastIndex);
      assert.equal(r.log.conflicts.term + r.log.conflicts.data, 0);
      // every key written after c stopped, and no other but the marker
      const then = fx.manifest.workload.then!;
      const after = fx.manifest.keys.filter((k) => (k.mod_revision ?? k.deleted_revision ?? 0) >= then.first_revision_c_lacks).map((k) => k.key).sort();
      assert.ok(after.length >= 19);
      assert.deepEqual([...r.log.keys].sort(), after);
      // dbs: c stopped at the revision it had; the KV hash at the common revision agrees
      assert.equal(r.kv.revision, String(then.c_stopped_at_revision));
      assert.equal(r.kv.equal, true);
      assert.equal(c!.db!.revision, String(then.c_stopped_at_revision));
      assert.equal(a!.db!.revision, String(then.last_revision));
      assert.equal(c!.db!.hashKV!.hash, fx.manifest.hashkv['c']!.hash);
      // at a's final revision (which c does not have) the hashes differ, and a's is etcdctl's
      const at = diffDirs(['a', 'b', 'c'].map(fx.dir), { revision: BigInt(then.last_revision) });
      assert.equal(at.kv.equal, false);
      assert.equal(at.members[0]!.db!.hashKV!.hash, fx.manifest.hashkv['a']!.hash);
    } finally {
      fx.cleanup();
    }
  });

  it('a real raft split: the old leader\'s uncommitted entry against the new leader\'s entry at the same index is a term divergence', () => {
    const fx = loadCluster('v35-cluster-of-3-term-split');
    try {
      const then = fx.manifest.workload.then!;
      const names = ['a', 'b', 'c'];
      const old = names.indexOf(then.old_leader);
      const r = DiffReport.parse(diffReport(diffDirs(names.map(fx.dir))));
      assert.equal(r.status, 'split');
      assert.equal(r.exitCode, 4);
      assert.deepEqual(r.problems.map((p) => [p.kind, p.members]), [['split', [fx.dir(then.old_leader)]]], 'the old leader holds the tail raft replaces; it is not reported as merely behind');
      const d = r.log.firstDivergence!;
      assert.equal(d.kind, 'term');
      assert.equal(d.committed, false);
      assert.equal(d.index, r.members[old]!.wal.lastIndex);   // the old leader's last entry is the one never committed
      const oldEntry = d.entries.find((e) => e.member === fx.dir(then.old_leader))!;
      assert.match(oldEntry.summary, new RegExp(`^PUT ${then.put_to_lone_leader.key} `));
      const others = d.entries.filter((e) => e !== oldEntry);
      assert.equal(others.length, 2);
      for (const e of others) assert.ok(BigInt(e.term) > BigInt(oldEntry.term), 'the new leader\'s term is higher');
      assert.ok(BigInt(d.index) > BigInt(r.members[old]!.wal.hardState!.commit), 'above the old leader\'s commit');
      assert.equal(r.log.conflicts.committed, 0);
      assert.ok(r.log.keys.includes(then.put_to_lone_leader.key));
      for (let i = 0; i < 5; i++) assert.ok(r.log.keys.includes(`/fixture/split/after/${i}`));
      assert.deepEqual(r.log.lacking.map((l) => [l.member, l.where]), [[fx.dir(then.old_leader), 'after-last']]);
      // the uncommitted put never reached the old leader's db: the hashes agree at the split revision
      assert.equal(r.kv.revision, String(then.split_at_revision));
      assert.equal(r.kv.equal, true);
      assert.equal(r.members[old]!.db!.revision, String(then.split_at_revision));
    } finally {
      fx.cleanup();
    }
  });

  it('after the split the old leader rejoins: its WAL overwrites the uncommitted entry, replayed as etcd does, and the cluster is consistent', () => {
    const fx = loadCluster('v35-cluster-of-3-rejoined');
    try {
      const then = fx.manifest.workload.then!;
      const names = ['a', 'b', 'c'];
      const old = names.indexOf(then.old_leader);
      const r = DiffReport.parse(diffReport(diffDirs(names.map(fx.dir))));
      assert.equal(r.status, 'consistent', r.headline);
      assert.deepEqual(r.members.map((m) => m.wal.overwritten), names.map((_, i) => (i === old ? 1 : 0)));
      assert.equal(r.kv.equal, true);
      assert.equal(r.kv.revision, String(fx.manifest.last_revision));
      // the old leader's WAL holds both entries at the split index; the replayed log only the new leader's
      const a = inspectPath(fx.dir(then.old_leader));
      const log = readMemberLog(a.layout.segments, a.wal!);
      // More overwrites than the analysis keeps: the log finds them by walking, and agrees.
      const walked = readMemberLog(a.layout.segments, { ...a.wal!, maxEvents: a.wal!.overwrites.length });
      assert.equal(a.wal!.overwrites.length, 1);
      assert.deepEqual([...walked.entries()].map((e) => [e.entry.index, e.entry.term, e.offset]), [...log.entries()].map((e) => [e.entry.index, e.entry.term, e.offset]));
      assert.deepEqual([walked.count, walked.overwritten, walked.firstIndex, walked.lastIndex], [log.count, log.overwritten, log.firstIndex, log.lastIndex]);
      let prev = 0n;
      let count = 0;
      for (const e of log.entries()) {
        assert.equal(e.entry.index, prev + 1n, 'replayed indexes are consecutive');
        prev = e.entry.index;
        count++;
        const s = summarizePayload(describeEntry(e.entry));
        assert.ok(!s.includes(then.put_to_lone_leader.key), `the uncommitted put survived at index ${e.entry.index}`);
      }
      assert.equal(count, log.count);
      // ...though the WAL file still holds it (the record raft later overwrote)
      const segs = locate(fx.dir(then.old_leader)).segments.map((p) => ({ name: basename(p), source: new FileSource(p) }));
      try {
        let raw = 0;
        for (const ev of walkWal(segs)) {
          if (ev.kind === 'record' && ev.payload.type === 'entry' && summarizePayload(describeEntry(ev.payload.entry)).includes(then.put_to_lone_leader.key)) raw++;
        }
        assert.equal(raw, 1);
      } finally {
        for (const s of segs) s.source.close();
      }
    } finally {
      fx.cleanup();
    }
  });

  it('a copy whose WAL ends in damage (v35-bitflip-mid against the v35-workload it was made from) lacks everything after it', async () => {
    const good = await loadFixture('v35-workload');
    const bad = await loadFixture('v35-bitflip-mid');
    try {
      const result = diffDirs([good.dir, bad.dir]);
      const r = DiffReport.parse(diffReport(result));
      assert.equal(r.status, 'behind', 'its readable log is a prefix of the good one');
      const d = r.log.firstDivergence!;
      assert.equal(d.kind, 'missing');
      assert.deepEqual(d.lacking, [bad.dir]);
      const [g, b] = r.members;
      assert.equal(d.index, String(BigInt(b!.wal.lastIndex!) + 1n));
      assert.equal(b!.wal.endsInDamage?.offset, (bad.manifest.damage as unknown as { last_good_offset: number }).last_good_offset);
      assert.deepEqual(r.log.lacking, [{ member: bad.dir, from: d.index, to: g!.wal.lastIndex!, where: 'after-last' }]);
      assert.equal(r.log.conflicts.term + r.log.conflicts.data, 0);
      assert.equal(r.log.keysTruncated, true);
      // the dbs are the same file: same hash
      assert.equal(r.kv.equal, true);
      assert.match(renderDiff(result), /lacks index \d+\.\.\d+ \(its readable log ends before: damage in member\/wal\/0000000000000000-0000000000000000\.wal at byte \d+\)/);
    } finally {
      good.cleanup();
      bad.cleanup();
    }
  });

  it('same term, different data in one member\'s WAL (CRC chain intact) is corruption, at that index, naming the key', () => {
    const fx = loadCluster('v35-cluster-of-3');
    try {
      // a committed PUT of the workload, well inside every member's log
      let index = 0n;
      const cA = inspectPath(fx.dir('c'));
      for (const e of readMemberLog(cA.layout.segments, cA.wal!).entries()) {
        if (e.entry.index > 20n && /^PUT \/fixture\/key\//.test(summarizePayload(describeEntry(e.entry)))) {
          index = e.entry.index;
          break;
        }
      }
      assert.ok(index > 0n);
      const { key } = corruptPutValue(fx.dir('c'), index);
      const r = DiffReport.parse(diffReport(diffDirs(['a', 'b', 'c'].map(fx.dir))));
      assert.equal(r.status, 'corrupt');
      assert.equal(r.exitCode, 5);
      assert.deepEqual(r.problems.map((p) => [p.kind, p.members]), [['corrupt', [fx.dir('c')]]], 'c is the odd copy');
      const d = r.log.firstDivergence!;
      assert.equal(d.index, String(index));
      assert.equal(d.kind, 'data');
      assert.equal(d.committed, true);
      assert.equal(new Set(d.entries.map((e) => e.term)).size, 1);
      assert.deepEqual(r.log.conflicts, { term: 0, data: 1, committed: 1, first: String(index), last: String(index) });
      assert.deepEqual(r.log.keys, [key]);
      assert.deepEqual(r.log.lacking, []);
      assert.match(r.headline, /CORRUPTION/);
      // c's log still reads, but its db applied the original write: inspect sees two histories, naming the key
      const c = inspectPath(fx.dir('c'), { checkHolders: false }).report;
      assert.equal(c.verdict.status, 'needs-rebuild');
      assert.equal(c.verdict.reason['code'], 'two-histories');
      assert.deepEqual(c.reconciliation?.first.map((m) => m.key), [key]);
      assert.equal(r.members[2]!.wal.endsInDamage, null);
      assert.equal(r.members[2]!.wal.lastIndex, r.members[0]!.wal.lastIndex);
    } finally {
      fx.cleanup();
    }
  });
});
