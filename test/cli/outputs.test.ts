// Writes into the wrong place: `rebuild --out`, `rebuild --unapplied` and `export -o` are refused
// inside the data dir they read (symlinks resolved), an existing unapplied.ndjson (the only record
// of writes the db never got) is never overwritten, and export files are created 0600 and never
// replace an existing file without --force. Each refusal is one line, exit 64, and changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError } from '../../src/errors.js';
import { locate } from '../../src/io/layout.js';
import { writeUnapplied } from '../../src/rebuild/salvage.js';
import { runCli as cli, treeHashes } from '../support/cli.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';

function refused(r: ReturnType<typeof cli>, re: RegExp): void {
  assert.equal(r.code, 64, r.stdout + r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, re);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

const REBUILD = ['--name', 'default', '--initial-cluster', 'default=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380'];

describe('outputs never go into the wrong place', () => {
  let fx: LoadedFixture;
  let work: string;
  let original: Record<string, string>;
  before(async () => {
    fx = await loadFixture('v35-crash');
    work = mkdtempSync(join(tmpdir(), 'wal-doctor-outputs-'));
    original = treeHashes(fx.dir);
    symlinkSync(fx.dir, join(work, 'link-to-data'));
  });
  after(() => {
    fx.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('rebuild --out inside the source data dir, directly, through a symlink, or from a file in it: refused', () => {
    refused(cli(['rebuild', '--from', fx.dir, '--out', join(fx.dir, 'member', 'rebuilt'), ...REBUILD]), /^wal-doctor: --out .*\/member\/rebuilt is inside .*, which it reads from/);
    refused(cli(['rebuild', '--from', fx.dir, '--out', join(work, 'link-to-data', 'new'), ...REBUILD]), /^wal-doctor: --out .*link-to-data\/new is inside /);
    refused(cli(['rebuild', '--skip-hash-check', '--from', join(fx.dir, 'member/snap/db'), '--out', join(fx.dir, 'new'), ...REBUILD]), /^wal-doctor: --out .* is inside /);
    refused(cli(['rebuild', '--from', fx.dir, '--out', join(work, 'ok'), '--unapplied', join(fx.dir, 'unapplied.ndjson'), ...REBUILD]), /^wal-doctor: --unapplied .* is inside /);
    assert.deepEqual(treeHashes(fx.dir), original, 'the source is unchanged');
    assert.deepEqual(readdirSync(work), ['link-to-data'], 'nothing was created');
  });

  it('rebuild never overwrites an existing unapplied.ndjson (the only record of writes the db never got)', () => {
    const out = join(work, 'new');
    const first = cli(['rebuild', '--json', '--from', fx.dir, '--out', out, ...REBUILD]);
    assert.equal(first.code, 0, first.stderr);
    const unapplied = `${out}.unapplied.ndjson`;
    const kept = readFileSync(unapplied);
    assert.ok(kept.length > 0, 'v35-crash has a write the db never applied');
    assert.equal(statSync(unapplied).mode & 0o777, 0o600);

    // a second rebuild to another --out but the same --unapplied: refused before anything is written
    const again = cli(['rebuild', '--from', fx.dir, '--out', join(work, 'new2'), '--unapplied', unapplied, ...REBUILD]);
    refused(again, /^wal-doctor: --unapplied .*new\.unapplied\.ndjson already exists; it may hold the only record of writes/);
    assert.equal(existsSync(join(work, 'new2')), false, 'no data dir was written');
    assert.deepEqual(readFileSync(unapplied), kept, 'byte for byte as it was');

    // and the writer itself never replaces it (a file that appears after the check)
    const layout = locate(fx.dir);
    assert.throws(() => writeUnapplied(layout, 0n, unapplied), (e: unknown) => e instanceof IoError && /already exists; not replacing it/.test(e.message));
    assert.deepEqual(readFileSync(unapplied), kept);
    assert.deepEqual(readdirSync(work).filter((n) => n.includes('wal-doctor-tmp')), [], 'no temp left');
    rmSync(out, { recursive: true });
    rmSync(unapplied);
  });

  it('export -o: refused inside the data dir; created 0600 whatever the umask; an existing file needs --force', () => {
    refused(cli(['export', '-o', join(fx.dir, 'member', 'export.ndjson'), fx.dir]), /^wal-doctor: --output .*member\/export\.ndjson is inside .*, which it reads from/);
    refused(cli(['export', '-o', join(work, 'link-to-data', 'x.ndjson'), join(fx.dir, 'member', 'wal')]), /is inside /);
    assert.deepEqual(treeHashes(fx.dir), original);

    const out = join(work, 'export.ndjson');
    const umask = process.umask(0); // the child inherits it: 0666 &^ 0 would be world-readable
    let r: ReturnType<typeof cli>;
    try {
      r = cli(['export', '-o', out, fx.dir]);
    } finally {
      process.umask(umask);
    }
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600, 'export files can hold secrets');
    const full = readFileSync(out, 'utf8');
    assert.ok(full.split('\n').filter(Boolean).length > 10);

    writeFileSync(out, 'precious\n', { mode: 0o644 });
    refused(cli(['export', '-o', out, fx.dir]), /^wal-doctor: --output .*export\.ndjson already exists; pass --force to replace it/);
    assert.equal(readFileSync(out, 'utf8'), 'precious\n');

    const forced = cli(['export', '--force', '-o', out, fx.dir]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(readFileSync(out, 'utf8'), full);
    assert.equal(statSync(out).mode & 0o777, 0o600, 'the replacement is 0600 too');
    assert.deepEqual(readdirSync(work).filter((n) => n.includes('wal-doctor-tmp')), [], 'no temp left');
  });
});
