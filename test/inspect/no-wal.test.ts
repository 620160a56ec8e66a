// A data dir without a WAL: what the next step says depends on what the db holds. Keys: rebuild
// from it. Nothing (no db, a 0-byte one, or no revision in it: a first start cut short, as a power
// cut during bootstrap leaves, etcd issue 16596): start over. A tree that cannot be read whole:
// a rebuild would lose what it hides (rebuild refuses it), so a backup or re-adding the member.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { loadFixture } from '../support/fixtures.js';

async function noWal(fixture: string, change?: (dir: string) => void): Promise<{ kind: string; db: unknown; exit: number }> {
  const fx = await loadFixture(fixture);
  try {
    rmSync(join(fx.dir, 'member', 'wal'), { recursive: true });
    change?.(fx.dir);
    const a = inspectPath(fx.dir, { checkHolders: false });
    const next = a.verdict.next as { kind: string; db?: unknown };
    return { kind: next.kind, db: next.db, exit: a.report.verdict.exitCode };
  } finally {
    fx.cleanup();
  }
}

describe('no WAL: the next step follows what the db holds', () => {
  it('a db with keys: rebuild from it', async () => {
    assert.deepEqual(await noWal('v35-workload'), { kind: 'wal-dir-or-rebuild', db: 'keys', exit: 2 });
  });
  it('a db with a leaf of its key tree zeroed: not rebuilt from (keys would vanish)', async () => {
    assert.deepEqual(await noWal('v35-db-page-zeroed'), { kind: 'wal-dir-or-rebuild', db: 'unreadable', exit: 2 });
  });
  it('a 0-byte db, or none: nothing to keep', async () => {
    assert.deepEqual(await noWal('v36-workload', (d) => truncateSync(join(d, 'member', 'snap', 'db'), 0)), { kind: 'wal-dir-or-rebuild', db: 'nothing', exit: 2 });
    assert.deepEqual(await noWal('v36-workload', (d) => rmSync(join(d, 'member', 'snap', 'db'))), { kind: 'wal-dir-or-rebuild', db: 'nothing', exit: 2 });
  });
  it('a db cut to its two meta pages: it cannot be read', async () => {
    assert.deepEqual(await noWal('v36-workload', (d) => truncateSync(join(d, 'member', 'snap', 'db'), 8192)), { kind: 'wal-dir-or-rebuild', db: 'unreadable', exit: 2 });
  });
});
