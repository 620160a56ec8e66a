// What the CLI loads before it does anything: `--version` is answered before commander loads, and
// `--help` (the program's or a command's) loads commander, the flags and the help texts, none of
// the library behind the actions (each command imports its <verb>-action.ts when it runs).
// A static import added to a command's flag file, or to main.ts, shows up here as a module list.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildProgram } from '../../src/cli/program.js';
import { BIN, runCli } from '../support/cli.js';
import { REPO_ROOT } from '../support/fixtures.js';

/** The files of the tree behind --help: the tree, the flags and help texts, and what they name. */
const HELP_TREE = [
  'bin/wal-doctor.js',
  'dist/src/cli/main.js',
  'dist/src/cli/program.js',
  'dist/src/cli/help.js',
  'dist/src/cli/options.js',
  'dist/src/cli/output.js',
  'dist/src/errors.js',
  'dist/src/version.js',
  'dist/src/export/record-types.js', // export --help lists them
  'dist/src/rebuild/ids.js', // rebuild --help prints etcd's restore defaults
  ...['completion', 'diff', 'explore', 'export', 'inspect', 'rebuild', 'repair', 'schema', 'undo', 'verify'].map((c) => `dist/src/cli/commands/${c}.js`),
];

describe('start-up', () => {
  let dir: string;
  let hooks: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wal-doctor-startup-'));
    // Module hooks (in their own thread) that log every module loaded through import.
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOAD_LOG, url + '\\n');
  return next(url, context);
}
`,
    );
    hooks = join(dir, 'register.mjs');
    writeFileSync(hooks, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The files (relative to the repo) and packages the CLI imports for `args`. */
  function loaded(args: string[]): { ours: string[]; packages: string[] } {
    const log = join(dir, `${args.join('_')}.log`);
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(hooks).href, BIN, ...args], { encoding: 'utf8', env: { ...process.env, LOAD_LOG: log } });
    assert.equal(r.status, 0, r.stderr);
    const files = readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
    const packages = new Set(files.filter((f) => f.includes('/node_modules/')).map((f) => f.replace(/.*\/node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')));
    return { ours: files.filter((f) => !f.includes('/node_modules/')).map((f) => relative(REPO_ROOT, f)).sort(), packages: [...packages].sort() };
  }

  it('--version, answered before commander loads, prints what commander prints for it', async () => {
    let commanders = '';
    await assert.rejects(buildProgram({ writeOut: (s) => (commanders += s) }).parseAsync(['node', 'wal-doctor', '--version']), { code: 'commander.version' });
    for (const flag of ['--version', '-V']) {
      const r = runCli([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, commanders);
      assert.equal(r.stderr, '');
    }
  });

  it('--version loads four of our modules besides the bin shim, and no package', () => {
    const l = loaded(['--version']);
    assert.deepEqual(l.ours, ['bin/wal-doctor.js', 'dist/src/cli/help.js', 'dist/src/cli/main.js', 'dist/src/errors.js', 'dist/src/version.js']);
    assert.deepEqual(l.packages, []);
  });

  it('an install that lost a module says so in one line, exit 70, no stack trace', () => {
    // a copy of the install without the command tree
    const copy = join(dir, 'broken');
    cpSync(join(REPO_ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(REPO_ROOT, 'dist', 'src'), join(copy, 'dist', 'src'), { recursive: true });
    cpSync(join(REPO_ROOT, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'));
    rmSync(join(copy, 'dist', 'src', 'cli', 'program.js'));
    const r = spawnSync(process.execPath, [join(copy, 'bin', 'wal-doctor.js'), 'verify', copy], { encoding: 'utf8' });
    assert.equal(r.status, 70);
    assert.match(r.stderr, /^wal-doctor: internal error: Cannot find module '[^']*program\.js'[^\n]*\(set WAL_DOCTOR_DEBUG=1 for a stack trace\)\n$/);
  });

  for (const args of [['--help'], ['inspect', '--help'], ['export', '--help'], ['rebuild', '--help'], ['help', 'repair']]) {
    it(`${args.join(' ')} loads commander and the command tree, none of the library`, () => {
      const l = loaded(args);
      assert.deepEqual(l.ours, [...HELP_TREE].sort());
      assert.deepEqual(l.packages, ['commander']);
    });
  }
});
