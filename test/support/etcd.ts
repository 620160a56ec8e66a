// Test helpers that run REAL etcd (Debian 3.4.23 / 3.5.30, and 3.6.16 / 3.7.3 built from upstream's Go
// modules, all via scripts/etcd-bin.sh) on 127.0.0.1.
// Tests needing etcd: `const bin = await etcdBin('3.5'); if (!bin) return t.skip('etcd 3.5 binary not
// available: this test was NOT run');` — with CI=true etcdBin throws instead, so CI fails loudly.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './fixtures.js';
import type { EtcdSeries, FixtureManifest, ManifestKey } from './fixtures.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PORT_LO = 25000;
const PORT_HI = 25999;

/** The environment etcd's tools run in: no ETCD_/ETCDCTL_ settings of the caller's, API v3. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^ETCD(CTL)?_/.test(k)) env[k] = v;
  env['ETCDCTL_API'] = '3';
  return env;
}

const binCache = new Map<EtcdSeries, Promise<string | undefined>>();
/**
 * Directory holding etcd/etcdctl for `version` (runs scripts/etcd-bin.sh, which downloads once).
 * Not available: throws when CI=true, else resolves undefined so the caller can t.skip(...).
 */
export function etcdBin(version: EtcdSeries): Promise<string | undefined> {
  let p = binCache.get(version);
  if (!p) {
    p = run(join(REPO_ROOT, 'scripts', 'etcd-bin.sh'), [version], { encoding: 'utf8' }).then(
      (r) => r.stdout.trim(),
      (err: { stderr?: string; message: string }) => {
        const why = (err.stderr ?? err.message).trim();
        if (process.env['CI'] === 'true') throw new Error(`etcd ${version} binary not available in CI (scripts/etcd-bin.sh ${version} failed): ${why}`);
        return undefined;
      },
    );
    binCache.set(version, p);
  }
  return p;
}

/**
 * The etcd binary dir, or undefined after marking the test skipped ("NOT run"); with CI=true a
 * missing binary has already thrown in etcdBin, so CI fails instead of skipping.
 */
export async function needEtcd(t: import('node:test').TestContext, version: EtcdSeries): Promise<string | undefined> {
  const bin = await etcdBin(version);
  if (!bin) t.skip(`etcd ${version} binary not available: this test was NOT run`);
  return bin;
}

async function mustBin(version: EtcdSeries): Promise<string> {
  const b = await etcdBin(version);
  if (!b) throw new Error(`etcd ${version} binary not available (scripts/etcd-bin.sh ${version} failed)`);
  return b;
}

const portFree = (port: number) => new Promise<boolean>((res) => {
  const s = createServer();
  s.once('error', () => res(false));
  s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
});

async function pickPorts(): Promise<number> {
  const n = (PORT_HI - PORT_LO + 1) >> 1;
  const start = Math.floor(Math.random() * n);
  for (let i = 0; i < n; i++) {
    const p = PORT_LO + ((start + i) % n) * 2;
    if ((await portFree(p)) && (await portFree(p + 1))) return p;
  }
  throw new Error(`no free port pair in ${PORT_LO}-${PORT_HI}`);
}

export interface LogVerdict {
  /** first fatal/panic entry: its msg and its error field (Go "panic: ..." lines too) */
  fatal: { message: string; error: string | null } | null;
  /** "repaired WAL" entries */
  repaired: { message: string; error: string | null }[];
}

/** read etcd's log: zap JSON (3.5, 3.6, 3.7; 3.4 with --logger=zap) or 3.4's capnslog text */
export function parseEtcdLog(text: string): LogVerdict {
  let fatal: LogVerdict['fatal'] = null;
  const repaired: LogVerdict['repaired'] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('{')) {
      let j: { level?: string; msg?: string; error?: string; panic?: string };
      try { j = JSON.parse(line) as typeof j; } catch { continue; }
      // a panic in one of etcd's scheduled jobs (3.6+: `execute job failed`) carries the cause in `panic`, not `error`;
      // protobuf-go (3.7) writes `proto:` + U+00A0 or a space, chosen per binary on purpose: compare with a space
      const e = { message: j.msg ?? '', error: (j.error ?? j.panic)?.replace(/\u00a0/g, ' ') ?? null };
      if (!fatal && ['fatal', 'panic', 'dpanic'].includes(j.level ?? '')) fatal = e;
      if (/^repaired WAL/.test(j.msg ?? '')) repaired.push(e);
    } else if (!fatal && line.startsWith('panic: ')) {
      fatal = { message: 'panic', error: line.slice(7).trim() };
    } else if (!fatal && line.startsWith('fatal error: ')) {
      // A Go runtime fault (bbolt reading a page past the end of the file): `fatal error: fault`
      // followed by `[signal SIGBUS: bus error code=... addr=... pc=...]`.
      fatal = { message: line.trim(), error: null };
    } else if (fatal?.message === 'fatal error: fault' && fatal.error === null && /^\[signal (\w+): ([^\]]*?) code=/.test(line)) {
      const m = /^\[signal (\w+): ([^\]]*?) code=/.exec(line)!;
      fatal = { message: fatal.message, error: `signal ${m[1]}: ${m[2]}` };
    } else {
      // 3.4's default capnslog text: `2026-11-25 10:12:33.651695 C | etcdmain: walpb: crc mismatch`
      // (the package may have a slash: `C | pkg/pbutil: unmarshal should never fail (...)`)
      const c = /^\d{4}-\d\d-\d\d \S+ ([CFIN]) \| (?:([\w./-]+): )?(.*)$/.exec(line);
      if (c?.[1] && (c[1] === 'C' || c[1] === 'F') && !fatal) fatal = { message: c[2] ?? '', error: c[3] ?? null };
      const rep = c?.[3] ? /^repaired WAL error \((.*)\)$/.exec(c[3]) : null;
      if (rep) repaired.push({ message: 'repaired WAL', error: rep[1] ?? null });
    }
  }
  return { fatal, repaired };
}

/**
 * What an operator reads from 3.4's default capnslog text log: the first line of level C or F without
 * its timestamp (`C | etcdmain: walpb: crc mismatch`), else the first `panic: ...` / `fatal error: ...`
 * line, else null; `dataDir` (the copy etcd ran on) replaced by `<data-dir>`. The manifests'
 * `etcd_boot."3.4".capnslog` (fixtures/lib/etcd.mjs `capnslogLine`).
 */
export function capnslogLine(text: string, dataDir: string): string | null {
  const lines = text.split('\n');
  const c = lines.map((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ ([CF] \| .*)$/.exec(l)?.[1]).find((x) => x !== undefined)
    ?? lines.find((l) => /^(panic|fatal error): /.test(l));
  return c === undefined ? null : c.split(dataDir).join('<data-dir>').trimEnd();
}

export interface EtcdInstance {
  ok: boolean;
  /** why it did not become healthy: the fatal entry's error (or msg), or "not healthy within Ns..." */
  error?: string;
  fatal?: LogVerdict['fatal'];
  logTail: string;
  logFile: string;
  endpoint: string;
  pid: number;
  stop(kill?: boolean): Promise<void>;
}

export interface BootOptions {
  timeoutMs?: number;
  /** 3.4 only: keep its default capnslog text log instead of --logger=zap (error strings then come from `C | pkg: error` lines) */
  capnslog?: boolean;
  args?: string[];
  name?: string;
  logFile?: string;
  /** run etcd as this user and group (setgid+setuid, supplementary groups dropped); needs root */
  uid?: number;
  /** the etcd executable to run (default: the cached one, which another user may not reach) */
  etcdPath?: string;
  gid?: number;
  /** appended to /health when waiting for etcd (e.g. `?exclude=NOSPACE`: etcd with a raised NOSPACE alarm serves, but /health says false) */
  healthQuery?: string;
}

/**
 * etcd as a child logging to `logFd` (closed here once the child has it); `stop` sends SIGTERM (or
 * SIGKILL) and waits for the exit, killing it after 20 s.
 */
function spawnEtcd(exe: string, args: string[], logFd: number, ids: { uid?: number; gid?: number } = {}): { pid: number; exited: () => boolean; stop: (kill?: boolean) => Promise<void> } {
  const child = spawn(exe, args, { env: cleanEnv(), stdio: ['ignore', logFd, logFd], ...ids });
  closeSync(logFd);
  let exited = false;
  const done = new Promise<void>((res) => child.once('exit', () => { exited = true; res(); }));
  const stop = async (kill = false): Promise<void> => {
    if (exited) return;
    child.kill(kill ? 'SIGKILL' : 'SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 20000);
    await done;
    clearTimeout(t);
  };
  return { pid: child.pid ?? -1, exited: () => exited, stop };
}

/** start etcd `version` on dataDir (ports 25000-25999 on 127.0.0.1); resolves when healthy or failed */
export async function bootEtcd(version: EtcdSeries, dataDir: string, opts: BootOptions = {}): Promise<EtcdInstance> {
  const bin = await mustBin(version);
  const timeoutMs = opts.timeoutMs ?? 20000;
  const name = opts.name ?? 'default';
  const logFile = opts.logFile ?? join(mkdtempSync(join(tmpdir(), 'wal-doctor-etcd-log-')), 'etcd.log');
  // Only a port clash is retried; a retry's log replaces the clash's, so that what is read (here
  // and by the caller) is the last attempt's (seen under load: a clash reported as the failure of
  // a db etcd refused to open).
  const start = existsSync(logFile) ? statSync(logFile).size : 0;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) truncateSync(logFile, start);
    const port = await pickPorts();
    const endpoint = `http://127.0.0.1:${port}`;
    const peer = `http://127.0.0.1:${port + 1}`;
    const fd = openSync(logFile, 'a');
    // 3.5+ log zap JSON to stderr by default; the start flags below are the same for every line
    // (none of them is a v2 or proxy flag, which 3.6 removed)
    const zap = version === '3.4' && !opts.capnslog ? ['--logger=zap', '--log-outputs=stderr'] : [];
    const { pid, exited, stop } = spawnEtcd(opts.etcdPath ?? join(bin, 'etcd'), ['--name', name, '--data-dir', dataDir, '--listen-client-urls', endpoint,
      '--advertise-client-urls', endpoint, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `${name}=${peer}`, ...zap, ...(opts.args ?? [])], fd, opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {});
    const log = () => readFileSync(logFile).subarray(start).toString('utf8');
    const tail = () => log().split('\n').slice(-30).join('\n');
    const deadline = Date.now() + timeoutMs;
    while (!exited() && Date.now() < deadline) {
      // A timer that holds the event loop: AbortSignal.timeout's does not, so a fetch left hanging
      // by an etcd that died mid-request (no handle left once the child is gone) ended the test
      // process with the promise pending (seen under load).
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 1000);
      try {
        const r = await fetch(`${endpoint}/health${opts.healthQuery ?? ''}`, { signal: ac.signal });
        if (((await r.json()) as { health?: string }).health === 'true') {
          return { ok: true, logTail: tail(), logFile, endpoint, pid, stop };
        }
      } catch { /* not up yet */ } finally {
        clearTimeout(timer);
      }
      await sleep(150);
    }
    if (exited() && attempt < 2 && /address already in use/.test(log())) continue;
    if (exited()) {
      const { fatal } = parseEtcdLog(log());
      return { ok: false, error: fatal?.error ?? fatal?.message ?? 'etcd exited', fatal, logTail: tail(), logFile, endpoint, pid, stop };
    }
    await stop();
    return { ok: false, error: `not healthy within ${timeoutMs / 1000}s`, fatal: null, logTail: tail(), logFile, endpoint, pid, stop };
  }
}

/** etcdctl against `endpoint` (e.g. `endpoint status -w json`, `move-leader ID`); resolves its stdout */
/** `If(ModRevision(key) == mod) Then(op) Else(Get key)`, as the apiserver writes an object; whether the compare held. */
export async function guardedTxn(endpoint: string, v: EtcdSeries, key: string, mod: number, op: string): Promise<boolean> {
  const out = await etcdctl(endpoint, ['txn', '-w', 'json'], v, `mod("${key}") = "${mod}"\n\n${op}\n\nget ${key}\n\n`);
  return (JSON.parse(out) as { succeeded?: boolean }).succeeded === true;
}

export async function etcdctl(endpoint: string, args: string[], version: EtcdSeries = '3.5', input?: string): Promise<string> {
  const bin = await mustBin(version);
  const p = run(join(bin, 'etcdctl'), [`--endpoints=${endpoint}`, '--command-timeout=60s', ...args],
    { env: cleanEnv(), maxBuffer: 1 << 30, encoding: 'utf8' });
  if (input !== undefined) { p.child.stdin?.end(input); }
  return (await p).stdout;
}

export interface ServedKey {
  value: Buffer;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease: string | null;
}

/** every key/value etcd serves (`etcdctl get "" --prefix -w json`, decoded) */
export async function getAll(endpoint: string, version: EtcdSeries = '3.5'): Promise<{ revision: number; kvs: Map<string, ServedKey> }> {
  const text = await etcdctl(endpoint, ['get', '', '--prefix', '-w', 'json'], version);
  // etcdctl prints 64-bit ids as bare numbers: keep long ones as strings
  const j = JSON.parse(text.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"')) as {
    header: { revision: string | number };
    kvs?: { key: string; value?: string; create_revision: number; mod_revision: number; version: number; lease?: string | number }[];
  };
  const kvs = new Map<string, ServedKey>();
  for (const kv of j.kvs ?? []) {
    kvs.set(Buffer.from(kv.key, 'base64').toString('utf8'), {
      value: Buffer.from(kv.value ?? '', 'base64'),
      create_revision: Number(kv.create_revision), mod_revision: Number(kv.mod_revision), version: Number(kv.version),
      lease: kv.lease ? BigInt(kv.lease).toString(16).padStart(16, '0') : null,
    });
  }
  return { revision: Number(j.header.revision), kvs };
}

export async function put(endpoint: string, key: string, value: string, version: EtcdSeries = '3.5'): Promise<void> {
  await etcdctl(endpoint, ['put', key], version, value);
}

/**
 * After boot: does a new write become visible? `visible` | `lost` | `failed: <etcdctl's last line>`
 * (e.g. `failed: Error: etcdserver: request timed out` when the db is ahead of the WAL and etcd skips
 * applying the new entries). The manifests' `probe_write` (fixtures/lib/etcd.mjs `probeWrite`).
 */
export async function probeWrite(endpoint: string, version: EtcdSeries = '3.5'): Promise<string> {
  try {
    await etcdctl(endpoint, ['put', '/wal-doctor/probe', 'probe'], version);
    const got = JSON.parse(await etcdctl(endpoint, ['get', '/wal-doctor/probe', '-w', 'json'], version)) as { kvs?: unknown[] };
    return (got.kvs ?? []).length === 1 ? 'visible' : 'lost';
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return `failed: ${(e.stderr ?? e.message).split('\n').filter(Boolean).slice(-1)[0] ?? ''}`;
  }
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** compare served keys with manifest keys (value, revisions, version; present:false must be absent) */
export function compareKeys(kvs: Map<string, ServedKey>, keys: ManifestKey[]): { served: number; missing: string[]; wrong: string[]; extra: string[] } {
  const res = { served: kvs.size, missing: [] as string[], wrong: [] as string[], extra: [] as string[] };
  const known = new Set(keys.map((k) => k.key));
  for (const k of keys) {
    const g = kvs.get(k.key);
    if (!k.present) { if (g) res.wrong.push(k.key); continue; }
    if (!g) { res.missing.push(k.key); continue; }
    const same = k.value !== undefined ? g.value.equals(Buffer.from(k.value, 'utf8')) : sha256(g.value) === k.value_sha256;
    if (!same || g.mod_revision !== k.mod_revision || g.create_revision !== k.create_revision || g.version !== k.version) res.wrong.push(k.key);
  }
  for (const key of kvs.keys()) if (!known.has(key)) res.extra.push(key);
  return res;
}

/** Every file under dir, relative to it, sorted. */
export function fileList(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p); else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

export interface ClusterMember {
  name: string;
  endpoint: string;
  logFile: string;
  log(): string;
  exited(): boolean;
  stop(kill?: boolean): Promise<void>;
}

/**
 * Start members of an EXISTING cluster (initialized data dirs) on fixed ports: client `port`, peer
 * `port + 1` (the peer URLs their membership holds; --initial-cluster lists the members given, which an
 * initialized member ignores). Resolves when every member's /health says true, when one exits, or after
 * `timeoutMs`; `error` is then the exited member's fatal log entry (its error, or its message).
 */
export async function startMembers(version: EtcdSeries, members: { name: string; dataDir: string; port: number }[],
  { timeoutMs = 30000, logDir }: { timeoutMs?: number; logDir?: string } = {}): Promise<{ ok: boolean; members: ClusterMember[]; error?: string }> {
  const bin = await mustBin(version);
  const dir = logDir ?? mkdtempSync(join(tmpdir(), 'wal-doctor-etcd-log-'));
  mkdirSync(dir, { recursive: true });
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.port + 1}`).join(',');
  const started = members.map((m): ClusterMember => {
    const endpoint = `http://127.0.0.1:${m.port}`, peer = `http://127.0.0.1:${m.port + 1}`;
    const logFile = join(dir, `${m.name}.etcd.log`);
    const fd = openSync(logFile, 'a');
    const { exited, stop } = spawnEtcd(join(bin, 'etcd'), ['--name', m.name, '--data-dir', m.dataDir, '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', initial, '--initial-cluster-state', 'new'], fd);
    return { name: m.name, endpoint, logFile, log: () => readFileSync(logFile, 'utf8'), exited, stop };
  });
  const healthy = async (m: ClusterMember) => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 1000); // holds the event loop, unlike AbortSignal.timeout (see bootEtcd)
    try { const r = await fetch(`${m.endpoint}/health`, { signal: ac.signal }); return ((await r.json()) as { health?: string }).health === 'true'; } catch { return false; } finally { clearTimeout(timer); }
  };
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline && !started.some((m) => m.exited());) {
    if ((await Promise.all(started.map(healthy))).every(Boolean)) return { ok: true, members: started };
    await sleep(200);
  }
  await sleep(500);   // let an exiting member finish its log
  const bad = started.find((m) => m.exited());
  const fatal = bad ? parseEtcdLog(bad.log()).fatal : null;
  return { ok: false, members: started, error: bad ? (fatal?.error ?? fatal?.message ?? 'etcd exited') : `not healthy within ${timeoutMs / 1000}s` };
}

export interface BootCheck {
  boot: 'ok' | 'failed';
  error: string | null;
  logMessage: string | null;
  served: number;
  missing: string[];
  wrong: string[];
  extra: string[];
  /** files etcd created (e.g. *.wal.broken, *.snap.broken) / removed (0.tmp, renamed .snap, db.tmp.*) */
  newFiles: string[];
  removedFiles: string[];
  repairLogged: boolean;
  repairError: string | null;
  /** with `probe`: what a put after boot did (see probeWrite); null when etcd did not start */
  probeWrite: string | null;
  /** with `capnslog` (3.4): capnslogLine of its log; null when it started */
  capnslog: string | null;
  logTail: string;
}

export interface BootCheckOptions extends BootOptions {
  /** after dumping the keys, put a key and read it back (probeWrite) */
  probe?: boolean;
}

/** boot `version` on a COPY of dataDir (never the original), dump keys, compare with the manifest, stop */
export async function bootCheck(version: EtcdSeries, dataDir: string, manifest: Pick<FixtureManifest, 'keys'>, opts: BootCheckOptions = {}): Promise<BootCheck> {
  const work = mkdtempSync(join(tmpdir(), 'wal-doctor-bootcheck-'));
  try {
    const copy = join(work, 'data');
    await run('cp', ['-a', dataDir, copy]);
    const before = fileList(copy);
    const e = await bootEtcd(version, copy, { ...opts, logFile: join(work, 'etcd.log') });
    let cmp = { served: 0, missing: [] as string[], wrong: [] as string[], extra: [] as string[] };
    let probe: string | null = null;
    // Healthy, then dead at the first read (3.4 on a key bucket whose revisions Seek cannot all
    // find): a failed boot, with the fatal entry it logged.
    let diedAfterHealthy: ReturnType<typeof parseEtcdLog>['fatal'] = null;
    if (e.ok) {
      try {
        try {
          cmp = compareKeys((await getAll(e.endpoint, version)).kvs, manifest.keys);
        } catch (err) {
          diedAfterHealthy = parseEtcdLog(readFileSync(e.logFile, 'utf8')).fatal;
          if (!diedAfterHealthy) throw err;
        }
        if (opts.probe && !diedAfterHealthy) probe = await probeWrite(e.endpoint, version);
      } finally { await e.stop(); }
    }
    const after = fileList(copy);
    const { repaired } = parseEtcdLog(readFileSync(e.logFile, 'utf8'));
    const died = diedAfterHealthy ?? (e.ok ? null : e.fatal ?? null);
    return {
      boot: e.ok && !diedAfterHealthy ? 'ok' : 'failed', error: diedAfterHealthy ? (diedAfterHealthy.error ?? diedAfterHealthy.message) : e.ok ? null : (e.error ?? null), logMessage: died?.message ?? null, ...cmp,
      newFiles: after.filter((f) => !before.includes(f)), removedFiles: before.filter((f) => !after.includes(f)),
      repairLogged: repaired.length > 0, repairError: repaired[0]?.error ?? null, probeWrite: probe,
      capnslog: opts.capnslog && !e.ok ? capnslogLine(readFileSync(e.logFile, 'utf8'), copy) : null, logTail: e.logTail,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
