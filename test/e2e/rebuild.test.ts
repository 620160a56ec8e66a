// The restore recipe proven against real etcd: a real `etcdctl snapshot save` file from a running
// etcd, restored by us and by etcd's own tool (etcdctl 3.4.23, etcdutl 3.5.30 / 3.6.16 / 3.7.3) with
// the same flags. The WAL and .snap must be byte-identical, the db's buckets must hold the same keys and
// values (3.4: except `members`, which etcdctl 3.4 leaves stale), and real etcd must boot on our
// output, serve every key of the fixture's manifest with its revisions, and accept writes.
// A 3-member rebuild (three restores of one snapshot) must form a healthy cluster, in 3.4 to 3.7
// (3.6 and 3.7 create a multi-member .snap's v2 members in Go map order: compared without it).
//
// Needs etcd 3.4.23 / 3.5.30 / 3.6.16 / 3.7.3 (scripts/etcd-bin.sh): with CI=true a missing binary fails the test,
// otherwise the test is skipped and says that it was NOT run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { loadFixture } from '../support/fixtures.js';
import type { EtcdSeries, LoadedFixture } from '../support/fixtures.js';
import { bootEtcd, cleanEnv, compareKeys, etcdBin, getAll, put } from '../support/etcd.js';
import type { EtcdInstance } from '../support/etcd.js';
import { openBoltFile } from '../../src/io/bolt-file.js';
import { nameText } from '../../src/format/bbolt/db.js';
import { bytesSource } from '../../src/format/bytes.js';
import { walkWal } from '../../src/format/wal/walk.js';
import { UsageError } from '../../src/errors.js';
import { restoreFromFile } from '../../src/rebuild/restore.js';
import { checkSnapFile } from '../../src/format/snap/snap.js';
import type { RestoreOptions, RestoreTarget } from '../../src/rebuild/restore.js';

const run = promisify(execFile);
const WAL = join('member', 'wal', '0000000000000000-0000000000000000.wal');

const env = cleanEnv;

async function needEtcd(t: TestContext, v: EtcdSeries): Promise<string | undefined> {
  const bin = await etcdBin(v);
  if (!bin) t.skip(`etcd ${v} binary not available: this test was NOT run`);
  return bin;
}

const portFree = (port: number) =>
  new Promise<boolean>((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });

/** Free ports for peer URLs, in 25000-25999 (odd ones; bootEtcd's client/peer pairs start even). */
async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  const start = Math.floor(Math.random() * 500);
  for (let i = 0; i < 500 && out.length < n; i++) {
    const p = 25001 + ((start + i) % 500) * 2;
    if (await portFree(p)) out.push(p);
  }
  if (out.length < n) throw new Error('no free peer ports in 25000-25999');
  return out;
}

/** A real `etcdctl snapshot save` file taken from etcd `v` running on a copy of the fixture. */
async function snapshotSave(v: EtcdSeries, bin: string, fx: LoadedFixture, file: string): Promise<void> {
  const e = await bootEtcd(v, fx.dir, { timeoutMs: 30000 });
  assert.ok(e.ok, `etcd ${v} did not start on fixture ${fx.manifest.name}: ${e.error}\n${e.logTail}`);
  try {
    await run(join(bin, 'etcdctl'), [`--endpoints=${e.endpoint}`, 'snapshot', 'save', file], { env: env() });
  } finally {
    await e.stop();
  }
  assert.equal(statSync(file).size % 512, 32, 'a snapshot save file ends in a 32-byte SHA-256 trailer');
}

/** etcd's own restore of `file` with the same flags into `out`. */
async function etcdRestore(v: EtcdSeries, bin: string, file: string, o: RestoreOptions, out: string): Promise<void> {
  const tool = v === '3.4' ? join(bin, 'etcdctl') : join(bin, 'etcdutl');
  await run(tool, ['snapshot', 'restore', file, '--name', o.name, '--initial-cluster', o.initialCluster, '--initial-cluster-token', o.initialClusterToken,
    '--initial-advertise-peer-urls', o.initialAdvertisePeerUrls, '--data-dir', out], { env: env() });
}

/** Every bucket as name → [keyHex=valueHex...]. */
function dumpDb(path: string): Map<string, string[]> {
  const o = openBoltFile(path);
  try {
    const m = new Map<string, string[]>();
    for (const ref of o.db.bucketRefs()) {
      const items: string[] = [];
      for (const it of o.db.bucketItems(ref)) items.push(`${Buffer.from(it.key).toString('hex')}=${Buffer.from(it.value).toString('hex')}`);
      m.set(nameText(ref.name), items);
    }
    assert.deepEqual(o.db.findings, [], `${path}: the bbolt reader found damage`);
    return m;
  } finally {
    o.close();
  }
}

function walIds(path: string): { nodeId: bigint; clusterId: bigint } {
  const bytes = readFileSync(path);
  for (const ev of walkWal([{ name: '0000000000000000-0000000000000000.wal', source: bytesSource(bytes) }])) {
    if (ev.kind === 'record' && ev.payload.type === 'metadata') return ev.payload.metadata;
  }
  throw new Error(`${path}: no metadata record`);
}

const mode = (p: string) => statSync(p).mode & 0o777;

/** `etcdctl member list -w json`: cluster ID and member IDs as etcd reports them (hex). */
async function memberList(bin: string, endpoint: string): Promise<{ cluster: string; members: string[] }> {
  const { stdout } = await run(join(bin, 'etcdctl'), [`--endpoints=${endpoint}`, 'member', 'list', '-w', 'json'], { env: env() });
  const big = (s: string) => BigInt(s).toString(16).padStart(16, '0');
  const cluster = /"cluster_id":(\d+)/.exec(stdout)?.[1] as string;
  const members = [...stdout.matchAll(/"ID":(\d+)/g)].map((m) => big(m[1] as string)).sort();
  return { cluster: big(cluster), members };
}

const hex = (v: bigint) => v.toString(16).padStart(16, '0');

async function servesManifest(v: EtcdSeries, e: EtcdInstance, fx: LoadedFixture): Promise<void> {
  const served = await getAll(e.endpoint, v);
  const cmp = compareKeys(served.kvs, fx.manifest.keys);
  assert.deepEqual({ missing: cmp.missing, wrong: cmp.wrong, extra: cmp.extra }, { missing: [], wrong: [], extra: [] });
  assert.equal(served.revision, fx.manifest.last_revision);
}

// the release lines our rebuild targets (RestoreTarget), a subset of the lines we have binaries of
const cases: { v: RestoreTarget; fixture: string }[] = [
  { v: '3.5', fixture: 'v35-workload' },
  { v: '3.4', fixture: 'v34-workload' },
  { v: '3.6', fixture: 'v36-workload' },
  { v: '3.7', fixture: 'v37-workload' },
];

/**
 * A `.snap`'s v2 store with the creation order taken out: etcd 3.6 and 3.7 create a multi-member
 * restore's members in Go map order, which changes from run to run (3.4 and 3.5: ascending ID, as
 * ours always does). Indexes go, the event history is sorted; the raft metadata and the data's size stay.
 */
function snapWithoutCreationOrder(bytes: Uint8Array): unknown {
  const c = checkSnapFile(bytes);
  assert.ok(c.ok, 'the .snap decodes');
  const drop = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(drop);
    if (x && typeof x === 'object') {
      return Object.fromEntries(Object.entries(x).filter(([k]) => !/^(created|modified)index$/i.test(k)).map(([k, v]) => [k, drop(v)]));
    }
    return x;
  };
  const store = drop(JSON.parse(Buffer.from(c.snapshot.data ?? new Uint8Array()).toString('utf8'))) as { WatcherHub: { EventHistory: { Queue: { Events: unknown[] } } } };
  store.WatcherHub.EventHistory.Queue.Events = store.WatcherHub.EventHistory.Queue.Events.map((e) => JSON.stringify(e)).sort();
  // the file's size is not compared: its CRC varies with the order, and so its varint's length
  return { store, metadata: c.snapshot.metadata, dataBytes: c.dataBytes };
}

for (const { v, fixture } of cases) {
  describe(`rebuild from a snapshot save file, etcd ${v} (${fixture})`, () => {
    it(`matches etcd ${v}'s own restore byte for byte (WAL, .snap), bucket for bucket (db), and etcd ${v} serves it`, { timeout: 180_000 }, async (t) => {
      const bin = await needEtcd(t, v);
      if (!bin) return;
      const fx = await loadFixture(fixture);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-rebuild-'));
      try {
        const file = join(work, 'snapshot.db');
        await snapshotSave(v, bin, fx, file);
        const [peer] = await freePorts(1);
        const url = `http://127.0.0.1:${peer}`;
        const o: RestoreOptions = { name: 'r1', initialCluster: `r1=${url}`, initialClusterToken: 'tok-rebuild', initialAdvertisePeerUrls: url, target: v };
        const ours = join(work, 'ours');
        mkdirSync(ours); // an existing empty --out is accepted (and replaced)
        const res = restoreFromFile(file, o, ours);
        assert.equal(res.trailer?.ok, true);
        assert.equal(res.db.skippedCount, 0);
        const theirs = join(work, 'theirs');
        await etcdRestore(v, bin, file, o, theirs);

        // (a) the same IDs, the same bytes.
        const ids = walIds(join(theirs, WAL));
        assert.deepEqual(walIds(join(ours, WAL)), ids);
        assert.equal(res.memberId, ids.nodeId);
        assert.equal(res.clusterId, ids.clusterId);
        assert.deepEqual(readFileSync(join(ours, WAL)), readFileSync(join(theirs, WAL)));
        assert.equal(statSync(join(ours, WAL)).size, 64_000_000);
        const snap = join('member', 'snap', '0000000000000001-0000000000000001.snap');
        assert.deepEqual(readFileSync(join(ours, snap)), readFileSync(join(theirs, snap)));
        const a = dumpDb(join(ours, 'member', 'snap', 'db'));
        const b = dumpDb(join(theirs, 'member', 'snap', 'db'));
        assert.deepEqual([...a.keys()], [...b.keys()]);
        for (const [bucket, items] of b) {
          if (v === '3.4' && bucket === 'members') {
            // etcdctl 3.4 leaves the source's members (spec §7.3 step 5); we write the new one.
            assert.equal(a.get(bucket)?.length, 1);
            assert.ok(a.get(bucket)?.[0]?.startsWith(Buffer.from(res.memberId.toString(16)).toString('hex') + '='));
            assert.notDeepEqual(items, a.get(bucket));
            continue;
          }
          assert.deepEqual(a.get(bucket), items, `bucket ${bucket}`);
        }
        // modes as etcd makes them
        assert.equal(mode(ours), 0o700);
        assert.equal(mode(join(ours, 'member')), 0o700);
        assert.equal(mode(join(ours, 'member', 'wal')), 0o700);
        assert.equal(mode(join(ours, WAL)), 0o600);
        assert.equal(mode(join(ours, 'member', 'snap', 'db')), 0o600);
        assert.equal(mode(join(ours, snap)), 0o644);

        // a non-empty --out is refused, with etcdutl 3.5's text, and left as it was
        assert.throws(() => restoreFromFile(file, o, ours), (e: unknown) => e instanceof UsageError && e.message === `data-dir ${JSON.stringify(ours)} not empty or could not be read`);

        // (b) real etcd starts on it with the flags the restore docs give, serves the manifest, takes writes.
        const e = await bootEtcd(v, ours, {
          name: 'r1',
          timeoutMs: 30000,
          args: ['--listen-peer-urls', url, '--initial-advertise-peer-urls', url, '--initial-cluster', `r1=${url}`, '--initial-cluster-token', 'tok-rebuild'],
        });
        assert.ok(e.ok, `etcd ${v} did not start on the rebuilt dir: ${e.error}\n${e.logTail}`);
        try {
          await servesManifest(v, e, fx);
          assert.deepEqual(await memberList(bin, e.endpoint), { cluster: hex(res.clusterId), members: [hex(res.memberId)] });
          for (let i = 0; i < 3; i++) await put(e.endpoint, `/after-rebuild/${i}`, `value-${i}`, v);
          const after = await getAll(e.endpoint, v);
          assert.equal(after.revision, fx.manifest.last_revision + 3);
          for (let i = 0; i < 3; i++) assert.equal(after.kvs.get(`/after-rebuild/${i}`)?.value.toString(), `value-${i}`);
        } finally {
          await e.stop();
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  });
}

for (const { v, fixture } of cases) describe(`rebuild a 3-member cluster from one snapshot (etcd ${v})`, () => {
  it('three restores, one per name, form a healthy cluster that serves the manifest and replicates writes', { timeout: 240_000 }, async (t) => {
    const bin = await needEtcd(t, v);
    if (!bin) return;
    const fx = await loadFixture(fixture);
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-rebuild3-'));
    const running: EtcdInstance[] = [];
    try {
      const file = join(work, 'snapshot.db');
      await snapshotSave(v, bin, fx, file);
      const ports = await freePorts(3);
      const names = ['a', 'b', 'c'];
      const urls = ports.map((p) => `http://127.0.0.1:${p}`);
      const cluster = names.map((n, i) => `${n}=${urls[i]}`).join(',');
      const results = names.map((name, i) => {
        const o: RestoreOptions = { name, initialCluster: cluster, initialClusterToken: 'tok3', initialAdvertisePeerUrls: urls[i] as string, target: v };
        const out = join(work, name);
        const r = restoreFromFile(file, o, out);
        return { r, o, out, theirs: join(work, `${name}-etcdutl`) };
      });
      // etcd's own restore of each member: byte-identical WAL (its metadata names that member) and .snap
      for (const { r, o, out, theirs } of results) {
        await etcdRestore(v, bin, file, o, theirs);
        assert.deepEqual(readFileSync(join(out, WAL)), readFileSync(join(theirs, WAL)), `${o.name}: WAL differs from etcd's restore`);
        const snap = join('member', 'snap', '0000000000000001-0000000000000003.snap');
        if (v === '3.4' || v === '3.5') assert.deepEqual(readFileSync(join(out, snap)), readFileSync(join(theirs, snap)), `${o.name}: .snap differs from etcd's restore`);
        else assert.deepEqual(snapWithoutCreationOrder(readFileSync(join(out, snap))), snapWithoutCreationOrder(readFileSync(join(theirs, snap))), `${o.name}: .snap differs from etcd's restore`);
        assert.equal(r.clusterId, results[0]?.r.clusterId);
      }
      const boots = await Promise.all(
        results.map(({ o }, i) =>
          bootEtcd(v, join(work, o.name), {
            name: o.name,
            timeoutMs: 60000,
            args: ['--listen-peer-urls', urls[i] as string, '--initial-advertise-peer-urls', urls[i] as string, '--initial-cluster', cluster, '--initial-cluster-token', 'tok3'],
          }),
        ),
      );
      running.push(...boots);
      boots.forEach((e, i) => assert.ok(e.ok, `member ${names[i]} not healthy: ${e.error}\n${e.logTail}`));
      const [e0, e1, e2] = boots as [EtcdInstance, EtcdInstance, EtcdInstance];
      assert.deepEqual(await memberList(bin, e0.endpoint), { cluster: hex(results[0]?.r.clusterId as bigint), members: results.map((x) => hex(x.r.memberId)).sort() });
      await servesManifest(v, e1, fx);
      await put(e0.endpoint, '/after-rebuild3', 'replicated', v);
      const got = await getAll(e2.endpoint, v);
      assert.equal(got.kvs.get('/after-rebuild3')?.value.toString(), 'replicated');
      assert.equal(got.revision, fx.manifest.last_revision + 1);
    } finally {
      await Promise.all(running.map((e) => e.stop()));
      rmSync(work, { recursive: true, force: true });
      fx.cleanup();
    }
  });
});

// The case rebuild exists for: etcd refuses (or can never be healthy on) the data dir, but its db
// holds the data. Restoring from the raw `member/snap/db` (no trailer: skipHashCheck, as etcd needs
// too) gives a dir etcd starts on and that serves everything the manifest says was written.
const fromDb: { v: RestoreTarget; fixture: string; why: string }[] = [
  { v: '3.5', fixture: 'v35-bitflip-mid', why: 'etcd refuses it: walpb: crc mismatch mid-log' },
  { v: '3.5', fixture: 'v35-member-of-3', why: 'member a of a 3-member cluster, never healthy alone' },
  { v: '3.4', fixture: 'v34-torn-tail', why: 'torn WAL tail, written by 3.4' },
  { v: '3.6', fixture: 'v36-garbage-tail', why: 'etcd 3.6 refuses it: garbage after the last record' },
  { v: '3.7', fixture: 'v37-garbage-tail', why: 'etcd 3.7 refuses it: garbage after the last record' },
];

for (const { v, fixture, why } of fromDb) {
  describe(`rebuild from the db of ${fixture} (${why}), etcd ${v}`, () => {
    it('etcd starts on the rebuilt dir, serves every manifest key and accepts writes', { timeout: 120_000 }, async (t) => {
      const bin = await needEtcd(t, v);
      if (!bin) return;
      const fx = await loadFixture(fixture);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-rebuild-db-'));
      try {
        const [peer] = await freePorts(1);
        const url = `http://127.0.0.1:${peer}`;
        const out = join(work, 'out');
        const res = restoreFromFile(join(fx.dir, 'member', 'snap', 'db'), { name: 'solo', initialCluster: `solo=${url}`, initialClusterToken: 'etcd-cluster', initialAdvertisePeerUrls: url, target: v, skipHashCheck: true }, out);
        assert.equal(res.db.skippedCount, 0);
        const e = await bootEtcd(v, out, { name: 'solo', timeoutMs: 30000, args: ['--listen-peer-urls', url, '--initial-advertise-peer-urls', url, '--initial-cluster', `solo=${url}`] });
        assert.ok(e.ok, `etcd ${v} did not start on the rebuilt dir: ${e.error}\n${e.logTail}`);
        try {
          await servesManifest(v, e, fx);
          assert.deepEqual(await memberList(bin, e.endpoint), { cluster: hex(res.clusterId), members: [hex(res.memberId)] });
          await put(e.endpoint, '/after-rebuild', 'ok', v);
          const after = await getAll(e.endpoint, v);
          assert.equal(after.kvs.get('/after-rebuild')?.value.toString(), 'ok');
          assert.equal(after.revision, fx.manifest.last_revision + 1);
        } finally {
          await e.stop();
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  });
}
