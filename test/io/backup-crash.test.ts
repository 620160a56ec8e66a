// Crash injection: for every name in CRASH_POINTS (and a few later hits of the same points), a
// child process runs a repair-shaped sequence on a real etcd 3.5 data dir (fixtures/v35-workload)
// — backup, truncate the segment, append into its zero area, set the db and another file aside
// (removed: the backup holds them), create a file, remove a file, rewrite the segment's tail
// (re-chained records and zeros after them), rename the created file, then undo — and is killed by
// SIGKILL at that point. Then:
//  - no real name ever held bytes other than the original or a complete new version: temp files
//    aside, nothing half-written;
//  - if the backup was committed, `undo` restores every original file byte for byte (sha256),
//    removes what the repair created, and a second undo changes nothing;
//  - if it was not, the data dir was never changed, `undo` refuses it, and the next run removes it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CRASH_POINTS, isTempName, sha256File } from '../../src/io/atomic.js';
import { isIncompleteBackup, readBackupManifest, removeIncompleteBackups, undo } from '../../src/io/backup.js';
import { loadFixture } from '../support/fixtures.js';

const WAL = 'member/wal/0000000000000000-0000000000000000.wal';
const KEEP = 40_000;
const APPEND = randomBytes(777);
const CREATED = Buffer.from('a file the repair creates\n');
const REWRITE = randomBytes(999);
// later hits of the same points: the commit's manifest write, the third copy, the second restore...
const LATER_HITS = ['manifest:tmp-synced#7', 'manifest:renamed#7', 'backup:file-copied#3', 'backup:step-recorded#4', 'undo:file-restored#2', 'restore:renamed#3', 'undo:file-restored#4'];

const atomicUrl = new URL('../../src/io/atomic.js', import.meta.url).href;
const backupUrl = new URL('../../src/io/backup.js', import.meta.url).href;

// The child: the order an applier must follow (save everything, commit, then change, journaling each step).
const CHILD = `
import { replaceWithTruncated, appendAtomic, writeFileAtomic, removeFile, rewriteTail, renameNoReplace } from ${JSON.stringify(atomicUrl)};
import { createBackup, undo } from ${JSON.stringify(backupUrl)};
import { join } from 'node:path';
const [data, keep, appendHex, createdHex, rewriteHex, size] = process.argv.slice(2);
const WAL = ${JSON.stringify(WAL)};
const b = createBackup(data, { plan: { steps: ['truncate', 'append', 'set db aside', 'set extra aside', 'create', 'remove', 'rewrite', 'rename'] } });
b.saveOriginal(WAL, 'truncated');
b.saveOriginal('member/snap/db', 'removed'); // set aside below: undo restores it from the copy
b.saveOriginal('member/extra.bin', 'removed');
b.saveOriginal('member/remove-me.bin', 'removed');
b.willCreate('member/wal/created.bin');
b.willCreate('member/wal/renamed.bin');
b.commit();
replaceWithTruncated(join(data, WAL), Number(keep));
b.markApplied('truncate');
appendAtomic(join(data, WAL), Buffer.from(appendHex, 'hex'), Number(keep));
b.markApplied('append');
removeFile(join(data, 'member/snap/db'));
b.markApplied('set db aside');
removeFile(join(data, 'member/extra.bin'));
b.markApplied('set extra aside');
const created = Buffer.from(createdHex, 'hex');
writeFileAtomic(join(data, 'member/wal/created.bin'), [created.subarray(0, 10), created.subarray(10)], { mode: 0o644 });
b.markApplied('create');
removeFile(join(data, 'member/remove-me.bin'));
b.markApplied('remove');
rewriteTail(join(data, WAL), Number(keep), (emit) => { const r = Buffer.from(rewriteHex, 'hex'); emit(r.subarray(0, 500)); emit(r.subarray(500)); }, Number(size));
b.markApplied('rewrite');
renameNoReplace(join(data, 'member/wal/created.bin'), join(data, 'member/wal/renamed.bin'));
b.markApplied('rename');
b.finish();
undo(b.dir);
`;

function tree(root: string, skipTemps = false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (!(skipTemps && isTempName(n))) out.set(relative(root, p), sha256File(p).sha256);
    }
  };
  walk(root);
  return out;
}

/** sha256 of: the first `keep` bytes of `path`, then `insert`, then zeros up to `size` */
function expectedSha(path: string, keep: number, insert: Uint8Array, size: number): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(keep);
  readSync(fd, buf, 0, keep, 0);
  closeSync(fd);
  h.update(buf).update(insert);
  const zeros = Buffer.alloc(1 << 20);
  for (let left = size - keep - insert.length; left > 0; left -= Math.min(left, zeros.length)) {
    h.update(zeros.subarray(0, Math.min(left, zeros.length)));
  }
  return h.digest('hex');
}

describe('crash at every crash point, then undo (v35-workload)', () => {
  let template: string;
  let cleanupTemplate: () => void;
  let original: Map<string, string>;
  let allowed: (rel: string) => Set<string>;
  let base: string;
  let walSize: number;

  before(async () => {
    const fx = await loadFixture('v35-workload');
    template = fx.dir;
    cleanupTemplate = fx.cleanup;
    writeFileSync(join(template, 'member/extra.bin'), randomBytes(1_500_000), { mode: 0o640 });
    writeFileSync(join(template, 'member/remove-me.bin'), randomBytes(10_000), { mode: 0o600 });
    original = tree(template);
    const walPath = join(template, WAL);
    const size = statSync(walPath).size;
    const walStates = new Set([
      original.get(WAL)!,
      expectedSha(walPath, KEEP, new Uint8Array(0), size),
      expectedSha(walPath, KEEP, APPEND, size),
      expectedSha(walPath, KEEP, REWRITE, size),
    ]);
    walSize = size;
    const created = createHash('sha256').update(CREATED).digest('hex');
    allowed = (rel) => {
      if (rel === WAL) return walStates;
      if (rel === 'member/wal/created.bin' || rel === 'member/wal/renamed.bin') return new Set([created]);
      return original.has(rel) ? new Set([original.get(rel)!]) : new Set();
    };
    base = mkdtempSync(join(tmpdir(), 'wal-doctor-crash-'));
  });
  after(() => {
    cleanupTemplate();
    rmSync(base, { recursive: true, force: true });
  });

  for (const point of [...CRASH_POINTS, ...LATER_HITS]) {
    it(`killed at ${point}`, () => {
      const work = mkdtempSync(join(base, 'case-'));
      const data = join(work, 'data');
      try {
        cpSync(template, data, { recursive: true });
        writeFileSync(join(work, 'child.mjs'), CHILD);
        const r = spawnSync(
          process.execPath,
          [join(work, 'child.mjs'), data, String(KEEP), APPEND.toString('hex'), CREATED.toString('hex'), REWRITE.toString('hex'), String(walSize)],
          { env: { ...process.env, WAL_DOCTOR_CRASH_AT: point }, encoding: 'utf8', timeout: 120_000 },
        );
        assert.equal(r.signal, 'SIGKILL', `the child should have been killed at ${point}; it exited ${r.status}: ${r.stderr}`);

        // nothing half-written under a real name
        for (const [rel, sha] of tree(data, true)) {
          assert.ok(allowed(rel).has(sha), `after a crash at ${point}: ${rel} holds bytes that are neither original nor a complete new version (${sha})`);
        }

        const backups = readdirSync(work).filter((n) => n.startsWith('data.wal-doctor-backup-'));
        assert.equal(backups.length, 1, `one backup dir: ${backups.join(', ')}`);
        const bdir = join(work, backups[0]!);
        if (isIncompleteBackup(bdir)) {
          // crashed before commit: the data dir was never touched; undo refuses; the next run cleans it
          assert.deepEqual(tree(data), original, 'data dir unchanged before commit');
          assert.throws(() => undo(bdir));
          assert.deepEqual(removeIncompleteBackups(data), [bdir]);
          assert.equal(existsSync(bdir), false);
          return;
        }
        assert.equal(readBackupManifest(bdir).state, 'committed');
        undo(bdir);
        assert.deepEqual(tree(data), original, `every original file back byte for byte, no temp or new file left (crash at ${point})`);
        const again = undo(bdir);
        assert.deepEqual([again.restored, again.removed], [[], []], 'a second undo changes nothing');
        assert.deepEqual(tree(data), original);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  }
});
