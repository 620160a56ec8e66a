// bench/gen.mjs - data dirs for the bench, written by REAL etcd 3.6.16 (scripts/etcd-bin.sh 3.6) and
// cached under .bench/data/ (gitignored, never committed). Each dir is built in a .tmp dir and renamed
// once etcd stopped cleanly, with a <name>.json beside it saying how it was made; a dir without its
// .json is rebuilt.
//
//   k8s      BENCH_KEYS (1,000,000) Kubernetes-style creates (txn: mod_revision == 0 ? put : get),
//            100-500 B values, then BENCH_KEYS/10 updates (txn on the key's mod_revision), then a
//            compaction at the revision the creates reached: one WAL entry per write, ~20 segments
//   k8s-copy a byte-for-byte copy of k8s (diff compares two members' dirs)
//   large2   plain puts of 100 KB values until member/wal holds 2 segments, then 10 more
//   large5   the same etcd carried on until 5 segments, then 10 more
//
// Writes go through etcd's Go client (bench/go/cmd/loadgen) to 127.0.0.1 only. etcd runs with
// --snapshot-count 10000000 so that the whole log stays in the WAL (no .snap, no purge: the readers
// compared read every entry) and --unsafe-no-fsync, which changes how fast the files are made, not
// their bytes.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { binDir, start } from '../fixtures/lib/etcd.mjs';
import { goPrograms } from './go.mjs';

export const SERIES = '3.6';
export const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const LARGE_BYTES = 100_000;
const ETCD_ARGS = ['--snapshot-count', '10000000', '--quota-backend-bytes', String(8 * 2 ** 30), '--unsafe-no-fsync'];

const segments = (dataDir) => {
  const d = join(dataDir, 'member', 'wal');
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.wal')).sort() : [];
};

async function startOk(dir, log) {
  const e = await start(SERIES, dir, { timeoutMs: 60000, args: ETCD_ARGS });
  if (!e.ok) throw new Error(`etcd ${SERIES} did not start on ${dir}: ${e.error}`);
  log(`  etcd ${binDir(SERIES).version} up at ${e.endpoint} (pid ${e.pid})`);
  return e;
}

async function stopClean(e, dir) {
  const ex = await e.stop();
  if (ex.code !== 0 && ex.sig !== 'SIGTERM' && ex.code !== null) throw new Error(`etcd on ${dir} exited with ${ex.code ?? ex.sig}`);
}

function loadgen(bin, endpoint, args, log) {
  const r = spawnSync(bin, ['-endpoint', endpoint, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
  for (const l of r.stderr.trim().split('\n').filter(Boolean)) log(`  ${l}`);
  if (r.status !== 0) throw new Error(`loadgen ${args.join(' ')} failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Make sure .bench/data/{k8s,k8s-copy,large2,large5} exist; returns {name: {dir, meta}}. */
export async function ensureData(root, log) {
  const dataRoot = join(root, 'data');
  mkdirSync(dataRoot, { recursive: true });
  const have = (name) => existsSync(join(dataRoot, `${name}.json`)) && existsSync(join(dataRoot, name));
  const meta = (name) => JSON.parse(readFileSync(join(dataRoot, `${name}.json`), 'utf8'));
  const done = (name, m) => writeFileSync(join(dataRoot, `${name}.json`), JSON.stringify({ etcd: binDir(SERIES).version, ...m, segments: segments(join(dataRoot, name)), made: new Date().toISOString() }, null, 2) + '\n');
  const fresh = (...names) => { for (const n of names) { rmSync(join(dataRoot, n), { recursive: true, force: true }); rmSync(join(dataRoot, `${n}.json`), { force: true }); } };
  const keysOk = have('k8s') && meta('k8s').creates === KEYS;
  let go;
  const bin = () => (go ??= goPrograms(root, log));

  if (!keysOk) {
    fresh('k8s', 'k8s-copy');
    const t0 = Date.now();
    const tmp = join(dataRoot, 'k8s.tmp');
    rmSync(tmp, { recursive: true, force: true });
    log(`generating k8s: ${KEYS.toLocaleString('en-US')} Kubernetes-style creates + ${(KEYS / 10).toLocaleString('en-US')} updates + a compaction, real etcd ${SERIES} (~${Math.ceil(KEYS / 4500 / 60)} min on 2 cores)`);
    const e = await startOk(tmp, log);
    let m;
    try {
      m = loadgen(bin().loadgen, e.endpoint, ['-creates', String(KEYS), '-updates', String(KEYS / 10), '-compact'], log);
    } finally {
      await stopClean(e, tmp);
    }
    renameSync(tmp, join(dataRoot, 'k8s'));
    done('k8s', { ...m, seconds: Math.round((Date.now() - t0) / 1000) });
    log(`  k8s: ${JSON.stringify(meta('k8s'))}`);
  }
  if (!have('k8s-copy')) {
    fresh('k8s-copy');
    execFileSync('cp', ['-a', join(dataRoot, 'k8s'), join(dataRoot, 'k8s-copy.tmp')]);
    renameSync(join(dataRoot, 'k8s-copy.tmp'), join(dataRoot, 'k8s-copy'));
    done('k8s-copy', { copyOf: 'k8s' });
  }

  if (!have('large2') || !have('large5')) {
    fresh('large2', 'large5');
    const t0 = Date.now();
    const tmp = join(dataRoot, 'large.tmp');
    rmSync(tmp, { recursive: true, force: true });
    log(`generating large2/large5: ${LARGE_BYTES} B puts into real etcd ${SERIES} until 2, then 5 WAL segments`);
    let e = await startOk(tmp, log);
    let puts = 0;
    for (const [name, segs] of [['large2', 2], ['large5', 5]]) {
      const m = loadgen(bin().loadgen, e.endpoint, ['-large', '100000', '-large-bytes', String(LARGE_BYTES), '-conc', '4', '-seed', String(segs), '-wal-dir', join(tmp, 'member', 'wal'), '-stop-at-segments', String(segs), '-extra', '10'], log);
      puts += m.puts;
      await stopClean(e, tmp);
      if (segments(tmp).length !== segs) throw new Error(`${name}: expected ${segs} segments, found ${segments(tmp).join(', ')}`);
      execFileSync('cp', ['-a', tmp, join(dataRoot, name)]);
      done(name, { puts, valueBytes: LARGE_BYTES });
      log(`  ${name}: ${puts} puts of ${LARGE_BYTES} B, segments ${segments(tmp).join(' ')}`);
      if (segs === 2) e = await startOk(tmp, log);
    }
    rmSync(tmp, { recursive: true, force: true });
    log(`  large2/large5 made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return Object.fromEntries(['k8s', 'k8s-copy', 'large2', 'large5'].map((n) => [n, { dir: join(dataRoot, n), meta: meta(n) }]));
}

// `node bench/gen.mjs` alone: just make the data.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(new URL('..', import.meta.url).pathname, '.bench');
  const d = await ensureData(root, (m) => console.error(m));
  console.log(JSON.stringify(d, null, 2));
}
