// Backups and undo on a real etcd 3.5 data dir (fixtures/v35-workload): a repair-shaped set of
// changes (truncate the segment, append into its zero area, move the db away, create a file,
// remove a file) is undone byte for byte; undo twice is fine; a tampered or corrupt backup is
// refused with nothing changed.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { appendAtomic, removeFile, replaceWithTruncated, sha256File, writeFileAtomic } from '../../src/io/atomic.js';
import {
  BackupManifest,
  createBackup,
  isIncompleteBackup,
  listBackups,
  readBackupManifest,
  removeIncompleteBackups,
  undo,
} from '../../src/io/backup.js';
import { IoError, UsageError } from '../../src/errors.js';
import { loadFixture } from '../support/fixtures.js';

const WAL = 'member/wal/0000000000000000-0000000000000000.wal';

/** path (relative to root) -> sha256 of every file under root */
function tree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), sha256File(p).sha256);
    }
  };
  walk(root);
  return out;
}

interface Work {
  work: string;
  data: string;
  quarantine: string;
  cleanup(): void;
}

/** the fixture as <work>/data, with a quarantine dir beside it and two extra files to act on */
async function setUp(): Promise<Work> {
  const fx = await loadFixture('v35-workload');
  const work = mkdtempSync(join(tmpdir(), 'wal-doctor-backup-'));
  const data = join(work, 'data');
  renameSync(fx.dir, data);
  fx.cleanup();
  writeFileSync(join(data, 'member/remove-me.bin'), randomBytes(10_000), { mode: 0o600 });
  const quarantine = join(work, 'quarantine');
  mkdirSync(quarantine);
  return { work, data, quarantine, cleanup: () => rmSync(work, { recursive: true, force: true }) };
}

/** the repair the tests undo: every kind of change the applier makes */
function repair(w: Work, opts: { backupDir?: string } = {}) {
  const b = createBackup(w.data, { plan: { steps: ['truncate', 'append', 'set db aside', 'create', 'remove'] }, ...opts });
  b.saveOriginal(WAL, 'truncated');
  b.saveOriginal('member/snap/db', 'removed'); // set aside below: undo brings it back from the copy
  b.saveOriginal('member/remove-me.bin', 'removed');
  b.willCreate('member/wal/created.bin');
  b.commit();
  const wal = join(w.data, WAL);
  replaceWithTruncated(wal, 40_000);
  b.markApplied('truncate');
  appendAtomic(wal, randomBytes(500), 40_000);
  b.markApplied('append');
  removeFile(join(w.data, 'member/snap/db'));
  b.markApplied('set db aside');
  writeFileAtomic(join(w.data, 'member/wal/created.bin'), [Buffer.from('new')], { mode: 0o644 });
  b.markApplied('create');
  removeFile(join(w.data, 'member/remove-me.bin'));
  b.markApplied('remove');
  b.finish();
  return b;
}

describe('backup and undo (v35-workload)', () => {
  let w: Work;
  beforeEach(async () => {
    w = await setUp();
  });
  afterEach(() => w.cleanup());

  it('builds beside the data dir as <name>.tmp, renames in on commit, manifest valid against the schema', () => {
    const now = new Date('2026-11-25T11:37:01.250Z');
    const b = createBackup(w.data, { plan: { kind: 'truncate-tail', at: 40000 }, now });
    assert.equal(b.dir, join(w.work, 'data.wal-doctor-backup-20261125T113701Z'));
    assert.equal(b.currentDir, b.dir + '.tmp');
    assert.equal(existsSync(b.dir), false);
    assert.ok(isIncompleteBackup(b.currentDir), 'a building backup is not a backup');
    const saved = b.saveOriginal(WAL, 'truncated');
    assert.equal(saved.size, 64_000_000);
    assert.equal(saved.sha256, sha256File(join(w.data, WAL)).sha256);
    assert.equal(saved.mode, '0' + (statSync(join(w.data, WAL)).mode & 0o777).toString(8));
    assert.equal(sha256File(join(b.currentDir, saved.copy)).sha256, saved.sha256);
    // saving the same file again is a no-op returning the first record (the original bytes)
    assert.deepEqual(b.saveOriginal(WAL, 'truncated'), saved);
    assert.throws(() => b.saveOriginal(WAL, 'removed'), /already recorded as truncated/);
    assert.throws(() => b.saveOriginal('../outside', 'removed'), /not a normalised path inside the data dir/);
    assert.throws(() => b.willCreate(WAL), /already recorded/);
    assert.throws(() => b.willCreate('member/snap/db'), /already exists/);

    // a second backup started in the same second gets its own name
    const b2 = createBackup(w.data, { plan: null, now });
    assert.equal(b2.dir, join(w.work, 'data.wal-doctor-backup-20261125T113701Z-2'));

    b.commit();
    assert.equal(existsSync(b.dir + '.tmp'), false);
    const m = readBackupManifest(b.dir);
    assert.equal(m.format, 'wal-doctor-backup/2');
    assert.equal(m.state, 'committed');
    assert.equal(m.dataDir, w.data);
    assert.equal(m.createdAt, '2026-11-25T11:37:01.250Z');
    assert.deepEqual(m.plan, { kind: 'truncate-tail', at: 40000 });
    assert.deepEqual(m.files, [saved]);
    assert.ok(BackupManifest.safeParse(JSON.parse(readFileSync(join(b.dir, 'manifest.json'), 'utf8'))).success);
    assert.throws(() => b.saveOriginal('member/snap/db', 'rewritten'), /after commit/);
    assert.throws(() => b.willCreate('member/x'), /after commit/);

    // the second one was never committed: cleaned by the next run, the committed one kept
    assert.deepEqual(removeIncompleteBackups(w.data), [b2.currentDir]);
    assert.deepEqual(listBackups(w.data).map((x) => x.dir), [b.dir]);
  });

  it('refuses a backup dir inside the data dir, or one that exists', () => {
    assert.throws(() => createBackup(w.data, { plan: null, backupDir: join(w.data, 'member/bk') }), UsageError);
    assert.throws(() => createBackup(w.data, { plan: null, backupDir: w.quarantine }), /already exists/);
    assert.deepEqual(readdirSync(join(w.data, 'member')).sort(), ['remove-me.bin', 'snap', 'wal']);
  });

  it('undo after a full repair restores every file byte for byte; undo twice is fine', () => {
    const before = tree(w.data);
    const b = repair(w, { backupDir: join(w.work, 'my-backup') });
    assert.equal(b.dir, join(w.work, 'my-backup'));
    const changed = tree(w.data);
    assert.notDeepEqual(changed, before);
    assert.equal(changed.has('member/snap/db'), false);
    assert.equal(changed.get('member/wal/created.bin') !== undefined, true);
    const m = readBackupManifest(b.dir);
    assert.deepEqual(m.applied.map((a) => a.step), ['truncate', 'append', 'set db aside', 'create', 'remove']);
    assert.ok(m.finishedAt);

    const r1 = undo(b.dir);
    assert.deepEqual(r1.restored.sort(), [WAL, 'member/remove-me.bin', 'member/snap/db'].sort());
    assert.deepEqual(r1.removed.sort(), ['member/wal/created.bin']);
    assert.deepEqual(tree(w.data), before);
    assert.equal(statSync(join(w.data, 'member/remove-me.bin')).mode & 0o777, 0o600, 'mode restored');
    assert.ok(readBackupManifest(b.dir).undoneAt);

    const r2 = undo(b.dir);
    assert.deepEqual(r2.restored, []);
    assert.deepEqual(r2.removed, []);
    assert.equal(r2.unchanged.length, 3);
    assert.deepEqual(tree(w.data), before);
  });

  it('a tampered backup copy: undo refuses and changes nothing', () => {
    const b = repair(w);
    assert.equal(basename(b.dir).startsWith('data.wal-doctor-backup-'), true);
    const changed = tree(w.data);
    const quarantined = tree(w.quarantine);
    // one flipped byte deep inside the saved db copy
    const copy = join(b.dir, 'files/member/snap/db');
    const bytes = readFileSync(copy);
    bytes[8_000_000] = bytes[8_000_000]! ^ 0x01;
    writeFileSync(copy, bytes);
    assert.throws(() => undo(b.dir), (e: unknown) => {
      assert.ok(e instanceof IoError);
      assert.match(e.message, /files\/member\/snap\/db: sha256 [0-9a-f]{64} .* does not match the manifest's [0-9a-f]{64}.*nothing was changed/);
      assert.equal(e.message.includes('\n'), false, 'one line');
      return true;
    });
    assert.deepEqual(tree(w.data), changed, 'data dir untouched');
    assert.deepEqual(tree(w.quarantine), quarantined);
  });

  it('a missing or corrupt manifest, or a missing copy: undo refuses and changes nothing', () => {
    const b = repair(w);
    const changed = tree(w.data);
    const manifestPath = join(b.dir, 'manifest.json');
    const good = readFileSync(manifestPath, 'utf8');

    writeFileSync(manifestPath, good.slice(0, good.length / 2));
    assert.throws(() => undo(b.dir), /corrupt backup manifest \(not JSON/);
    const m = JSON.parse(good) as { files: { sha256?: string }[] };
    m.files[0]!.sha256 = 'not-a-sha';
    writeFileSync(manifestPath, JSON.stringify(m));
    assert.throws(() => undo(b.dir), /corrupt backup manifest \(files\.0\.sha256: /);
    rmSync(manifestPath);
    assert.throws(() => undo(b.dir), (e: unknown) => e instanceof UsageError && /not a wal-doctor backup \(no manifest\.json\)/.test(e.message));
    writeFileSync(manifestPath, good);
    rmSync(join(b.dir, 'files/member/remove-me.bin'));
    assert.throws(() => undo(b.dir), /remove-me\.bin: missing from the backup; nothing was changed/);
    assert.deepEqual(tree(w.data), changed);
  });

  it('an uncommitted backup is refused by undo (the data dir was never changed)', () => {
    const before = tree(w.data);
    const b = createBackup(w.data, { plan: null });
    b.saveOriginal(WAL, 'truncated');
    assert.throws(() => undo(b.currentDir), /incomplete backup .* nothing to undo/);
    assert.deepEqual(tree(w.data), before);
  });
});
