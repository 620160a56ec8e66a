// Test helpers for the real-etcd fixtures in fixtures/ (made by fixtures/generate.sh; see fixtures/README.md).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** the repository root (works from test/support and from dist/test/support) */
export const REPO_ROOT: string = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) || !existsSync(join(d, 'fixtures'))) {
    const up = dirname(d);
    if (up === d) throw new Error('cannot find the repository root (package.json + fixtures/)');
    d = up;
  }
  return d;
})();
export const FIXTURES_DIR = join(REPO_ROOT, 'fixtures');

/** etcd release lines we have real binaries of: Debian's 3.4.23 / 3.5.30, and 3.6.16 / 3.7.3 built
 *  from upstream's Go modules (tools/etcd-build/, both via scripts/etcd-bin.sh) */
export type EtcdSeries = '3.4' | '3.5' | '3.6' | '3.7';

export interface ManifestKey {
  key: string;
  present: boolean;
  value?: string;            // utf-8 value (values <= 1 KiB)
  value_sha256?: string;     // big values: sha256 + byte count instead
  value_bytes?: number;
  create_revision?: number;
  mod_revision?: number;
  version?: number;
  lease?: string | null;     // 16-digit hex
  deleted_revision?: number; // present: false
}

export interface EtcdBootRecord {
  etcd_version: string;
  boot: 'ok' | 'failed';
  error: string | null;         // the `error` field of etcd's fatal log entry (or its message / a timeout text)
  log_message: string | null;   // the fatal entry's `msg`
  capnslog?: string | null;     // 3.4 only: the first C/F line of its default text log (timestamp cut, <data-dir>); null when it started
  keys_served?: number;
  missing_keys?: string[];
  wrong_keys?: string[];
  extra_keys?: string[];
  revision?: number;
  probe_write?: string;         // 'visible' | 'lost' | 'failed: ...' (a put after boot)
  last_log?: string;            // not healthy: the last warn/error line of its log
  new_files: string[];
  removed_files: string[];
  repaired: boolean;            // a *.broken file appeared
  repair_logged: boolean;       // etcd logged "repaired WAL"
  repair_error: string | null;
}

export interface FixtureDamage {
  kind: string;
  file: string;
  offset: number;
  length: number;
  before_sha256: string | null;
  after_sha256: string | null;
  description: string;
  seed: number;
  last_good_offset?: number;
  records_after_damage?: number;
  [more: string]: unknown;
}

export interface FixtureManifest {
  format: 'wal-doctor-fixture/1';
  name: string;
  category: 'healthy' | 'damaged';
  etcd_version: string;
  made_by: string[];
  base: string | null;
  workload: unknown;
  shutdown: 'clean' | 'sigkill';
  member_id: string;
  cluster_id: string;
  last_revision: number;
  compact_revision: number | null;
  files: { path: string; size: number; sha256: string }[];
  expected: {
    verdict: string | null;
    exit_code: number | null;
    etcd_outcome: 'boots' | 'repairs-wal' | 'skips-broken-snap' | 'refuses' | 'unhealthy';
    etcd_boots: boolean;
    committed_records_lost_by_etcd_repair: boolean;
  };
  damage: FixtureDamage | null;
  etcd_boot: Partial<Record<EtcdSeries, EtcdBootRecord>>;
  keys: ManifestKey[];
}

/** names of every fixture that has both a manifest and a tarball, sorted */
export function listFixtures(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.manifest.json'))
    .map((f) => f.slice(0, -'.manifest.json'.length))
    .filter((n) => existsSync(join(FIXTURES_DIR, `${n}.tar.gz`)))
    .sort();
}

export function readManifest(name: string): FixtureManifest {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, `${name}.manifest.json`), 'utf8')) as FixtureManifest;
}

export interface LoadedFixture {
  /** the data dir (contains member/), unpacked into a fresh temp dir */
  dir: string;
  manifest: FixtureManifest;
  cleanup(): void;
}

/** unpack fixtures/<name>.tar.gz with the system tar into a fresh temp dir */
export async function loadFixture(name: string): Promise<LoadedFixture> {
  const manifest = readManifest(name);
  const dir = mkdtempSync(join(tmpdir(), `wal-doctor-fx-${name}-`));
  try {
    await run('tar', ['-C', dir, '-xzf', join(FIXTURES_DIR, `${name}.tar.gz`)]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, manifest, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** fixtures/damage.mjs's `applyDamage`: one named, seeded damage to a copy of a real data dir, in place; its record. */
export const applyDamage = ((await import(join(FIXTURES_DIR, 'damage.mjs'))) as { applyDamage(kind: string, dir: string, opts?: { seed?: number }): Record<string, unknown> }).applyDamage;

/** One healthy workload dir per release line, written by that line's etcd. */
export const WORKLOADS: readonly { fixture: string; series: EtcdSeries }[] = [
  { fixture: 'v34-workload', series: '3.4' },
  { fixture: 'v35-workload', series: '3.5' },
  { fixture: 'v36-workload', series: '3.6' },
  { fixture: 'v37-workload', series: '3.7' },
];
