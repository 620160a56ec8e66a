// bench/gen.mjs - data dirs for the bench, written by REAL etcd 3.5 (scripts/etcd-bin.sh) and cached
// under .bench/data/ (gitignored). Each dir is built in a .tmp dir and renamed when etcd stopped
// cleanly, with a <name>.json beside it saying how it was made; a dir without its .json is rebuilt.
//
//   seg2   1 MB values until member/wal holds 2 segments, then 30 more (etcd cuts at 64,000,000 B)
//   seg3   the same etcd carried on until 3 segments, then 30 more
//   small  SMALL_PUTS puts of ~100-byte values (one segment of many small entries)
//
// Writes go through etcd's gRPC-gateway JSON API (POST /v3/kv/put, base64 key/value) with Node's
// fetch, bounded concurrency, to 127.0.0.1 only.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { binDir, start } from '../fixtures/lib/etcd.mjs';

export const SERIES = '3.5';
export const SMALL_PUTS = 150_000;
const BIG_VALUE_BYTES = 1_000_000;
const EXTRA_BIG_PUTS = 30;

const walCount = (dataDir) => {
  const d = join(dataDir, 'member', 'wal');
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.wal')).length : 0;
};

/** Put `n` keys produced by `kv(i)` with at most `conc` requests in flight; stops early when `until()`. */
async function putMany(endpoint, n, conc, kv, until = () => false) {
  let next = 0, done = 0, stop = false;
  const worker = async () => {
    while (!stop && next < n) {
      const i = next++;
      const [k, v] = kv(i);
      const body = JSON.stringify({ key: Buffer.from(k).toString('base64'), value: Buffer.from(v).toString('base64') });
      const r = await fetch(`${endpoint}/v3/kv/put`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const t = await r.text();
      if (!r.ok) throw new Error(`put ${k}: HTTP ${r.status} ${t.slice(0, 200)}`);
      done++;
      if (until()) stop = true;
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
  return done;
}

function describe(dataDir) {
  const wal = join(dataDir, 'member', 'wal');
  return readdirSync(wal).filter((f) => f.endsWith('.wal')).sort();
}

async function startOk(dir, log) {
  const e = await start(SERIES, dir, { timeoutMs: 30000 });
  if (!e.ok) throw new Error(`etcd ${SERIES} did not start on ${dir}: ${e.error}`);
  log(`  etcd ${binDir(SERIES).version} up at ${e.endpoint} (pid ${e.pid})`);
  return e;
}

async function stopClean(e, dir) {
  const ex = await e.stop();
  if (ex.code !== 0 && ex.sig !== 'SIGTERM' && ex.code !== null) throw new Error(`etcd on ${dir} exited with ${ex.code ?? ex.sig}`);
}

/** Make sure .bench/data/{seg2,seg3,small} exist; returns {name: {dir, meta}}. */
export async function ensureData(root, log) {
  const dataRoot = join(root, 'data');
  mkdirSync(dataRoot, { recursive: true });
  const have = (name) => existsSync(join(dataRoot, `${name}.json`)) && existsSync(join(dataRoot, name));
  const meta = (name) => JSON.parse(readFileSync(join(dataRoot, `${name}.json`), 'utf8'));

  if (!have('seg2') || !have('seg3')) {
    const t0 = Date.now();
    const tmp = join(dataRoot, 'big.tmp');
    rmSync(tmp, { recursive: true, force: true });
    for (const n of ['seg2', 'seg3']) { rmSync(join(dataRoot, n), { recursive: true, force: true }); rmSync(join(dataRoot, `${n}.json`), { force: true }); }
    log(`generating seg2/seg3: 1 MB puts into real etcd ${SERIES} until 2, then 3 WAL segments (~10 s)`);
    const value = randomBytes(BIG_VALUE_BYTES);
    let puts = 0;
    const kv = (i) => { value.writeUInt32LE(puts + i, 0); return [`/bench/big/${String(puts + i).padStart(6, '0')}`, value]; };
    let e = await startOk(tmp, log);
    for (const [name, segs] of [['seg2', 2], ['seg3', 3]]) {
      puts += await putMany(e.endpoint, 1000, 2, kv, () => walCount(tmp) >= segs);
      puts += await putMany(e.endpoint, EXTRA_BIG_PUTS, 2, kv);
      await stopClean(e, tmp);
      const files = describe(tmp);
      if (files.length !== segs) throw new Error(`${name}: expected ${segs} segments, found ${files.join(', ')}`);
      const dest = join(dataRoot, name);
      execFileSync('cp', ['-a', tmp, dest]);
      writeFileSync(join(dataRoot, `${name}.json`), JSON.stringify({ etcd: binDir(SERIES).version, puts, valueBytes: BIG_VALUE_BYTES, segments: files, made: new Date().toISOString() }, null, 2));
      log(`  ${name}: ${puts} puts of ${BIG_VALUE_BYTES} B, segments ${files.join(' ')}`);
      if (segs === 2) e = await startOk(tmp, log);
    }
    rmSync(tmp, { recursive: true, force: true });
    log(`  seg2/seg3 made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  if (!have('small')) {
    const t0 = Date.now();
    const tmp = join(dataRoot, 'small.tmp');
    rmSync(tmp, { recursive: true, force: true });
    rmSync(join(dataRoot, 'small'), { recursive: true, force: true });
    log(`generating small: ${SMALL_PUTS} puts of ~100-byte values into real etcd ${SERIES} (JSON API, 64 in flight; ~1.5 min)`);
    const e = await startOk(tmp, log);
    const filler = randomBytes(60).toString('hex').slice(0, 84);
    let last = Date.now();
    const n = await putMany(e.endpoint, SMALL_PUTS, 64, (i) => {
      if (Date.now() - last > 10000) { last = Date.now(); log(`  ... ${i} puts`); }
      return [`/bench/small/${String(i).padStart(7, '0')}`, `v${String(i).padStart(15, '0')}${filler}`];
    });
    await stopClean(e, tmp);
    const files = describe(tmp);
    renameSync(tmp, join(dataRoot, 'small'));
    writeFileSync(join(dataRoot, 'small.json'), JSON.stringify({ etcd: binDir(SERIES).version, puts: n, valueBytes: 100, segments: files, made: new Date().toISOString() }, null, 2));
    log(`  small: ${n} puts, segments ${files.join(' ')}, made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return Object.fromEntries(['seg2', 'seg3', 'small'].map((n) => [n, { dir: join(dataRoot, n), meta: meta(n) }]));
}

// `node bench/gen.mjs` alone: just make the data.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(new URL('..', import.meta.url).pathname, '.bench');
  const d = await ensureData(root, (m) => console.log(m));
  console.log(JSON.stringify(d, null, 2));
}
