// The race the old stale-lock takeover lost under load (two winners): 4 wal-doctor processes try to
// take the repair lock on one data dir at the same instant, 1,000 rounds, while two busy loops keep
// both cores saturated. Exactly one wins every round. Every 10th round the lock file is left with a
// dead process's pid in it (a crashed holder's leftovers), and every 25th round the winner is killed
// with SIGKILL while holding the lock instead of releasing it (and replaced by a fresh process): the
// next round must still have exactly one winner, with no waiting for anything to go stale.
// The same, 100 rounds, for the flock(1) fallback (each attempt spawns flock(1), so it is slower).
// WAL_DOCTOR_LOCK_ROUNDS overrides the round count (stress runs: more rounds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LOCK_MODULE = fileURLToPath(new URL('../../src/io/lock-file.js', import.meta.url));

const WORKER = `
import { acquireRepairLock } from ${JSON.stringify(LOCK_MODULE)};
const dir = process.argv[process.argv.length - 1];
let held;
process.on('message', async (m) => {
  if (m.cmd === 'try') {
    while (Date.now() < m.at) {} // all four leave this loop at the same millisecond
    try {
      held = await acquireRepairLock(dir);
      process.send({ round: m.round, won: true });
    } catch (e) {
      process.send({ round: m.round, won: false, code: e.exitCode, message: e.message });
    }
  } else if (m.cmd === 'release') {
    await held.release();
    held = undefined;
    process.send({ round: m.round, released: true });
  }
});
process.send({ ready: true });
`;

interface Worker {
  child: ChildProcess;
  next(): Promise<Record<string, unknown>>;
}

function startWorker(dataDir: string, env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER, dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  const queue: Record<string, unknown>[] = [];
  const waiters: { res: (m: Record<string, unknown>) => void; rej: (e: Error) => void }[] = [];
  let exited: Error | undefined;
  child.on('message', (m: Record<string, unknown>) => {
    const w = waiters.shift();
    if (w) w.res(m);
    else queue.push(m);
  });
  child.once('exit', (code, signal) => {
    exited = new Error(`worker exited (${code ?? signal})`);
    for (const w of waiters.splice(0)) w.rej(exited);
  });
  const next = () => new Promise<Record<string, unknown>>((res, rej) => {
    const q = queue.shift();
    if (q) return res(q);
    if (exited) return rej(exited);
    waiters.push({ res, rej });
  });
  return next().then(() => ({ child, next }));
}

async function race(t: import('node:test').TestContext, rounds: number, env: Record<string, string>): Promise<void> {
  const parent = mkdtempSync(join(tmpdir(), 'wal-doctor-lockrace-'));
  const dataDir = join(parent, 'etcd-data');
  mkdirSync(join(dataDir, 'member'), { recursive: true });
  const lockPath = join(parent, '.etcd-data.wal-doctor.lock');
  // both cores busy for the whole run
  const burners = [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const workers = await Promise.all([0, 1, 2, 3].map(() => startWorker(dataDir, env)));
  const started = Date.now();
  let kills = 0;
  let staleFiles = 0;
  let refusedOk = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      if (round % 10 === 5) {
        writeFileSync(lockPath, JSON.stringify({ tool: 'wal-doctor', pid: 999_999, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', nonce: `stale${round}` }));
        staleFiles++;
      }
      const at = Date.now() + 5;
      for (const w of workers) w.child.send({ cmd: 'try', round, at });
      const results = await Promise.all(workers.map((w) => w.next()));
      const winners = results.flatMap((r, i) => (r['won'] === true ? [i] : []));
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners: ${JSON.stringify(results)}`);
      for (const r of results) {
        if (r['won'] === true) continue;
        assert.equal(r['code'], 75, `round ${round}: ${JSON.stringify(r)}`);
        assert.match(String(r['message']), /is being repaired by another wal-doctor|kept changing hands/);
        refusedOk++;
      }
      const w = workers[winners[0]!]!;
      if (round % 25 === 24) {
        // die holding it: the kernel drops the lock with the process
        const gone = new Promise((r) => w.child.once('exit', r));
        w.child.kill('SIGKILL');
        await gone;
        workers[winners[0]!] = await startWorker(dataDir, env);
        kills++;
      } else {
        w.child.send({ cmd: 'release', round });
        assert.equal((await w.next())['released'], true);
      }
    }
    const ms = Date.now() - started;
    t.diagnostic(`${rounds} rounds x 4 processes, both cores busy: exactly one winner every round; ${refusedOk} refusals (exit 75), ${kills} holders killed by SIGKILL while holding, ${staleFiles} rounds on a lock file left with a dead pid; ${ms} ms (${(ms / rounds).toFixed(1)} ms/round)`);
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    for (const b of burners) b.kill('SIGKILL');
    rmSync(parent, { recursive: true, force: true });
  }
}

const ROUNDS = Number(process.env['WAL_DOCTOR_LOCK_ROUNDS'] ?? 1000);

test(`${ROUNDS} rounds of 4 concurrent wal-doctors under CPU load: exactly one gets the OFD lock each round, also right after a holder is SIGKILLed`, { timeout: 600_000 }, async (t) => {
  await race(t, ROUNDS, {});
});

test(`${Math.ceil(ROUNDS / 10)} rounds of the same with the flock(1) fallback`, { timeout: 600_000 }, async (t) => {
  await race(t, Math.ceil(ROUNDS / 10), { WAL_DOCTOR_NO_NATIVE_LOCKS: '1' });
});
