// `wal-doctor rebuild --from <data dir>` on real etcd 3.5.30 dirs: etcd starts on the result and
// serves what the db held, and every write the db never applied is in unapplied.ndjson instead of
// vanishing. v35-crash: etcd was killed right after its last acknowledged write, so the WAL holds
// an entry the db never got. v35-bitflip-mid and v35-garbage-tail: etcd refuses the dir (walpb:
// crc mismatch), the db holds everything. v35-db-ahead: the WAL is cut below the db's consistent
// index (etcd would start and then skip new writes).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli as cli } from '../support/cli.js';
import { loadFixture } from '../support/fixtures.js';
import { bootEtcd, etcdBin, getAll, put } from '../support/etcd.js';
import { ExportLine } from '../../src/export/ndjson-schema.js';
import { keyRanges } from '../../src/format/payload/keys.js';
import { externalFile } from '../support/external.js';

describe('rebuild --from a damaged data dir', () => {
  for (const name of ['v35-crash', 'v35-bitflip-mid', 'v35-garbage-tail', 'v35-db-ahead']) {
    it(`${name}: etcd serves the db's keys; what the db never applied is in unapplied.ndjson`, async (t) => {
      if (!(await etcdBin('3.5'))) {
        t.skip('etcd 3.5 binary not available: this test was NOT run');
        return;
      }
      const fx = await loadFixture(name);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-rebuild-'));
      try {
        const out = join(work, 'new');
        const r = cli(['rebuild', '--json', '--from', fx.dir, '--out', out, '--name', 'default', '--initial-cluster', 'default=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380']);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const res = JSON.parse(r.stdout) as { unapplied: { path: string; entries: number } | null; consistentIndex: string };
        assert.ok(res.unapplied && existsSync(res.unapplied.path));
        const lines = readFileSync(res.unapplied.path, 'utf8').split('\n').filter(Boolean).map((l) => ExportLine.parse(JSON.parse(l)));
        assert.equal(lines.length, res.unapplied.entries);
        assert.ok(lines.every((l) => BigInt(l.index!) > BigInt(res.consistentIndex)));
        const pending = new Set<string>();
        for (const l of lines) for (const kr of l.payload ? keyRanges(l.payload) : []) pending.add(Buffer.from(kr.key).toString());
        if (name === 'v35-crash') assert.ok(lines.length > 0, 'the crash left a write the db never got');
        else assert.equal(lines.length, 0, `the db of ${name} had applied everything`);
        assert.equal(cli(['verify', out]).code, 0);

        const e = await bootEtcd('3.5', out, { args: ['--initial-cluster', 'default=http://127.0.0.1:2380'] });
        assert.ok(e.ok, `${e.error}\n${e.logTail}`);
        try {
          const served = (await getAll(e.endpoint)).kvs;
          // Every key is served exactly as the manifest says, unless its last write is one the db
          // never applied — and then that write is in unapplied.ndjson.
          for (const k of fx.manifest.keys) {
            const got = served.get(k.key);
            const exact = k.present ? got !== undefined && (k.value === undefined || got.value.toString() === k.value) : got === undefined;
            assert.ok(exact || pending.has(k.key), `${k.key}: served ${got ? 'a different value' : 'nothing'} and no unapplied entry touches it`);
          }
          await put(e.endpoint, '/after-rebuild', 'ok');
          assert.equal((await getAll(e.endpoint)).kvs.get('/after-rebuild')?.value.toString(), 'ok');
        } finally {
          await e.stop();
        }
      } finally {
        fx.cleanup();
        rmSync(work, { recursive: true, force: true });
      }
    });
  }

  it("auger's Kubernetes db (etcdutl panics on its freelist): rebuilt by walking the tree, etcd 3.5 serves every key of keys.txt", async (t) => {
    // ../shared/external/auger/boltdb/db is etcd-io/auger cmd/testdata/boltdb/db, read in place.
    const db = externalFile(t, 'auger/boltdb/db');
    const keysTxt = externalFile(t, 'auger/boltdb/keys.txt');
    if (!db || !keysTxt) return;
    if (!(await etcdBin('3.5'))) {
      t.skip('etcd 3.5 binary not available: this test was NOT run');
      return;
    }
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-rebuild-'));
    try {
      const out = join(work, 'new');
      const r = cli(['rebuild', '--skip-hash-check', '--from', db, '--out', out, '--initial-cluster', 'default=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const e = await bootEtcd('3.5', out, { args: ['--initial-cluster', 'default=http://127.0.0.1:2380'] });
      assert.ok(e.ok, `${e.error}\n${e.logTail}`);
      try {
        const served = [...(await getAll(e.endpoint)).kvs.keys()].sort();
        const expected = readFileSync(keysTxt, 'utf8').split('\n').filter(Boolean).sort();
        assert.deepEqual(served, expected);
      } finally {
        await e.stop();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('refuses a non-empty --out and a snapshot file whose trailer does not match, changing nothing', async () => {
    const fx = await loadFixture('v35-workload');
    const work = mkdtempSync(join(tmpdir(), 'wal-doctor-rebuild-'));
    try {
      const r = cli(['rebuild', '--from', fx.dir, '--out', fx.dir]);
      assert.equal(r.code, 64, r.stderr);
      assert.match(r.stderr, /--out .* is inside .*, which it reads from/);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
      // A raw db is not a snapshot file: without a trailer, rebuilding from it as a file needs --skip-hash-check.
      const raw = cli(['rebuild', '--from', join(fx.dir, 'member/snap/db'), '--out', join(work, 'x')]);
      assert.notEqual(raw.code, 0);
      assert.match(raw.stderr, /snapshot missing hash but --skip-hash-check=false/);
      assert.equal(existsSync(join(work, 'x')), false);
      assert.equal(cli(['rebuild', '--skip-hash-check', '--from', join(fx.dir, 'member/snap/db'), '--out', join(work, 'x')]).code, 0);
    } finally {
      fx.cleanup();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
