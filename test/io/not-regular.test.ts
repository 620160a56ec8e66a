// A FIFO (or a socket, a symlink, a directory) where etcd keeps a segment, a .snap or the db must
// never be opened for reading: open(2) on a FIFO blocks until a writer comes, which in a crashed
// data dir is never. Each command returns promptly with a clear result naming the file, and the
// low-level readers refuse such a file even when it appears after the layout scan (the race).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError } from '../../src/errors.js';
import { openBoltFile } from '../../src/io/bolt-file.js';
import { sha256File } from '../../src/io/atomic.js';
import { FileSource } from '../../src/io/file-source.js';
import { locate } from '../../src/io/layout.js';
import { ReportJson } from '../../src/inspect/report.js';
import { runCli, treeHashes } from '../support/cli.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';

const SEG1 = 'member/wal/0000000000000001-000000000000006b.wal';
const SNAP = 'member/snap/0000000000000002-00000000000000a5.snap';
const DB = 'member/snap/db';

/** the CLI, killed after 20 s: a hang is a failure, not a stuck test run */
function cli(args: string[]) {
  const started = Date.now();
  const r = runCli(args, { timeoutMs: 20_000 });
  return { ...r, ms: Date.now() - started };
}

describe('non-regular files where etcd keeps files: never opened for reading', () => {
  let segs: LoadedFixture;
  let snaps: LoadedFixture;
  let work: string;
  before(async () => {
    segs = await loadFixture('v35-segments');
    snaps = await loadFixture('v35-snapshots');
    work = mkdtempSync(join(tmpdir(), 'wal-doctor-fifo-'));
  });
  after(() => {
    segs.cleanup();
    snaps.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const cases: [string, () => LoadedFixture, string, string][] = [
    ['a segment', () => segs, SEG1, 'a WAL segment'],
    ['a .snap', () => snaps, SNAP, 'a raft snapshot (.snap)'],
    ['the db', () => segs, DB, 'the bbolt db'],
  ];
  for (const [what, fx, rel, expected] of cases) {
    it(`a FIFO in place of ${what}: inspect, verify and repair --dry-run return promptly and name it`, () => {
      const dir = join(work, rel.replace(/\W+/g, '-'));
      cpSync(fx().dir, dir, { recursive: true });
      unlinkSync(join(dir, rel));
      execFileSync('mkfifo', ['-m', '0600', join(dir, rel)]);
      const before = treeHashes(dir);

      const layout = locate(dir);
      assert.deepEqual(layout.notRegular, [{ path: rel, is: 'a FIFO (named pipe)', expected }]);
      assert.equal(layout.files.find((f) => f.path === rel)?.role, 'not-regular');
      assert.ok(!layout.segments.includes(join(dir, rel)) && !layout.snapFiles.includes(join(dir, rel)) && layout.db !== join(dir, rel));

      const inspect = cli(['inspect', '--json', dir]);
      assert.equal(inspect.signal, null, `inspect hung (killed after ${inspect.ms} ms)`);
      const report = ReportJson.parse(JSON.parse(inspect.stdout));
      const f = report.findings.find((x) => x.file === rel && x.code === 'unknown-file');
      assert.ok(f, `no finding names ${rel}: ${JSON.stringify(report.findings.map((x) => x.message))}`);
      assert.equal(f.severity, 'error');
      assert.match(f.message, new RegExp(`^${rel.replace(/\./g, '\\.')}: is a FIFO \\(named pipe\\) where etcd keeps ${expected.replace(/[().]/g, '\\$&')}; not read`));
      assert.notEqual(inspect.code, 0, 'a FIFO where etcd expects a file is not healthy');
      assert.ok([1, 2].includes(inspect.code ?? -1), `exit ${inspect.code}: ${inspect.stderr}`);

      const verify = cli(['verify', dir]);
      assert.equal(verify.signal, null, `verify hung (killed after ${verify.ms} ms)`);
      assert.equal(verify.code, inspect.code, verify.stdout + verify.stderr);
      assert.equal(verify.stderr, '');

      const dry = cli(['repair', '--dry-run', dir]);
      assert.equal(dry.signal, null, `repair --dry-run hung (killed after ${dry.ms} ms)`);
      assert.ok(dry.code !== null && dry.code !== 70, `exit ${dry.code}: ${dry.stdout}${dry.stderr}`);
      assert.doesNotMatch(dry.stderr, /\n\s+at /, 'no stack trace');
      for (const r of [inspect, verify, dry]) assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
      assert.deepEqual(treeHashes(dir), before, 'nothing changed');
    });
  }

  it('the readers refuse a FIFO, a socket, a directory and a symlink at open (the race after the layout scan), at once and in one line', async () => {
    const dir = join(work, 'readers');
    mkdirSync(dir);
    const fifo = join(dir, 'fifo.wal');
    execFileSync('mkfifo', [fifo]);
    const sock = join(dir, 'sock.wal');
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    const sub = join(dir, 'db');
    mkdirSync(sub);
    const link = join(dir, 'link.wal');
    symlinkSync(join(segs.dir, SEG1), link);
    try {
      const cases: [string, RegExp][] = [
        [fifo, /fifo\.wal: is a FIFO \(named pipe\), expected a regular file; not (reading|hashing) it/],
        [sock, /sock\.wal: (is a socket, expected a regular file|opening for hashing failed: ENXIO|opening for reading failed: ENXIO)/],
        [sub, /db: is a directory, expected a regular file; not (reading|hashing) it/],
        [link, /link\.wal: is a symbolic link, expected a regular file; not following it/],
      ];
      for (const [p, re] of cases) {
        const t0 = Date.now();
        for (const open of [() => new FileSource(p), () => openBoltFile(p), () => sha256File(p)]) {
          assert.throws(open, (e: unknown) => {
            assert.ok(e instanceof IoError, `${p}: ${String(e)}`);
            assert.doesNotMatch(e.message, /\n/);
            if (!/bolt/i.test(open.toString())) assert.match(e.message, re);
            else assert.match(e.message, new RegExp(p.replace(/[.]/g, '\\.')));
            return true;
          });
        }
        assert.ok(Date.now() - t0 < 2000, `${p}: refusing took ${Date.now() - t0} ms`);
      }
    } finally {
      server.close();
    }
  });
});
