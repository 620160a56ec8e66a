// On a large data dir, verify, inspect, export and diff run in a child node with a smaller young
// generation (src/cli/main.ts: V8 takes the flag only at start-up). WAL_DOCTOR_LEAN_FROM_BYTES=0
// makes every dir large, so the child runs on fixtures here: what a user sees (stdout, stderr, exit
// code) must be what the same command prints in one process, and a SIGTERM to the process the user
// started must end the child too, the parent then ending by that signal as the child did.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, cpSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, runCli } from '../support/cli.js';
import { loadFixture, type LoadedFixture } from '../support/fixtures.js';

const CHILD = { WAL_DOCTOR_LEAN_FROM_BYTES: '0' };
const HERE = { WAL_DOCTOR_LEAN_FROM_BYTES: String(Number.MAX_SAFE_INTEGER) };

describe('large dirs run in a child node with a small young generation', () => {
  const fx: Record<string, LoadedFixture> = {};
  let copy: string;
  before(async () => {
    for (const name of ['v36-workload', 'v35-torn-tail', 'v35-two-writers']) fx[name] = await loadFixture(name);
    copy = mkdtempSync(join(tmpdir(), 'wal-doctor-lean-'));
    cpSync(fx['v36-workload']!.dir, copy, { recursive: true });
  });
  after(() => {
    for (const f of Object.values(fx)) f.cleanup();
    rmSync(copy, { recursive: true, force: true });
  });

  it('says so when asked (WAL_DOCTOR_DEBUG), and not below the threshold', () => {
    const dir = fx['v36-workload']!.dir;
    assert.match(runCli(['verify', dir], { env: { ...CHILD, WAL_DOCTOR_DEBUG: '1' } }).stderr, /^wal-doctor: running in a child node with --max-semi-space-size=4$/m);
    assert.doesNotMatch(runCli(['verify', dir], { env: { ...HERE, WAL_DOCTOR_DEBUG: '1' } }).stderr, /child node/);
    // --help is answered where it was asked
    assert.doesNotMatch(runCli(['verify', '--help'], { env: { ...CHILD, WAL_DOCTOR_DEBUG: '1' } }).stderr, /child node/);
  });

  it('prints and exits as one process does: verify, inspect, export, diff, on healthy and damaged dirs', () => {
    const cases: string[][] = [];
    for (const name of ['v36-workload', 'v35-torn-tail', 'v35-two-writers']) {
      const dir = fx[name]!.dir;
      cases.push(['verify', dir], ['inspect', '--json', dir], ['export', '--include-damaged', dir]);
    }
    cases.push(['diff', fx['v36-workload']!.dir, copy], ['diff', '--json', fx['v36-workload']!.dir, fx['v35-torn-tail']!.dir], ['verify', join(fx['v36-workload']!.dir, 'no-such-dir')]);
    const codes = new Set<number | null>();
    for (const args of cases) {
      const child = runCli(args, { env: CHILD });
      const here = runCli(args, { env: HERE });
      assert.deepEqual(child, here, args.join(' '));
      codes.add(here.code);
    }
    // the cases reach more than one exit code (healthy, repairable, needs-rebuild, not found)
    assert.ok(codes.size >= 3, [...codes].join(' '));
  });

  it('a SIGTERM to the parent ends the child; the parent then ends by SIGTERM', async () => {
    const dir = fx['v36-workload']!.dir;
    // stdout a FIFO nobody reads: export (200 KB of lines) blocks in the child once its 64 KiB are full
    const fifo = join(copy, 'out.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    const p = spawn(process.execPath, [BIN, 'export', dir], { env: { ...process.env, ...CHILD }, stdio: ['ignore', writer, 'pipe'] });
    closeSync(writer);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
    let kids: number[] = [];
    try {
      for (let i = 0; i < 200 && kids.length === 0; i++) {
        await sleep(50);
        kids = childrenOf(p.pid!);
      }
      assert.equal(kids.length, 1, 'the child node started');
      await sleep(300); // let it fill the pipe
      p.kill('SIGTERM');
      const end = await Promise.race([exited, sleep(10_000).then(() => 'still running after 10 s')]);
      assert.deepEqual(end, { code: null, signal: 'SIGTERM' });
      for (let i = 0; i < 100 && alive(kids[0]!); i++) await sleep(20);
      assert.ok(!alive(kids[0]!), 'the child is gone');
    } finally {
      closeSync(reader);
      for (const pid of [p.pid!, ...kids]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    // and without the pipe held shut, the same export finishes with exit 0
    assert.equal(spawnSync(process.execPath, [BIN, 'export', dir], { env: { ...process.env, ...CHILD }, stdio: 'ignore' }).status, 0);
  });
});

/** Processes whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(pid);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

function alive(pid: number): boolean {
  return readdirSync('/proc').includes(String(pid));
}
