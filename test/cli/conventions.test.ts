// Output conventions operators know from etcdctl/etcdutl: -w json|table|simple (and -o json, --json),
// the snapshot-status hash in hex and etcdutl's table, the verdict as inspect's first line, colour
// only on a terminal and never with NO_COLOR, --help with examples and the exit codes, --version
// naming the etcd releases, and shell completion that completes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, runCli as cli } from '../support/cli.js';
import { etcdBin } from '../support/etcd.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';

/** Run the CLI with stdout on a pseudo-terminal (util-linux `script`), as a person at a shell would. */
function onTerminal(args: string[], env: Record<string, string> = {}): string {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm', ...env } });
  return r.stdout;
}

describe('output conventions', () => {
  let fx: LoadedFixture;
  let torn: LoadedFixture;
  before(async () => {
    fx = await loadFixture('v34-workload');
    torn = await loadFixture('v35-torn-tail');
  });
  after(() => {
    fx.cleanup();
    torn.cleanup();
  });

  it('--version names the tool and the etcd releases it was checked against', () => {
    const r = cli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^wal-doctor \d+\.\d+\.\d+\nchecked against etcd 3\.4\.23, 3\.5\.30, 3\.6\.16, 3\.7\.3\n/);
  });

  it('--help has examples and the exit-code table; each command has its own', () => {
    const r = cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Examples:\n {2}wal-doctor inspect /m);
    for (const code of [0, 1, 2, 3, 4, 5, 64, 66, 70, 74, 75]) assert.match(r.stdout, new RegExp(`^ +${code}  \\S`, 'm'), `exit code ${code}`);
    assert.match(cli(['verify', '--help']).stdout, /75 +another etcd holds the dir: do NOT start/);
    assert.match(cli(['diff', '--help']).stdout, /3 +behind/);
    assert.match(cli(['repair', '--help']).stdout, /repair --auto/);
  });

  it('inspect prints the verdict first', () => {
    const r = cli(['inspect', torn.dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout.split('\n')[0]!, /^Verdict: REPAIRABLE \(exit 1\) — WAL damaged at /);
  });

  it('-w json, -o json and --json print the same object; a format a command lacks is a usage error', () => {
    const a = cli(['verify', '--json', fx.dir]);
    assert.equal(a.code, 0);
    assert.equal(cli(['verify', '-w', 'json', fx.dir]).stdout, a.stdout);
    assert.equal(cli(['verify', '-o', 'json', fx.dir]).stdout, a.stdout);
    assert.equal(cli(['verify', '--write-out=json', fx.dir]).stdout, a.stdout);
    const bad = cli(['verify', '-w', 'yaml', fx.dir]);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /^wal-doctor: output format 'yaml' is not one of simple, table, json\n$/);
    assert.equal(cli(['repair', '--dry-run', '-w', 'table', fx.dir]).code, 64, 'repair has no table');
    assert.equal(cli(['inspect', '--timeline', '-w', 'table', fx.dir]).code, 64);
  });

  it('verify -w table: one row per etcd release, boxed as etcdctl draws it', () => {
    const r = cli(['verify', '-w', 'table', torn.dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^\| ETCD \| +OUTCOME +\| +ERROR +\|$/m);
    assert.match(r.stdout, /^\|  3\.5 \| self-repairs \| unexpected EOF/m);
  });

  it('the snapshot-status hash is hex, and inspect -w table on a db prints etcdctl 3.4\'s `snapshot status -w table` exactly', async (t) => {
    const db = join(fx.dir, 'member/snap/db');
    const simple = cli(['inspect', db]);
    assert.match(simple.stdout, /snapshot status: hash [0-9a-f]{1,8}, revision \d+, total keys \d+, total size [\d,]+ \(\d+ [kMG]?B\)/);
    const ours = cli(['inspect', '-w', 'table', db]).stdout;
    const bin = await etcdBin('3.4');
    if (!bin) {
      t.skip('etcd 3.4 binaries not available: the comparison with etcdctl was NOT run');
      return;
    }
    const theirs = execFileSync(join(bin, 'etcdctl'), ['snapshot', 'status', db, '-w', 'table'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    assert.ok(ours.includes(theirs), `etcdctl's table:\n${theirs}\nnot in ours:\n${ours}`);
    const simpleTheirs = execFileSync(join(bin, 'etcdctl'), ['snapshot', 'status', db, '-w', 'simple'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    const [hash] = simpleTheirs.split(', ');
    assert.match(simple.stdout, new RegExp(`snapshot status: hash ${hash}, `));
  });

  it('colour on a terminal, none with NO_COLOR, none into a pipe', (t) => {
    if (spawnSync('script', ['-V']).error) {
      t.skip('util-linux script is missing: the terminal test was NOT run');
      return;
    }
    const esc = /\x1b\[\d+m/;
    assert.match(onTerminal(['verify', torn.dir]), esc, 'coloured on a terminal');
    assert.match(onTerminal(['inspect', torn.dir]), esc);
    assert.doesNotMatch(onTerminal(['verify', torn.dir], { NO_COLOR: '1' }), esc);
    assert.doesNotMatch(onTerminal(['inspect', torn.dir], { NO_COLOR: '1' }), esc);
    assert.doesNotMatch(cli(['inspect', torn.dir]).stdout, esc, 'never into a pipe');
  });

  it('bash completion completes commands, flags, formats and paths', () => {
    const script = cli(['completion', 'bash']).stdout;
    const complete = (words: string[]): string[] => {
      const r = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _wal_doctor; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8', cwd: fx.dir });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    assert.deepEqual(complete(['wal-doctor', 'ins']), ['inspect']);
    assert.ok(complete(['wal-doctor', 'repair', '--']).includes('--dry-run'));
    assert.deepEqual(complete(['wal-doctor', 'verify', '-w', '']).sort(), ['json', 'simple', 'table']);
    assert.deepEqual(complete(['wal-doctor', 'inspect', 'mem']), ['member']);
    assert.deepEqual(complete(['wal-doctor', 'completion', '']).sort(), ['bash', 'zsh']);
    const zsh = cli(['completion', 'zsh']);
    assert.match(zsh.stdout, /^#compdef wal-doctor etcd-wal-doctor\n/);
    if (!spawnSync('zsh', ['--version']).error) {
      const r = spawnSync('zsh', ['-n'], { input: zsh.stdout, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    assert.equal(cli(['completion', 'fish']).code, 64);
  });
});
