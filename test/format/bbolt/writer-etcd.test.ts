// The proof with real etcd that the writer's files are real bbolt dbs: a fixture data dir's
// member/snap/db is replaced by its rewrite (every bucket copied through the writer, written by
// writeBoltFile), then etcd 3.4.23 / 3.5.30 boot on the dir, serve exactly the manifest's keys,
// accept a write and serve it back. And etcd's own `snapshot status` (etcdutl 3.5.30, etcdctl
// 3.4.23), which runs bbolt's integrity check, agrees with ours on the rewritten files.
// Needs the etcd binaries (scripts/etcd-bin.sh): with CI=true a missing binary fails, otherwise
// the test is skipped saying plainly that it was NOT run.
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Root } from 'protobufjs';
import { check, encodeRevision, snapshotStatus } from '../../../src/format/bbolt/index.js';
import type { BoltItem } from '../../../src/format/bbolt/writer.js';
import { descriptor } from '../../../src/format/proto/descriptor.generated.js';
import { copyDb } from '../../../src/format/bbolt/writer-copy.js';
import { openBoltFile } from '../../../src/io/bolt-file.js';
import { copyDbFile, writeBoltFile } from '../../../src/io/bolt-write.js';
import { bootEtcd, compareKeys, etcdBin, getAll, put } from '../../support/etcd.js';
import { loadFixture } from '../../support/fixtures.js';
import type { EtcdSeries, LoadedFixture } from '../../support/fixtures.js';
import { externalFile } from '../../support/external.js';

const run = promisify(execFile);

async function fixture(t: TestContext, name: string): Promise<LoadedFixture> {
  const f = await loadFixture(name);
  t.after(() => f.cleanup());
  return f;
}

/** Replace dir's member/snap/db by its rewrite; returns the writer's summary. */
function rewriteDb(dir: string): { pgid: number; fileSize: number; keys: number } {
  const path = join(dir, 'member', 'snap', 'db');
  const src = openBoltFile(path);
  try {
    assert.deepEqual(src.db.findings, []);
    // Same path: writeBoltFile builds a temp and renames it over; the open source keeps the old inode.
    const summary = writeBoltFile(path, (sink) => copyDb(src.db, sink));
    assert.equal(summary.skippedCount, 0);
    return summary;
  } finally {
    src.close();
  }
}

/** `snapshot status -w json` by the real tool of `series`; undefined (test skipped) without binaries. */
async function etcdStatus(t: TestContext, series: EtcdSeries, path: string): Promise<{ hash: number; revision: number; totalKey: number; totalSize: number } | undefined> {
  const bin = await etcdBin(series);
  if (!bin) {
    t.skip(`NOT RUN: etcd ${series} binaries not available, so etcd's snapshot status was not compared`);
    return undefined;
  }
  const tool = series === '3.4' ? 'etcdctl' : 'etcdutl';
  const { stdout } = await run(join(bin, tool), ['snapshot', 'status', '-w', 'json', path], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ETCDCTL_API: '3' },
  });
  t.diagnostic(`${tool} ${series} snapshot status ${path}: ${stdout.trim()}`);
  return JSON.parse(stdout) as { hash: number; revision: number; totalKey: number; totalSize: number };
}

/** Ours on the same file must equal etcd's, field by field. */
async function assertStatusAgrees(t: TestContext, series: EtcdSeries, path: string, source?: { hash: number; revision: bigint; totalKey: number }): Promise<void> {
  const f = openBoltFile(path);
  let ours;
  try {
    assert.deepEqual(check(f.db).findings, []);
    ours = snapshotStatus(f.db);
  } finally {
    f.close();
  }
  if (source) assert.deepEqual({ hash: ours.hash, revision: ours.revision, totalKey: ours.totalKey }, source, 'the rewrite keeps the source status');
  const want = await etcdStatus(t, series, path);
  if (!want) return;
  assert.deepEqual(
    { hash: ours.hash, revision: ours.revision, totalKey: ours.totalKey, totalSize: ours.totalSize },
    { hash: want.hash, revision: BigInt(want.revision), totalKey: want.totalKey, totalSize: want.totalSize },
  );
}

function statusOf(path: string): { hash: number; revision: bigint; totalKey: number } {
  const f = openBoltFile(path);
  try {
    const s = snapshotStatus(f.db);
    return { hash: s.hash, revision: s.revision, totalKey: s.totalKey };
  } finally {
    f.close();
  }
}

const BOOTS: [string, EtcdSeries][] = [
  ['v35-workload', '3.5'],
  ['v34-workload', '3.4'],
  ['v34-workload', '3.5'],
  ['v35-segments', '3.5'],
];

describe('real etcd boots on a data dir whose db the writer rewrote', () => {
  for (const [name, series] of BOOTS) {
    it(`${name} under etcd ${series}: starts, serves exactly the manifest's keys, accepts a write`, async (t) => {
      if (!(await etcdBin(series))) {
        t.skip(`NOT RUN: etcd ${series} binary not available, so etcd was not booted on a rewritten db`);
        return;
      }
      const fx = await fixture(t, name);
      const dbPath = join(fx.dir, 'member', 'snap', 'db');
      const before = statusOf(dbPath);
      const summary = rewriteDb(fx.dir);
      assert.deepEqual(statusOf(dbPath), before);
      t.diagnostic(`${name}: rewritten db ${summary.fileSize} bytes (${summary.pgid} pages, ${summary.keys} keys)`);

      const e = await bootEtcd(series, fx.dir);
      try {
        assert.ok(e.ok, `etcd ${series} did not start on the rewritten db: ${e.error}\n${e.logTail}`);
        const { kvs, revision } = await getAll(e.endpoint, series);
        const cmp = compareKeys(kvs, fx.manifest.keys);
        assert.deepEqual([cmp.missing, cmp.wrong, cmp.extra], [[], [], []]);
        assert.equal(cmp.served, fx.manifest.keys.filter((k) => k.present).length);
        assert.equal(revision, fx.manifest.last_revision);
        await put(e.endpoint, '/wal-doctor/after-rewrite', 'written after the rewrite', series);
        const after = await getAll(e.endpoint, series);
        assert.equal(after.kvs.get('/wal-doctor/after-rewrite')?.value.toString('utf8'), 'written after the rewrite');
        assert.equal(after.revision, revision + 1);
        assert.equal(after.kvs.size, kvs.size + 1);
      } finally {
        await e.stop();
      }
      // What etcd left behind is still a clean bbolt file.
      const f = openBoltFile(dbPath);
      try {
        assert.deepEqual(check(f.db).findings, []);
      } finally {
        f.close();
      }
    });
  }
});

describe("etcd's snapshot status on rewritten dbs agrees with ours (and with the source's hash)", () => {
  for (const [name, series] of [['v35-workload', '3.5'], ['v35-segments', '3.5'], ['v34-workload', '3.4'], ['v34-workload', '3.5']] as [string, EtcdSeries][]) {
    it(`${name}: ${series === '3.4' ? 'etcdctl 3.4.23' : 'etcdutl 3.5.30'}`, async (t) => {
      const fx = await fixture(t, name);
      const src = join(fx.dir, 'member', 'snap', 'db');
      const dst = join(fx.dir, 'rewritten.db');
      copyDbFile(src, dst);
      await assertStatusAgrees(t, series, dst, statusOf(src));
    });
  }

  it('auger db (shared/external): etcdutl 3.5.30 panics on the source, accepts the rewrite', async (t) => {
    const path = externalFile(t, 'auger/boltdb/db');
    if (!path) return;
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-writer-auger-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const dst = join(work, 'db');
    copyDbFile(path, dst);
    await assertStatusAgrees(t, '3.5', dst, statusOf(path));
    // The source itself: bbolt's check panics ("invalid freelist page: 2, page type is leaf").
    const bin = await etcdBin('3.5');
    if (!bin) return;
    await assert.rejects(run(join(bin, 'etcdutl'), ['snapshot', 'status', '-w', 'json', path], { encoding: 'utf8' }), (e: { stderr?: string }) => /invalid freelist page: 2/.test(e.stderr ?? ''));
  });
});

const KeyValue = Root.fromJSON(descriptor).lookupType('mvccpb.KeyValue');
const BULK = 20_000;
const bulkKey = (i: number): string => `/wal-doctor/bulk/${String(i).padStart(6, '0')}`;

/** BULK new revisions after `last`, one put each, in revision (= key) order, made lazily. */
function* bulkRevisions(last: number): Generator<BoltItem, void, undefined> {
  for (let i = 0; i < BULK; i++) {
    const main = BigInt(last + 1 + i);
    const value = KeyValue.encode({ key: Buffer.from(bulkKey(i)), createRevision: Number(main), modRevision: Number(main), version: 1, value: Buffer.from(`value ${i}`) }).finish();
    yield { key: encodeRevision({ main, sub: 0n, tombstone: false }), value };
  }
}

describe('a 20,000-revision key bucket (a 3-level tree) in a real data dir', () => {
  for (const [name, series] of [['v35-workload', '3.5'], ['v34-workload', '3.4']] as [string, EtcdSeries][]) {
    it(`${name}: etcd ${series} boots, serves the 20,000 keys and the fixture's, accepts a write; its snapshot status agrees with ours`, async (t) => {
      if (!(await etcdBin(series))) {
        t.skip(`NOT RUN: etcd ${series} binary not available, so etcd was not booted on the 20,000-key db`);
        return;
      }
      const fx = await fixture(t, name);
      const dbPath = join(fx.dir, 'member', 'snap', 'db');
      const last = fx.manifest.last_revision;
      const src = openBoltFile(dbPath);
      let summary;
      try {
        summary = writeBoltFile(dbPath, (sink) =>
          copyDb(src.db, sink, { transform: (bucket, items) => (bucket === 'key' ? concat(items, bulkRevisions(last)) : items) }),
        );
      } finally {
        src.close();
      }
      assert.equal(summary.maxDepth, 3);
      assert.ok(summary.peakHeldBytes <= 4 * summary.pageSize, `writer held ${summary.peakHeldBytes} bytes at most`);
      await assertStatusAgrees(t, series, dbPath);
      const st = statusOf(dbPath);
      assert.equal(st.revision, BigInt(last + BULK));

      const e = await bootEtcd(series, fx.dir);
      try {
        assert.ok(e.ok, `etcd ${series} did not start: ${e.error}\n${e.logTail}`);
        const { kvs, revision } = await getAll(e.endpoint, series);
        assert.equal(revision, last + BULK);
        const cmp = compareKeys(kvs, fx.manifest.keys);
        assert.deepEqual([cmp.missing, cmp.wrong], [[], []]);
        assert.equal(cmp.extra.length, BULK);
        for (const i of [0, 1, 4999, BULK - 1]) {
          const kv = kvs.get(bulkKey(i));
          assert.equal(kv?.value.toString('utf8'), `value ${i}`);
          assert.equal(kv?.mod_revision, last + 1 + i);
        }
        assert.ok(cmp.extra.every((k) => k.startsWith('/wal-doctor/bulk/')));
        await put(e.endpoint, '/wal-doctor/after-bulk', 'ok', series);
        const after = await getAll(e.endpoint, series);
        assert.equal(after.revision, last + BULK + 1);
        assert.equal(after.kvs.get('/wal-doctor/after-bulk')?.value.toString('utf8'), 'ok');
      } finally {
        await e.stop();
      }
    });
  }
});

function* concat<T>(...parts: Iterable<T>[]): Generator<T, void, undefined> {
  for (const p of parts) yield* p;
}
