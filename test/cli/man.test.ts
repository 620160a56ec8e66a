// docs/wal-doctor.1 is generated from the help (`npm run man`): the committed page must be what
// this build's help makes, so the man page never drifts from `wal-doctor --help`.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manPage } from '../../src/cli/man.js';
import { runCli } from '../support/cli.js';
import { REPO_ROOT } from '../support/fixtures.js';

it('docs/wal-doctor.1 is the man page the help makes (regenerate: npm run man)', () => {
  const committed = readFileSync(join(REPO_ROOT, 'docs', 'wal-doctor.1'), 'utf8');
  assert.equal(committed, manPage(), 'docs/wal-doctor.1 is stale: run npm run man and commit it');
});

it('the man page carries every command, the examples and the exit codes', () => {
  const page = manPage();
  const help = runCli(['--help'], { env: { COLUMNS: '80' } }).stdout;
  for (const c of ['inspect', 'verify', 'export', 'explore', 'repair', 'undo', 'rebuild', 'diff', 'schema', 'completion']) {
    assert.match(page, new RegExp(`^\\.SS ${c}$`, 'm'));
    assert.match(help, new RegExp(`^  ${c} `, 'm'));
  }
  assert.match(page, /^Exit codes:$/m);
  assert.match(page, /^ +75 +in use: a running etcd/m);
  assert.match(page, /^Examples:$/m);
});
