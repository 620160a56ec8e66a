// A power cut during a member's first start (etcd issue 16596): the db exists, written in part,
// and the WAL does not. Made here with real etcd: a new member started and stopped, its WAL
// removed, and one of its db's pages zeroed. What the db holds decides the next step (no key:
// start over; a tree that cannot be read: not rebuilt from), and etcd agrees that nothing is lost
// by starting over: on the first, it starts a new empty member.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { bootEtcd, getAll, needEtcd } from '../support/etcd.js';

function zeroPage(db: string, page: number): void {
  const fd = openSync(db, 'r+');
  writeSync(fd, Buffer.alloc(4096), 0, 4096, page * 4096);
  closeSync(fd);
}

for (const v of ['3.5', '3.6'] as const) {
  describe(`etcd ${v}: a first start cut short`, () => {
    it('meta page 0 lost: nothing to keep, and etcd starts an empty member; the root leaf lost: the db cannot be read', async (t) => {
      if (!(await needEtcd(t, v))) return;
      const work = mkdtempSync(join(tmpdir(), `wal-doctor-bootstrap-${v}-`));
      try {
        const dir = join(work, 'd');
        const e = await bootEtcd(v, dir);
        assert.ok(e.ok, e.error);
        await e.stop();
        rmSync(join(dir, 'member', 'wal'), { recursive: true });
        const db = join(dir, 'member', 'snap', 'db');

        zeroPage(db, 0);
        const a = inspectPath(dir, { etcdVersion: v, checkHolders: false });
        assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [2, { kind: 'wal-dir-or-rebuild', db: 'nothing' }]);
        const copy = join(work, 'copy');
        execFileSync('cp', ['-a', dir, copy]);
        const s = await bootEtcd(v, copy, { timeoutMs: 30000 });
        try {
          assert.ok(s.ok, s.error);
          assert.equal((await getAll(s.endpoint, v)).kvs.size, 0, 'etcd serves nothing: there was nothing');
        } finally {
          await s.stop();
        }

        // the first pages after the metas (the freelist and the first tree pages) zeroed
        for (let p = 2; p < 8; p++) zeroPage(db, p);
        const b = inspectPath(dir, { etcdVersion: v, checkHolders: false });
        assert.deepEqual([b.report.verdict.exitCode, b.verdict.next], [2, { kind: 'wal-dir-or-rebuild', db: 'unreadable' }]);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
}
