/**
 * What every repair test ends on: real etcd on the dir serves every key written before the
 * damage, exactly (values, revisions, versions), and takes a new write.
 */
import assert from 'node:assert/strict';
import { runCli } from './cli.js';
import { bootCheck, type BootCheckOptions } from './etcd.js';
import type { EtcdSeries, FixtureManifest } from './fixtures.js';

/** etcd `v` booted on a copy of `dir` serves every key of `manifest` as written and takes a write. */
export async function servesEverything(v: EtcdSeries, dir: string, manifest: FixtureManifest, opts: BootCheckOptions = {}): Promise<void> {
  const after = await bootCheck(v, dir, manifest, { ...opts, probe: true });
  assert.deepEqual([after.boot, after.missing, after.wrong, after.probeWrite], ['ok', [], [], 'visible'], after.logTail);
}

/** `repair --auto` on `dir` (backup in `backupDir`) exits 0, and then etcd `v` serves everything (`servesEverything`). */
export async function autoRepairServesEverything(v: EtcdSeries, dir: string, manifest: FixtureManifest, backupDir: string): Promise<void> {
  const r = runCli(['repair', '--auto', '--yes', '--backup-dir', backupDir, dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await servesEverything(v, dir, manifest);
}
