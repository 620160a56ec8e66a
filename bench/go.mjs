// bench/go.mjs - builds the bench's Go programs (bench/go, pinned to etcd 3.6.16's published Go
// modules) into .bench/go-bin/<hash of the module's files>/ and returns their paths. Uses the same
// module and build caches as scripts/etcd-bin.sh (so a machine that built etcd 3.6 has every module
// already), GOFLAGS=-mod=readonly and GOTOOLCHAIN=local: the build never re-resolves versions.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

const MOD = new URL('./go', import.meta.url).pathname;
export const GO_PROGRAMS = ['walread', 'dumplogs', 'loadgen', 'runstat'];

function moduleHash() {
  const h = createHash('sha256');
  const files = ['go.mod', 'go.sum', ...GO_PROGRAMS.flatMap((p) => readdirSync(join(MOD, 'cmd', p)).map((f) => join('cmd', p, f)))].sort();
  for (const f of files) h.update(f).update('\0').update(readFileSync(join(MOD, f))).update('\0');
  return h.digest('hex').slice(0, 12);
}

/** {walread, dumplogs, loadgen, runstat: path} or throws saying what is missing. */
export function goPrograms(root, log = () => {}) {
  const dir = join(root, 'go-bin', moduleHash());
  const paths = Object.fromEntries(GO_PROGRAMS.map((p) => [p, join(dir, p)]));
  if (GO_PROGRAMS.every((p) => existsSync(paths[p]))) return paths;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) throw new Error('the bench needs Go (1.26+, `go` in PATH) to build bench/go');
  const cache = process.env.ETCD_BIN_CACHE ?? join(process.env.HOME ?? homedir(), '.cache/etcd-wal-doctor/etcd-bin');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`building bench/go (${GO_PROGRAMS.join(', ')}) with ${go.stdout.trim().split(' ')[2]}`);
  const b = spawnSync('go', ['build', '-trimpath', '-o', `${tmp}/`, ...GO_PROGRAMS.map((p) => `./cmd/${p}`)], {
    cwd: MOD,
    encoding: 'utf8',
    env: { ...process.env, GOMODCACHE: join(cache, 'go/mod'), GOCACHE: join(cache, 'go/build'), GOFLAGS: '-mod=readonly -modcacherw -buildvcs=false', GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOWORK: 'off' },
  });
  if (b.status !== 0) throw new Error(`go build of bench/go failed (Go module proxy unreachable?):\n${b.stderr.trim().split('\n').slice(-5).join('\n')}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return paths;
}
