// What users get from npm: `npm pack` on a clean copy of the sources (no dist/, as a fresh clone or
// CI has it) runs prepack (a fresh build) and ships the compiled code; the tarball installs into a temp
// prefix with no install script to approve and no build, and the installed `wal-doctor` (and
// `npx etcd-wal-doctor`) runs on a real fixture. Dependencies come from npm's cache when it has
// them (--offline); on a cold cache the install is retried with --prefer-offline and says so.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, loadFixture, type LoadedFixture } from '../support/fixtures.js';

const npm = (args: string[], cwd: string): SpawnSyncReturns<string> =>
  spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }, timeout: 300_000 });

function installOffline(args: string[], cwd: string, t: { diagnostic(s: string): void }): SpawnSyncReturns<string> {
  let r = npm([...args, '--offline'], cwd);
  if (r.status !== 0 && /ENOTCACHED/.test(r.stderr)) {
    t.diagnostic('npm cache lacks a dependency: installing with --prefer-offline (from the registry)');
    r = npm([...args, '--prefer-offline'], cwd);
  }
  return r;
}

describe('npm pack → install → run', () => {
  let work: string;
  let tarball: string;
  let fx: LoadedFixture;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'wal-doctor-pack-'));
    fx = await loadFixture('v35-workload');
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
    fx.cleanup();
  });

  it('npm pack from sources without dist/ builds and ships dist/src, bin and the man page; no source maps, tests or fixtures', () => {
    const src = join(work, 'src-copy');
    mkdirSync(src);
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'bin', 'src', 'scripts', 'docs']) cpSync(join(REPO_ROOT, f), join(src, f), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(src, 'node_modules'));
    // A stale module from an older build must not reach the tarball: prepack clears dist/.
    mkdirSync(join(src, 'dist', 'src'), { recursive: true });
    writeFileSync(join(src, 'dist', 'src', 'stale-old-module.js'), 'export {};\n');
    const r = npm(['pack', '--json', '--pack-destination', work], src);
    assert.equal(r.status, 0, r.stderr);
    const [info] = JSON.parse(r.stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
    assert.ok(info);
    tarball = join(work, info.filename);
    const files = info.files.map((f) => f.path);
    for (const f of ['bin/wal-doctor.js', 'dist/src/cli/main.js', 'dist/src/tui/App.js', 'dist/src/format/proto/descriptor.generated.js', 'package.json', 'README.md', 'docs/wal-doctor.1']) {
      assert.ok(files.includes(f), `${f} is in the tarball`);
    }
    assert.deepEqual(files.filter((f) => /\.map$|^dist\/test\/|^fixtures\/|^src\/|stale-old-module/.test(f)), []);
    console.log(`# tarball: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${files.length} files`);
  });

  it('installs into a temp prefix from the tarball (no install script to approve, no build) and runs on a fixture', (t) => {
    assert.ok(tarball, 'the pack step ran');
    const prefix = join(work, 'prefix');
    const r = installOffline(['install', '-g', '--prefix', prefix, tarball], work, t);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /install scripts|approve-scripts/i, 'nothing asks for approval');
    const pkgDir = join(prefix, 'lib', 'node_modules', 'etcd-wal-doctor');
    assert.equal(existsSync(join(pkgDir, 'node_modules', 'typescript')), false, 'no dev dependency came along');
    assert.equal(existsSync(join(pkgDir, 'dist', 'test')), false);
    const bin = join(prefix, 'bin', 'wal-doctor');
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^wal-doctor \d+\.\d+\.\d+\nchecked against etcd 3\.4\.23/);
    const verify = spawnSync(bin, ['verify', fx.dir], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, /^healthy \(exit 0\)/);
    assert.doesNotMatch(verify.stderr, /ERR_MODULE_NOT_FOUND/);
    assert.ok(existsSync(join(prefix, 'share', 'man', 'man1', 'wal-doctor.1')), 'the man page is installed with it');
  });

  it('the project itself: no dependency has an install script waiting for approval (esbuild\'s is denied: its binary comes as an optional package)', () => {
    const r = npm(['approve-scripts', '--allow-scripts-pending'], REPO_ROOT);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /No packages with unreviewed install scripts/);
  });

  it('npx etcd-wal-doctor runs the tool (package name → its bin)', (t) => {
    assert.ok(tarball, 'the pack step ran');
    const proj = join(work, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, 'package.json'), '{"name":"p","version":"1.0.0","private":true}\n');
    const r = installOffline(['install', '--no-save', tarball], proj, t);
    assert.equal(r.status, 0, r.stderr);
    const x = spawnSync('npx', ['--no-install', 'etcd-wal-doctor', 'verify', fx.dir], { cwd: proj, encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    assert.match(x.stdout, /^healthy \(exit 0\)/);
    assert.ok(readdirSync(join(proj, 'node_modules', '.bin')).includes('wal-doctor'));
  });
});
