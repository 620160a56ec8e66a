// The single-file executable (`npm run sea`) on a rescue node with no Node.js and no npm: built
// into a temp dir, copied ALONE into an empty dir, run with an empty PATH (no node, no npm to
// find), it gives the same verdicts, JSON and export as the npm build, takes the kernel locks a
// repair needs (its native addon travels inside it), and explore draws its screen in a terminal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Report } from '../../src/inspect/report.js';
import { DiffReport } from '../../src/diff/schema.js';
import { runCli } from '../support/cli.js';
import { REPO_ROOT, loadFixture, type LoadedFixture } from '../support/fixtures.js';
import { loadCluster } from '../diff/cluster-fixture.js';

describe('single-file executable', () => {
  let work: string;
  let exe: string;
  let empty: string;
  let healthy: LoadedFixture;
  let torn: LoadedFixture;
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(exe, args, { cwd: empty, encoding: 'utf8', env: { PATH: empty, HOME: empty, ...env }, maxBuffer: 64 << 20 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'wal-doctor-sea-'));
    const build = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'sea.mjs'), '--out', join(work, 'build')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    console.log(`# ${build.stdout.trim()}`);
    empty = join(work, 'rescue-node');
    mkdirSync(empty);
    exe = join(empty, 'wal-doctor');
    copyFileSync(join(work, 'build', 'wal-doctor'), exe);
    spawnSync('chmod', ['755', exe]);
    healthy = await loadFixture('v35-workload');
    torn = await loadFixture('v35-torn-tail');
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
    healthy?.cleanup();
    torn?.cleanup();
  });

  it('is one file, alone in its dir, and says which etcd releases it was checked against', () => {
    assert.deepEqual(readdirSync(empty), ['wal-doctor']);
    assert.ok(statSync(exe).size > 10e6);
    const r = run(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wal-doctor \d+\.\d+\.\d+\nchecked against etcd 3\.4\.23, 3\.5\.30, 3\.6\.16, 3\.7\.3\nnode v\d+/);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) run(['--version']);
    console.log(`# start-up: ${((performance.now() - t0) / 5).toFixed(0)} ms per --version (mean of 5)`);
  });

  it('verify, inspect --json, export and diff agree with the npm build', () => {
    for (const [fx, code] of [[healthy, 0], [torn, 1]] as const) {
      const ours = run(['verify', fx.dir]);
      assert.equal(ours.code, code, ours.stderr);
      assert.equal(ours.stdout, runCli(['verify', fx.dir]).stdout);
      const json = run(['inspect', '--json', fx.dir]);
      assert.equal(Report.parse(JSON.parse(json.stdout)).verdict.exitCode, code);
    }
    const exp = run(['export', '--k8s', healthy.dir]);
    assert.equal(exp.code, 0, exp.stderr);
    assert.equal(exp.stdout, runCli(['export', '--k8s', healthy.dir]).stdout);
    const cl = loadCluster('v35-cluster-of-3-diverged');
    try {
      const d = run(['diff', '-w', 'json', ...['a', 'b', 'c'].map(cl.dir)]);
      assert.equal(d.code, 3, d.stderr);
      assert.equal(DiffReport.parse(JSON.parse(d.stdout)).status, 'behind');
    } finally {
      cl.cleanup();
    }
    assert.equal(run(['verify', join(empty, 'nope')]).code, 66);
    assert.equal(run(['frobnicate']).code, 64);
  });

  it('repair takes its kernel locks (the OFD-lock addon loads from inside the executable) and cuts the torn tail', () => {
    const dir = join(work, 'torn-copy');
    spawnSync('cp', ['-a', torn.dir, dir]);
    const tmp = join(work, 'tmp');
    mkdirSync(tmp);
    const r = run(['repair', '--auto', '--backup-dir', join(work, 'backup'), dir], { TMPDIR: tmp });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /now: healthy/);
    assert.doesNotMatch(r.stdout + r.stderr, /flock|fs-native-extensions could not be loaded/);
    // The addon was written to a private dir under TMPDIR and loaded from there.
    const priv = readdirSync(tmp).filter((n) => n.startsWith('wal-doctor-native-'));
    assert.equal(priv.length, 1);
    assert.equal(statSync(join(tmp, priv[0]!)).mode & 0o777, 0o700);
    assert.ok(readdirSync(join(tmp, priv[0]!)).some((n) => n.endsWith('fs-native-extensions.node')));
    assert.equal(run(['verify', dir]).code, 0);
  });

  it('explore draws the overview in a terminal (tmux) and quits', async (t) => {
    if (spawnSync('tmux', ['-V']).error) {
      if (process.env['CI'] === 'true') assert.fail('tmux is missing (CI=true)');
      t.skip('tmux not installed: the SEA explore test was NOT run');
      return;
    }
    const sock = `wal-doctor-sea-${process.pid}`;
    const tmux = (...a: string[]) => spawnSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });
    try {
      tmux('new-session', '-d', '-s', 's', '-x', '80', '-y', '24', `cd ${empty} && env -i PATH=${empty} TERM=xterm NO_COLOR=1 ./wal-doctor explore ${torn.dir}; echo "explore exited $?"; sleep 30`);
      const until = async (re: RegExp) => {
        const deadline = Date.now() + 20_000;
        let s = '';
        while (Date.now() < deadline) {
          s = tmux('capture-pane', '-p', '-t', 's').stdout;
          if (re.test(s)) return s;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.fail(`${re} not on screen; it was:\n${s}`);
      };
      await until(/Verdict: REPAIRABLE \(exit 1\)/);
      tmux('send-keys', '-t', 's', 'Enter');
      await until(/truncated-record/);
      tmux('send-keys', '-t', 's', 'q');
      await until(/explore exited 0/);
    } finally {
      tmux('kill-server');
    }
  });

  it('nothing beside it was needed: the rescue dir still holds only the executable', () => {
    assert.deepEqual(readdirSync(empty), ['wal-doctor']);
    assert.equal(existsSync(join(empty, 'node_modules')), false);
  });
});
