#!/usr/bin/env node
// scripts/boot-fuzz.mjs - damage that nobody designed, judged by real etcd.
//
//   node scripts/boot-fuzz.mjs [--series 3.5] [--cases 100] [--seed 1] [--kinds a,b] [--block 4096] [--zeros] [--repair] [--keep DIR] [--out .bench/boot-fuzz.ndjson]
//
// Each case takes a fixture written by real etcd of that release line (3.6's Kubernetes-style
// v36-k8s-txn for 3.7 too: 3.7 boots it unchanged), damages a copy at random
// (db: truncated at a random size, a random page zeroed, a random byte flipped, deleted; WAL: a bit
// flipped, a range zeroed, truncated, a length word zeroed, garbage after the end; .snap: flipped,
// cut, deleted; content with a valid CRC chain through fixtures/damage.mjs: an entry type etcd does
// not know, a payload that does not unmarshal, the member ID changed, a .snap without voters, a db
// value or a key name flipped, a revision key out of order; with --kinds power-cut, what a power cut
// can leave: etcd is booted on a copy, writes new keys with a low --snapshot-count and is killed -9,
// and each file of the case takes every 4 KiB block (--block) from the state before or after that
// session at random, its size from either, and a file made or removed in between is there or not),
// asks `wal-doctor verify` (in process,
// the same analysis), then boots real etcd on another copy, dumps every key and writes one more
// (etcd that answers /health and dies at the first read counts as failed). It counts:
//   - the promise: verify exit 0 where etcd did not start, did not serve every key of the fixture's
//     manifest exactly, or did not take the write (must be 0);
//   - outcome agreement: our prediction (fails / never serves / starts) against what etcd did;
//   - text agreement: where etcd died, its error and log message equal ours (or the race alternative).
// Needs `npm run build` and etcd (scripts/etcd-bin.sh). Prints a summary; one JSON line per case.
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const SERIES = arg('--series', '3.5');
const CASES = Number(arg('--cases', '100'));
let seed = Number(arg('--seed', '1')) >>> 0;
const KINDS = arg('--kinds', undefined)?.split(',');
const REPAIR = process.argv.includes('--repair'); // also `repair --auto` each case verify does not call healthy, then boot that
// power cuts: the unit a disk writes whole (4096: a page; 512: a sector, so a 4 KiB page can be half
// written), and --zeros: a block past a file's old end may read as zeros (an extent allocated, its
// data never written: what XFS and ext4 without data=ordered can show after a crash)
const BLOCK = Number(arg('--block', '4096'));
const ZEROS = process.argv.includes('--zeros');
const KEEP = arg('--keep', undefined); // a directory: each case that breaks the promise or disagrees is copied there
const OUT = arg('--out', join(REPO, '.bench', `boot-fuzz-${SERIES}.ndjson`));
const rnd = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const ri = (n) => Math.floor(rnd() * n);

const { inspectPath } = await import(`${REPO}/dist/src/inspect/analyze.js`);
const { bootEtcd, getAll, compareKeys, put, parseEtcdLog, etcdctl, fileList } = await import(`${REPO}/dist/test/support/etcd.js`);
const { applyDamage } = await import(`${REPO}/fixtures/damage.mjs`);

const BASES = { '3.4': ['v34-workload'], '3.5': ['v35-workload', 'v35-snapshots', 'v35-crash'], '3.6': ['v36-workload', 'v36-crash', 'v36-k8s-txn'], '3.7': ['v37-workload', 'v37-crash', 'v36-k8s-txn'] }[SERIES];
if (!BASES) throw new Error(`--series: 3.4, 3.5, 3.6 or 3.7`);
const work = mkdtempSync(join(tmpdir(), 'wal-doctor-boot-fuzz-'));
const bases = new Map();
for (const b of BASES) {
  const dir = join(work, 'base', b);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', join(REPO, 'fixtures', `${b}.tar.gz`), '-C', dir]);
  bases.set(b, { dir, manifest: JSON.parse(readFileSync(join(REPO, 'fixtures', `${b}.manifest.json`), 'utf8')) });
}

const poke = (p, off, bytes) => {
  const fd = openSync(p, 'r+');
  writeSync(fd, bytes, 0, bytes.length, off);
  closeSync(fd);
};
const wal = (d) => join(d, 'member', 'wal');
const segs = (d) => readdirSync(wal(d)).filter((f) => /\.wal$/.test(f)).sort().map((f) => join(wal(d), f));
const snaps = (d) => readdirSync(join(d, 'member', 'snap')).filter((f) => f.endsWith('.snap')).map((f) => join(d, 'member', 'snap', f));
const db = (d) => join(d, 'member', 'snap', 'db');
/** end of the records in a segment: the first 8-byte zero word, walking frames */
function usedEnd(p) {
  const b = readFileSync(p);
  let off = 0;
  while (off + 8 <= b.length) {
    const lo = b.readUInt32LE(off);
    const hi = b.readUInt32LE(off + 4);
    if (lo === 0 && hi === 0) break;
    const pad = hi >>> 31 ? (hi >>> 24) & 7 : 0;
    off += 8 + lo + (hi & 0xffffff) * 2 ** 32 + pad;
  }
  return Math.min(off, b.length);
}
function frames(p) {
  const b = readFileSync(p);
  const out = [];
  let off = 0;
  while (off + 8 <= b.length) {
    const lo = b.readUInt32LE(off);
    const hi = b.readUInt32LE(off + 4);
    if (lo === 0 && hi === 0) break;
    out.push(off);
    off += 8 + lo + ((hi >>> 31 ? (hi >>> 24) & 7 : 0));
  }
  return out;
}

// ---- power cut ---------------------------------------------------------------------------------
// The state after a session of new writes (etcd killed -9 in the middle of them), and the keys it
// wrote: a power cut during that session leaves, per file, some of its blocks written and some not.
const PAIRS_PER_BASE = 3;
const sessions = new Map();
async function afterSession(baseName, base) {
  const list = sessions.get(baseName) ?? [];
  sessions.set(baseName, list);
  if (list.length >= PAIRS_PER_BASE) return list[ri(list.length)];
  const dir = join(work, 'session', `${baseName}-${list.length}`);
  mkdirSync(join(work, 'session'), { recursive: true });
  execFileSync('cp', ['-a', base.dir, dir]);
  const snapCount = 3 + ri(20);
  const e = await bootEtcd(SERIES, dir, { timeoutMs: 20000, args: ['--snapshot-count', String(snapCount)] });
  const written = new Map(); // key -> values it may hold (acknowledged or in flight at the kill)
  // One session in three writes ~1 MB values past the 64 MB of the first segment: the power cut
  // then falls around a segment cut (a .tmp made, preallocated, renamed; a new segment begun).
  const big = rnd() < 0.35;
  if (e.ok) {
    const rounds = big ? 62 + ri(14) : 5 + ri(40);
    const killAt = big ? 55 + ri(rounds - 55) : ri(rounds);
    for (let r = 0; r < rounds; r++) {
      const ops = [];
      const n = big ? 1 : 1 + ri(12);
      for (let i = 0; i < n; i++) {
        const key = big ? `/power-cut/${list.length}/big${r}` : `/power-cut/${list.length}/${ri(30)}`;
        const value = `v${r}.${i}.` + (big ? String.fromCharCode(97 + (r % 26)).repeat(1_000_000 + ri(100_000)) : 'x'.repeat(ri(r % 3 === 0 ? 3000 : 200)));
        ops.push(`put ${key} ${value}`);
        const vs = written.get(key) ?? new Set();
        vs.add(value);
        written.set(key, vs);
      }
      // a 1 MB value goes on stdin to `put` (txn reads its ops a line at a time)
      const txn = (big ? etcdctl(e.endpoint, ['put', ops[0].split(' ')[1]], SERIES, ops[0].split(' ')[2]) : etcdctl(e.endpoint, ['txn'], SERIES, `\n${ops.join('\n')}\n\n`)).catch(() => undefined);
      if (r === killAt) {
        await new Promise((res) => setTimeout(res, ri(40)));
        break;
      }
      await txn;
    }
    await e.stop(true);
  }
  const s = { dir, written, snapCount, big };
  list.push(s);
  return s;
}

/** Files under `dir` (relative), with their sizes. */
const filesOf = (dir) => new Map(fileList(dir).map((f) => [f, statSync(join(dir, f)).size]));

/** `dir` (a copy of the base) becomes a power-cut mix of the base and the session after it. */
function powerCut(dir, baseDir, after) {
  const before = filesOf(baseDir);
  const later = filesOf(after.dir);
  const took = [];
  for (const f of new Set([...before.keys(), ...later.keys()])) {
    const p = join(dir, f);
    const b = before.get(f);
    const l = later.get(f);
    if (l === undefined) {
      // removed in the session (a purged .snap, a renamed .tmp): the removal may not have reached the disk
      if (rnd() < 0.5) { rmSync(p, { force: true }); took.push(`-${f}`); }
      continue;
    }
    if (b !== undefined && readFileSync(join(baseDir, f)).equals(readFileSync(join(after.dir, f)))) continue;
    if (b === undefined && rnd() < 0.3) { took.push(`(${f} not made)`); continue; } // the create did not reach the disk
    const newer = readFileSync(join(after.dir, f));
    const older = b === undefined ? Buffer.alloc(0) : readFileSync(join(baseDir, f));
    // the size is one of the two, or for a new file any multiple of BLOCK up to its size
    const size = b === undefined ? Math.min(l, rnd() < 0.5 ? l : ri(Math.ceil(l / BLOCK) + 1) * BLOCK) : rnd() < 0.5 ? l : b;
    const out = Buffer.alloc(size);
    const pNew = [0.1, 0.5, 0.9][ri(3)];
    let fromNew = 0;
    let blocks = 0;
    let zeroed = 0;
    for (let off = 0; off < size; off += BLOCK) {
      const end = Math.min(size, off + BLOCK);
      const a = older.subarray(off, end);
      const c = newer.subarray(off, end);
      if (a.equals(c)) { a.copy(out, off); continue; }
      blocks++;
      if (ZEROS && off >= older.length && rnd() < 0.3) { zeroed++; continue; } // out is zeros already
      const src = rnd() < pNew ? c : a;
      if (src === c) fromNew++;
      src.copy(out, off); // past a file's end: zeros
    }
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, out);
    took.push(`${f}:${size === l ? 'newSize' : size === b ? 'oldSize' : size}:${fromNew}/${blocks}${zeroed ? `:${zeroed}z` : ''}`);
  }
  return took.join(' ').slice(0, 300);
}

const MUTATIONS = [
  ['db-truncate', (d) => { const size = statSync(db(d)).size; const to = ri(Math.min(size, 512 * 1024)); truncateSync(db(d), to); return `to ${to}`; }],
  ['db-zero-page', (d) => { const pages = Math.min(64, Math.floor(statSync(db(d)).size / 4096)); const p = ri(pages); poke(db(d), p * 4096, Buffer.alloc(4096)); return `page ${p}`; }],
  ['db-flip', (d) => { const pages = Math.min(64, Math.floor(statSync(db(d)).size / 4096)); const off = ri(pages * 4096); const b = readFileSync(db(d)); poke(db(d), off, Buffer.from([b[off] ^ (1 << ri(8))])); return `byte ${off}`; }],
  ['db-delete', (d) => { unlinkSync(db(d)); return 'deleted'; }],
  ['wal-flip', (d) => { const s = segs(d); const p = s[ri(s.length)]; const e = usedEnd(p); const off = ri(e); const b = readFileSync(p); poke(p, off, Buffer.from([b[off] ^ (1 << ri(8))])); return `${p.split('/').pop()}@${off}`; }],
  ['wal-zero-range', (d) => { const s = segs(d); const p = s[s.length - 1]; const e = usedEnd(p); const off = ri(e); const len = 1 + ri(700); poke(p, off, Buffer.alloc(len)); return `@${off}+${len}`; }],
  ['wal-truncate', (d) => { const s = segs(d); const p = s[s.length - 1]; const off = ri(usedEnd(p) + 1); truncateSync(p, off); return `@${off}`; }],
  ['wal-zero-word', (d) => { const s = segs(d); const p = s[s.length - 1]; const f = frames(p); const off = f[1 + ri(f.length - 1)]; poke(p, off, Buffer.alloc(8)); return `@${off}`; }],
  ['wal-garbage-after', (d) => { const s = segs(d); const p = s[s.length - 1]; const off = usedEnd(p) + ri(32); const g = Buffer.alloc(1 + ri(200)); for (let i = 0; i < g.length; i++) g[i] = ri(256); poke(p, off, g); return `@${off}+${g.length}`; }],
  ['snap-flip', (d) => { const s = snaps(d); if (!s.length) return undefined; const p = s[ri(s.length)]; const b = readFileSync(p); const off = ri(b.length); poke(p, off, Buffer.from([b[off] ^ (1 << ri(8))])); return `${p.split('/').pop()}@${off}`; }],
  ['snap-truncate', (d) => { const s = snaps(d); if (!s.length) return undefined; const p = s[ri(s.length)]; const off = ri(statSync(p).size); truncateSync(p, off); return `${p.split('/').pop()}@${off}`; }],
  ['snap-delete', (d) => { const s = snaps(d); if (!s.length) return undefined; const p = s[ri(s.length)]; unlinkSync(p); return p.split('/').pop(); }],
  ...['entry-type-unknown', 'entry-undecodable', 'zero-length-mid', 'member-not-voter', 'db-value-bitflip', 'db-key-bitflip', 'db-revision-disorder', 'db-revision-separator', 'snap-no-voters', 'record-cut-inside'].map((k) => [k, (d) => {
    if (k === 'snap-no-voters' && !snaps(d).length) return undefined;
    const target = ['entry-type-unknown', 'zero-length-mid'].includes(k) && rnd() < 0.5 ? 'after-consistent-index' : 'middle';
    try {
      const r = applyDamage(k, d, { seed: 1 + ri(1000), target });
      return r.description.slice(0, 120);
    } catch (e) {
      return undefined; // not applicable to this base (no entry above the consistent index, ...)
    }
  }]),
];

async function boot(dir, manifest, written) {
  const copy = join(work, 'boot');
  rmSync(copy, { recursive: true, force: true });
  execFileSync('cp', ['-a', dir, copy]);
  const e = await bootEtcd(SERIES, copy, { timeoutMs: 20000 });
  try {
    if (!e.ok) return { state: /^not healthy within/.test(e.error ?? '') ? 'never-healthy' : 'fails', error: e.fatal?.error ?? e.error ?? null, log: e.fatal?.message ?? null };
    let served;
    try {
      served = await getAll(e.endpoint, SERIES);
    } catch (err) {
      // Healthy, then gone or silent: etcd died after /health answered (a panic racing the first
      // reads, as 3.4's apply of an entry it cannot decode), or it stopped serving.
      const { fatal } = parseEtcdLog(readFileSync(e.logFile, 'utf8'));
      if (fatal) return { state: 'fails', error: fatal.error ?? fatal.message ?? null, log: fatal.message ?? null, afterHealthy: true };
      return { state: 'starts', everything: false, missing: null, wrong: null, write: `not served: ${String(err.message ?? err).split('\n').filter(Boolean).pop()}` };
    }
    const cmp = compareKeys(served.kvs, manifest.keys);
    let write = 'ok';
    try {
      await put(e.endpoint, '/boot-fuzz/probe', 'x', SERIES);
      const after = await getAll(e.endpoint, SERIES);
      if (after.kvs.get('/boot-fuzz/probe')?.value.toString() !== 'x') write = 'lost';
    } catch (err) {
      write = `failed: ${String(err.message ?? err).split('\n').filter(Boolean).pop()}`;
    }
    // after a power cut: a key the session wrote may be served or not, but only with a value it wrote
    if (written) for (const k of cmp.extra) if (!written.get(k)?.has(served.kvs.get(k).value.toString())) cmp.wrong.push(k);
    return { state: 'starts', everything: cmp.missing.length === 0 && cmp.wrong.length === 0 && write === 'ok', missing: cmp.missing.length, wrong: cmp.wrong.length, write };
  } finally {
    await e.stop(true);
    rmSync(copy, { recursive: true, force: true });
  }
}

mkdirSync(join(REPO, '.bench'), { recursive: true });
const tally = { cases: 0, repaired: 0, repairBroken: 0, repairRefused: 0, promiseBroken: 0, outcomeAgree: 0, died: 0, textAgree: 0, healthy: 0, mismatch: 0, mismatchServed: 0, byKind: {} };
for (let n = 0; n < CASES; ) {
  const baseName = BASES[ri(BASES.length)];
  const base = bases.get(baseName);
  const pool = KINDS ? [...MUTATIONS, ['power-cut', undefined]].filter(([k]) => KINDS.includes(k)) : MUTATIONS;
  const [kind, mutate] = pool[ri(pool.length)];
  const dir = join(work, 'case');
  rmSync(dir, { recursive: true, force: true });
  execFileSync('cp', ['-a', base.dir, dir]);
  const after = kind === 'power-cut' ? await afterSession(baseName, base) : undefined;
  const what = after ? powerCut(dir, base.dir, after) : mutate(dir);
  if (what === undefined) continue;
  n++;
  let a;
  try {
    a = inspectPath(dir, { etcdVersion: SERIES, checkHolders: false });
  } catch (e) {
    a = undefined;
    console.error(`case ${n}: wal-doctor failed: ${e.message}`);
  }
  const p = a?.report.etcd.find((x) => x.version === SERIES);
  const kept = KEEP ? join(KEEP, `${SERIES}-${n}`) : undefined;
  if (kept) { rmSync(kept, { recursive: true, force: true }); mkdirSync(KEEP, { recursive: true }); execFileSync('cp', ['-a', dir, kept]); }
  const real = await boot(dir, base.manifest, after?.written);
  const exit = a?.report.verdict.exitCode;
  let ours = p ? (p.outcome === 'self-repairs' ? 'starts' : p.outcome) : 'none';
  // A db ahead of the log delays 3.6+ by 7 s per publish attempt: healthy within the boot's 20 s
  // when the attempts (and the election before them) fit.
  if (ours === 'never-healthy' && p.stall?.code === 'db-ahead' && p.stall.timeouts * 7 + 4 < 20) ours = 'starts';
  const agree = ours === real.state;
  const said = (e, l) => e === real.error && l === real.log;
  const textAgree = real.state === 'fails' && p ? said(p.error, p.log) || (p.orElse !== null && said(p.orElse.error, p.orElse.log)) : undefined;
  const broken = exit === 0 && !(real.state === 'starts' && real.everything);
  // the WAL and the db tell two histories, says the check: etcd must then not serve every key as written
  const mismatch = a?.report.findings.some((f) => f.code === 'db-wal-mismatch') === true;
  const mismatchServed = mismatch && real.state === 'starts' && real.everything;
  if (mismatch) tally.mismatch++;
  if (mismatchServed) tally.mismatchServed++;
  tally.cases++;
  if (broken) tally.promiseBroken++;
  if (agree) tally.outcomeAgree++;
  if (exit === 0) tally.healthy++;
  if (real.state === 'fails') {
    tally.died++;
    if (textAgree) tally.textAgree++;
  }
  const k = (tally.byKind[kind] ??= { cases: 0, agree: 0 });
  k.cases++;
  if (agree) k.agree++;
  // `repair --auto` (what ExecStartPre runs): where it changes the dir, etcd must then start, serve
  // every key written before the damage and take a write.
  let repair;
  if (REPAIR && a && exit !== 0) {
    const backup = join(work, 'repair-backup');
    rmSync(backup, { recursive: true, force: true });
    let code = 0;
    let said = '';
    try {
      said = execFileSync(process.execPath, [join(REPO, 'dist/src/cli/main.js'), 'repair', '--auto', '--yes', '--backup-dir', backup, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      code = e.status ?? -1;
      said = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    }
    // A repair that changed the dir is judged by etcd whatever its exit code: one that applied its
    // steps and then said "now: needs-rebuild" left a dir behind too.
    if (code === 0 || /^applied \d+ step/m.test(said)) {
      tally.repaired++;
      const after2 = await boot(dir, base.manifest, after?.written);
      // Every key, or (where etcd started without the repair) no fewer than it served: a damage
      // that destroyed a write's only record (its length word raised) takes it from etcd too.
      const good = after2.state === 'starts' && after2.write === 'ok' && after2.wrong === 0 && (after2.missing === 0 || (real.state === 'starts' && real.wrong === 0 && after2.missing <= real.missing));
      if (!good) tally.repairBroken++;
      repair = { code, boot: after2, good, said: said.split('\n').filter(Boolean).slice(-1)[0] ?? '' };
      if (!good) console.error(`case ${n} ${kind} ${what}: REPAIR BROKEN: repair --auto exit ${code}, then etcd ${after2.state} ${after2.error ?? ''} missing ${after2.missing} wrong ${after2.wrong} write ${after2.write}\n${said.split('\n').slice(0, 8).join('\n')}`);
    } else {
      tally.repairRefused++;
      repair = { code, said: said.split('\n').filter(Boolean).slice(-1)[0] ?? '' };
    }
  }
  const line = { n, series: SERIES, base: baseName, kind, what, verdict: a?.report.verdict.status, reason: a?.report.verdict.reason?.code, exit, ours, oursError: p?.error ?? null, real, agree, textAgree, promiseBroken: broken, mismatch, mismatchServed, ...(repair ? { repair } : {}) };
  appendFileSync(OUT, JSON.stringify(line) + '\n');
  if (kept && !(broken || mismatchServed || !agree || textAgree === false || (repair && repair.code === 0 && !repair.good))) rmSync(kept, { recursive: true, force: true });
  if (broken || mismatchServed || !agree || textAgree === false) console.error(`case ${n} ${kind} ${what}: ${broken ? 'PROMISE BROKEN ' : ''}${mismatchServed ? 'MISMATCH FOUND WHERE ETCD SERVES EVERY KEY ' : ''}ours ${ours} ${p?.log ?? ''} / ${p?.error ?? ''}; etcd ${real.state} ${real.log ?? ''} / ${real.error ?? ''}`);
}
rmSync(work, { recursive: true, force: true });
console.log(`etcd ${SERIES}: ${tally.cases} cases; verify exit 0 on ${tally.healthy}, of which etcd did not start, serve every key and take a write on ${tally.promiseBroken}; outcome agreed on ${tally.outcomeAgree}/${tally.cases}; the WAL/db check found two histories on ${tally.mismatch}, of which etcd served every key as written on ${tally.mismatchServed}; where etcd died, its error and log message equal ours on ${tally.textAgree}/${tally.died}`);
if (REPAIR) console.log(`repair --auto: changed ${tally.repaired} dirs (whatever its exit code), of which etcd then did not start, serve every key and take a write on ${tally.repairBroken}; refused ${tally.repairRefused}`);
for (const [k, v] of Object.entries(tally.byKind).sort()) console.log(`  ${k.padEnd(20)} ${v.agree}/${v.cases}`);
if (tally.promiseBroken > 0 || tally.repairBroken > 0) process.exitCode = 1;
