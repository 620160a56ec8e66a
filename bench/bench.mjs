// bench/bench.mjs - `npm run bench` (after `npm run build`): wal-doctor against etcd's own tools, on
// data written by real etcd, in one run. Every command is a whole process timed by bench/go's
// runstat (wait4: user + system CPU, wall, peak RSS), the pairs interleaved run by run, best of N
// (lowest CPU time; its wall and RSS are reported with it). Ratios are only ever taken between
// numbers measured in this run.
//
//   verify k8s     `wal-doctor verify` vs etcd's wal.OpenForRead + ReadAll (bench/go walread), on
//                  1M Kubernetes-style writes (100-500 B values)                    target <= 0.8x
//   verify large5  the same, 5 segments of 100 KB values                           target <= 0.8x
//   verify large2  the same, 2 segments (Node's start-up weighs most)              target <= 1.5x
//   export k8s     `wal-doctor export > /dev/null` vs etcd-dump-logs' listing (bench/go dumplogs)
//                                                       target >= 500k entries/s and >= 3x faster
//   diff k8s       `wal-doctor diff k8s k8s-copy` vs two walread runs      target <= 2x, RSS < 200 MB
//   rebuild db     `wal-doctor rebuild --from <db>` vs `etcdutl snapshot restore`   target <= 1.5x
//   rebuild dir    `wal-doctor rebuild --from <data dir>` (+ unapplied WAL entries) vs the same
//                  etcdutl restore of its db                                          target <= 2x
//   start-up       `wal-doctor --version` vs `node -e 0`                            target <= 80 ms
//   peak RSS       every wal-doctor command above                                   target < 150 MB
// etcd tools: bench/go built from etcd 3.6.16's published modules (bench/go.mjs), etcdutl 3.6.16 from
// scripts/etcd-bin.sh 3.6. Data: bench/gen.mjs (real etcd 3.6.16, cached in .bench/data).
// Options: --runs N (default 5), --only verify,export,diff,rebuild,startup, --profile (CPU-profile each
// wal-doctor command once, print where its time goes). Table on stdout, JSON in .bench/last.json.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ensureData } from './gen.mjs';
import { goPrograms } from './go.mjs';

const REPO = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const OUT = join(REPO, '.bench');
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i < 0 ? dflt : process.argv[i + 1]; };
const RUNS = Number(arg('--runs', process.env.BENCH_RUNS ?? 5));
const ONLY = arg('--only', 'verify,export,diff,rebuild,startup').split(',');
const PROFILE = process.argv.includes('--profile');
// --before DIR: another build of wal-doctor (a checkout with dist/ built) run interleaved with this
// one, so a change's before/after come from the same run
const BEFORE = arg('--before', undefined);
const log = (m) => process.stderr.write(`bench: ${m}\n`);
const t00 = performance.now();
const load = () => loadavg().map((x) => +x.toFixed(2));
mkdirSync(OUT, { recursive: true });

const data = await ensureData(OUT, log);
const go = goPrograms(OUT, log);
const etcdutl = join(execFileSync(join(REPO, 'scripts/etcd-bin.sh'), ['3.6'], { encoding: 'utf8' }).trim(), 'etcdutl');
const WD = [process.execPath, join(REPO, 'bin/wal-doctor.js')];
const WD0 = BEFORE ? [process.execPath, join(BEFORE, 'bin/wal-doctor.js')] : undefined;
/** the cases for wal-doctor `args`: this build ('ours') and, with --before, that one ('before') */
const wd = (args, extra = {}, name = 'ours') => [{ name, cmd: [...WD, ...args], ...extra }, ...(WD0 ? [{ name: `${name}Before`, cmd: [...WD0, ...args], ...extra }] : [])];
const dir = (n) => data[n].dir;
const walOf = (n) => join(dir(n), 'member', 'wal');
const scratch = join(OUT, 'out');

/** One whole-process run through runstat: {cpuMs, wallMs, maxRssKB, exit, stdout?}. */
function runstat(cmd, { stdout, before } = {}) {
  before?.();
  const r = spawnSync(go.runstat, [...(stdout ? ['-stdout', stdout] : []), '--', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stderr.split('\n').filter((l) => l.startsWith('runstat: ')).pop();
  if (!line) throw new Error(`runstat ${cmd.join(' ')}: ${r.stderr}`);
  const s = JSON.parse(line.slice('runstat: '.length));
  return { ...s, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('runstat: ')).join('\n') };
}

/**
 * Runs every {name, cmd, ok} of `cases` RUNS times, interleaved (a b c, a b c, ...), after one
 * warm-up round; returns per case the best run (lowest CPU) and all CPU times.
 */
function measure(cases) {
  const runs = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let i = -1; i < RUNS; i++) {
    for (const c of cases) {
      const s = runstat(c.cmd, c);
      const want = c.exit ?? [0];
      if (!want.includes(s.exit)) throw new Error(`${c.name}: ${c.cmd.join(' ')} exited ${s.exit}: ${s.stderr.slice(0, 500)}`);
      if (i >= 0) runs[c.name].push(s);
    }
  }
  return Object.fromEntries(cases.map((c) => {
    const all = runs[c.name];
    const best = all.reduce((a, b) => (b.cpuMs < a.cpuMs ? b : a));
    return [c.name, { cpuMs: best.cpuMs, wallMs: best.wallMs, maxRssMB: +(Math.max(...all.map((x) => x.maxRssKB)) / 1024).toFixed(1), cpuRuns: all.map((x) => Math.round(x.cpuMs)), cmd: c.cmd.map((a) => a.replace(REPO + '/', '')).join(' ') }];
  }));
}

const result = { when: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, runs: RUNS, loadavgStart: load(), data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.meta])), rows: [] };
const row = (r) => { result.rows.push(r); log(`  ${r.measure}: ${f0(r.ours.cpuMs)} vs ${r.theirs ? f0(r.theirs.cpuMs) : '-'} ms CPU -> ${r.ratio ?? ''} ${r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS'}`); };
const ratio = (a, b) => +(a / b).toFixed(2);
const f0 = (x) => Math.round(x).toLocaleString('en-US');

// ---- verify --------------------------------------------------------------------------------------
if (ONLY.includes('verify')) {
  for (const [n, target] of [['k8s', 0.8], ['large5', 0.8], ['large2', 1.5]]) {
    log(`verify ${n}: wal-doctor verify vs etcd's wal.ReadAll, ${RUNS} interleaved runs`);
    const m = measure([
      ...wd(['verify', dir(n)]),
      { name: 'etcd', cmd: [go.walread, walOf(n)] },
    ]);
    row({ measure: `verify ${n}`, ours: m.ours, before: m.oursBefore, theirs: m.etcd, ratio: ratio(m.ours.cpuMs, m.etcd.cpuMs), target: `<= ${target}x etcd wal.ReadAll (CPU)`, pass: m.ours.cpuMs <= target * m.etcd.cpuMs });
  }
}

// ---- export --------------------------------------------------------------------------------------
if (ONLY.includes('export')) {
  log(`export k8s: wal-doctor export > /dev/null vs etcd-dump-logs' listing (bench/go dumplogs)`);
  const entries = data.k8s.meta.revision; // one entry per write, plus etcd's own few: counted below
  // the listing is ~100 MB per 1M entries: to a file, and only its summary line read back
  mkdirSync(scratch, { recursive: true });
  const listing = join(scratch, 'dumplogs.txt');
  execFileSync('sh', ['-c', 'exec "$0" "$1" > "$2"', go.dumplogs, dir('k8s'), listing]);
  // etcd-dump-logs prints `WAL entries: N` in its header, before the listing
  const counted = Number(/WAL entries: (\d+)/.exec(execFileSync('head', ['-n', '20', listing], { encoding: 'utf8' }))?.[1]);
  if (!Number.isFinite(counted)) throw new Error(`bench: no 'WAL entries: N' line at the head of etcd-dump-logs' listing`);
  rmSync(listing, { force: true });
  const m = measure([
    ...wd(['export', dir('k8s')]),
    { name: 'etcd', cmd: [go.dumplogs, dir('k8s')] },
  ]);
  const perSec = (s) => Math.round(counted / (s.wallMs / 1000));
  row({ measure: 'export k8s', ours: m.ours, before: m.oursBefore, theirs: m.etcd, ratio: ratio(m.ours.cpuMs, m.etcd.cpuMs), entries: counted || entries, oursEntriesPerSec: perSec(m.ours), ...(m.oursBefore ? { beforeEntriesPerSec: perSec(m.oursBefore) } : {}), etcdEntriesPerSec: perSec(m.etcd), target: '>= 500,000 entries/s and >= 3x etcd-dump-logs', pass: perSec(m.ours) >= 500000 && m.ours.cpuMs * 3 <= m.etcd.cpuMs });
}

// ---- diff ----------------------------------------------------------------------------------------
if (ONLY.includes('diff')) {
  log('diff k8s k8s-copy vs two etcd wal.ReadAll runs');
  const m = measure([
    ...wd(['diff', dir('k8s'), dir('k8s-copy')]),
    { name: 'etcd', cmd: [go.walread, walOf('k8s')] },
    { name: 'etcd2', cmd: [go.walread, walOf('k8s-copy')] },
  ]);
  const two = { cpuMs: m.etcd.cpuMs + m.etcd2.cpuMs, wallMs: m.etcd.wallMs + m.etcd2.wallMs, maxRssMB: Math.max(m.etcd.maxRssMB, m.etcd2.maxRssMB) };
  row({ measure: 'diff k8s k8s-copy', ours: m.ours, before: m.oursBefore, theirs: two, ratio: ratio(m.ours.cpuMs, two.cpuMs), target: '<= 2x two wal.ReadAll (CPU), RSS < 200 MB', pass: m.ours.cpuMs <= 2 * two.cpuMs && m.ours.maxRssMB < 200 });
}

// ---- rebuild -------------------------------------------------------------------------------------
if (ONLY.includes('rebuild')) {
  mkdirSync(scratch, { recursive: true });
  const clean = () => { for (const f of readdirSync(scratch)) rmSync(join(scratch, f), { recursive: true, force: true }); };
  const db = join(dir('k8s'), 'member', 'snap', 'db');
  log('rebuild from the k8s db and from the k8s data dir vs etcdutl snapshot restore (3.6.16)');
  const m = measure([
    ...wd(['rebuild', '--from', db, '--out', join(scratch, 'a'), '--skip-hash-check'], { before: clean }, 'oursDb'),
    { name: 'etcd', cmd: [etcdutl, 'snapshot', 'restore', db, '--data-dir', join(scratch, 'b'), '--skip-hash-check'], before: clean },
    ...wd(['rebuild', '--from', dir('k8s'), '--out', join(scratch, 'c'), '--unapplied', join(scratch, 'c.ndjson')], { before: clean }, 'oursDir'),
  ]);
  clean();
  row({ measure: 'rebuild from db', ours: m.oursDb, before: m.oursDbBefore, theirs: m.etcd, ratio: ratio(m.oursDb.cpuMs, m.etcd.cpuMs), target: '<= 1.5x etcdutl snapshot restore (CPU)', pass: m.oursDb.cpuMs <= 1.5 * m.etcd.cpuMs });
  row({ measure: 'rebuild from data dir', ours: m.oursDir, before: m.oursDirBefore, theirs: m.etcd, ratio: ratio(m.oursDir.cpuMs, m.etcd.cpuMs), target: '<= 2x etcdutl snapshot restore (CPU)', pass: m.oursDir.cpuMs <= 2 * m.etcd.cpuMs });
}

// ---- start-up ------------------------------------------------------------------------------------
if (ONLY.includes('startup')) {
  log('start-up: wal-doctor --version vs node -e 0');
  const m = measure([
    ...wd(['--version']),
    { name: 'node', cmd: [process.execPath, '-e', '0'] },
  ]);
  row({ measure: 'wal-doctor --version', ours: m.ours, before: m.oursBefore, theirs: m.node, ratio: ratio(m.ours.cpuMs, m.node.cpuMs), target: '<= 80 ms wall', pass: m.ours.wallMs <= 80 });
}

// ---- profiles ------------------------------------------------------------------------------------
function topFunctions(profDir, n = 15) {
  const f = readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
  const p = JSON.parse(readFileSync(join(profDir, f), 'utf8'));
  const dt = new Map();
  p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const self = new Map();
  let total = 0;
  for (const nd of p.nodes) {
    const t = dt.get(nd.id) ?? 0; total += t;
    const cf = nd.callFrame;
    const k = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(k, (self.get(k) ?? 0) + t);
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([fn, t]) => ({ fn, pct: +(100 * t / total).toFixed(1), ms: Math.round(t / 1000) }));
}
if (PROFILE) {
  result.profile = {};
  for (const [name, args] of [['verify', ['verify', dir('k8s')]], ['export', ['export', dir('k8s')]], ['diff', ['diff', dir('k8s'), dir('k8s-copy')]]]) {
    if (!ONLY.includes(name)) continue;
    const pd = join(OUT, `prof-${name}`);
    rmSync(pd, { recursive: true, force: true });
    spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${pd}`, ...WD.slice(1), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    result.profile[name] = topFunctions(pd);
  }
}

result.loadavgEnd = load();
result.totalSeconds = Math.round((performance.now() - t00) / 1000);
writeFileSync(join(OUT, 'last.json'), JSON.stringify(result, null, 2) + '\n');

// ---- table ---------------------------------------------------------------------------------------
const cell = (s) => (s ? `${f0(s.cpuMs)} ms CPU, ${f0(s.wallMs)} ms wall, ${s.maxRssMB} MB` : '-');
console.log(`wal-doctor bench  ${result.when}  node ${result.node}  ${result.cpus} cpus  load ${result.loadavgStart.join(' ')} -> ${result.loadavgEnd.join(' ')}  best of ${RUNS}`);
console.log(`data: k8s = ${f0(data.k8s.meta.creates)} creates + ${f0(data.k8s.meta.updates)} updates (${data.k8s.meta.segments.length} segments), large5/large2 = ${data.large5.meta.segments.length}/${data.large2.meta.segments.length} segments of ${f0(data.large5.meta.valueBytes)} B puts; etcd ${data.k8s.meta.etcd}\n`);
const B = result.rows.some((r) => r.before);
console.log(`| measure | ${B ? 'before (--before) | ratio before | ' : ''}wal-doctor | etcd's tool | ratio (CPU) | target | |`);
console.log(`| --- | ${B ? '--- | --- | ' : ''}--- | --- | --- | --- | --- |`);
for (const r of result.rows) {
  const extra = r.oursEntriesPerSec ? ` (${f0(r.oursEntriesPerSec)} vs ${f0(r.etcdEntriesPerSec)} entries/s wall)` : '';
  const before = B ? `${cell(r.before)} | ${r.before ? `${ratio(r.before.cpuMs, r.theirs.cpuMs)}x${r.beforeEntriesPerSec ? ` (${f0(r.beforeEntriesPerSec)} entries/s)` : ''}` : '-'} | ` : '';
  console.log(`| ${r.measure} | ${before}${cell(r.ours)} | ${cell(r.theirs)} | ${r.ratio}x${extra} | ${r.target} | ${r.pass ? 'PASS' : 'MISS'} |`);
}
const rss = result.rows.map((r) => r.ours.maxRssMB);
if (rss.length) console.log(`\npeak RSS of wal-doctor, every command above: max ${Math.max(...rss)} MB (target < 150 MB): ${Math.max(...rss) < 150 ? 'PASS' : 'MISS'}`);
if (result.profile) {
  for (const [mode, top] of Object.entries(result.profile)) {
    console.log(`\nwhere ${mode} spends its time (self time, --cpu-prof)`);
    for (const t of top) console.log(`  ${t.pct.toFixed(1).padStart(5)} %  ${String(t.ms).padStart(6)} ms  ${t.fn}`);
  }
}
console.log(`\n${result.totalSeconds} s; JSON in .bench/last.json`);
