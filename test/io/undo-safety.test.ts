// undo trusts nothing in a backup it has not checked. A real backup of a real repair (fixture
// v35-torn-tail: the segment truncated), then its manifest or files crafted the ways an attacker
// who can write the backup (or the data dir) would: path traversal, an absolute path, a setuid
// mode, a wrong sha256, a symlinked member/wal, a symlinked backup copy, a data dir that is not
// etcd's, a move out of the data dir, a backup dir someone else owns or can write. Each is refused
// by `wal-doctor undo` in one line (exit 74), and nothing — in the data dir or outside it — changes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { replaceWithTruncated, sha256File } from '../../src/io/atomic.js';
import { createBackup } from '../../src/io/backup.js';
import { runCli } from '../support/cli.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';

const WAL = 'member/wal/0000000000000000-0000000000000000.wal';

/** every entry under root: type, mode, owner, size, sha256 (files), symlink target */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      const key = relative(root, p);
      if (st.isSymbolicLink()) out[key] = 'symlink';
      else if (st.isDirectory()) {
        out[key] = `dir ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
        walk(p);
      } else out[key] = `file ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.size} ${sha256File(p).sha256}`;
    }
  };
  walk(root);
  return out;
}

describe('undo refuses a crafted backup, changing nothing', () => {
  let fx: LoadedFixture;
  let work: string;
  let data: string;
  let outside: string;
  let backup: string;
  let manifest: Record<string, unknown> & { files: Record<string, unknown>[]; dirs: Record<string, unknown>[] };
  let goodText: string;
  before(async () => {
    fx = await loadFixture('v35-torn-tail');
    work = mkdtempSync(join(tmpdir(), 'wal-doctor-undo-safety-'));
    data = join(work, 'data');
    cpSync(fx.dir, data, { recursive: true });
    outside = join(work, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'must survive\n', { mode: 0o644 });
    // the repair: back up, commit, truncate the segment
    const b = createBackup(data, { plan: { test: true }, backupDir: join(work, 'backup') });
    b.saveOriginal(WAL, 'truncated');
    b.willCreate('member/wal/created.bin');
    b.commit();
    replaceWithTruncated(join(data, WAL), 20_000);
    b.markApplied('truncate');
    b.finish();
    backup = b.dir;
    goodText = readFileSync(join(backup, 'manifest.json'), 'utf8');
    manifest = JSON.parse(goodText) as typeof manifest;
  });
  after(() => {
    fx.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const writeManifest = (m: unknown) => writeFileSync(join(backup, 'manifest.json'), JSON.stringify(m, null, 2));
  const tweaked = (f: (m: typeof manifest) => void) => {
    const m = JSON.parse(goodText) as typeof manifest;
    f(m);
    return m;
  };

  /** run undo; it must fail in one line matching `re`, and change nothing anywhere */
  function refused(re: RegExp): void {
    const before = snapshot(work);
    const r = runCli(['undo', backup]);
    assert.notEqual(r.code, 0, `undo accepted it: ${r.stdout}`);
    assert.ok([64, 74].includes(r.code ?? -1), `exit ${r.code}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(snapshot(work), before, 'nothing changed, in the data dir or outside it');
    assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'must survive\n');
  }

  it('path traversal in a saved file, in a created file, and in a copy name', () => {
    writeManifest(tweaked((m) => {
      m.files[0]!['path'] = '../outside/victim';
      m.files[0]!['copy'] = 'files/../outside/victim';
    }));
    refused(/corrupt backup manifest \(files\.0\.path: must be a normalised path inside the data dir\); nothing was changed/);
    writeManifest(tweaked((m) => {
      m.files[1]!['path'] = 'member/../../outside/victim';
    }));
    refused(/corrupt backup manifest \(files\.1\.path: must be a normalised path inside the data dir\)/);
    writeManifest(tweaked((m) => {
      m.files[0]!['copy'] = '../../outside/victim';
    }));
    refused(/the copy of member\/wal\/.*\.wal is \.\.\/\.\.\/outside\/victim, expected files\/member\/wal\/.*; refusing the whole undo, nothing was changed/);
  });

  it('an absolute path', () => {
    writeManifest(tweaked((m) => {
      m.files[1]!['path'] = join(outside, 'victim');
    }));
    refused(/corrupt backup manifest \(files\.1\.path: must be a normalised path inside the data dir\)/);
  });

  it('a setuid (or setgid, or sticky) mode, on a file or a directory', () => {
    writeManifest(tweaked((m) => {
      m.files[0]!['mode'] = '04755';
    }));
    refused(/member\/wal\/0+-0+\.wal: mode 04755 has set-id or sticky bits, which etcd never uses; refusing the whole undo, nothing was changed/);
    writeManifest(tweaked((m) => {
      m.dirs[0]!['mode'] = '02755';
    }));
    refused(/directory \.: mode 02755 has set-id or sticky bits/);
  });

  it('a wrong sha256, or a copy whose bytes were changed', () => {
    writeManifest(tweaked((m) => {
      m.files[0]!['sha256'] = '0'.repeat(64);
    }));
    refused(/files\/member\/wal\/.*\.wal: sha256 [0-9a-f]{64} \(61196 bytes\) does not match the manifest's 0{64} .*nothing was changed/);
    writeManifest(manifest);
    const copy = join(backup, 'files', WAL);
    const orig = readFileSync(copy);
    const bad = Buffer.from(orig);
    bad[100] = bad[100]! ^ 1;
    writeFileSync(copy, bad);
    refused(/does not match the manifest's/);
    writeFileSync(copy, orig);
  });

  it('a symlinked member/wal (leading out of the data dir)', () => {
    writeManifest(manifest);
    const real = join(data, 'member', 'wal');
    const elsewhere = join(outside, 'wal');
    renameSync(real, elsewhere);
    symlinkSync(elsewhere, real);
    try {
      refused(/member\/wal is a symbolic link: undo never follows one/);
    } finally {
      rmSync(real);
      renameSync(elsewhere, real);
    }
  });

  it('a symlinked backup copy (to a file with the right bytes, even)', () => {
    writeManifest(manifest);
    const copy = join(backup, 'files', WAL);
    const moved = join(outside, 'copy.wal');
    renameSync(copy, moved);
    symlinkSync(moved, copy);
    try {
      refused(/files\/member\/wal\/.*\.wal is a symbolic link: undo never follows one/);
    } finally {
      rmSync(copy);
      renameSync(moved, copy);
    }
  });

  it('a data dir that is not an etcd data dir, and an entry no repair writes (a move out of the data dir)', () => {
    writeManifest(tweaked((m) => {
      m['dataDir'] = outside;
      m.files = [{ action: 'created', path: 'victim' }];
      m.dirs = [];
    }));
    refused(/the data dir it names, .*outside, holds no member\/ \(nor wal\/ or snap\/\) directory: not an etcd data dir/);
    writeManifest(tweaked((m) => {
      m['format'] = 'wal-doctor-backup/1';
      m.files[0] = { ...m.files[0], action: 'moved', movedTo: join(outside, 'victim') };
    }));
    refused(/corrupt backup manifest \(files\.0/);
  });

  it('a backup dir or manifest someone else could have written', (t) => {
    writeManifest(manifest);
    chmodSync(join(backup, 'manifest.json'), 0o666);
    refused(/the manifest is writable by its group \(mode 0666\): someone else could have written it/);
    chmodSync(join(backup, 'manifest.json'), 0o644);
    chmodSync(backup, 0o777);
    refused(/the backup dir is writable by its group/);
    chmodSync(backup, 0o700);
    if (process.getuid?.() !== 0) {
      t.diagnostic('not root: the owned-by-another-user case was NOT run');
      return;
    }
    chownSync(join(backup, 'manifest.json'), 4242, 4242);
    refused(/the manifest is owned by uid 4242, not by you \(uid 0\) or root/);
    chownSync(join(backup, 'manifest.json'), 0, 0);
  });

  it('and the untouched backup still undoes the repair, byte for byte', () => {
    writeManifest(manifest);
    const r = runCli(['undo', backup]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /restored 1 file\(s\)/);
    assert.equal(sha256File(join(data, WAL)).sha256, manifest.files[0]!['sha256']);
  });
});
