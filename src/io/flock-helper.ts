/**
 * flock(2) held for us by a child process: util-linux flock(1) takes LOCK_EX|LOCK_NB on the file,
 * then runs `cat` with the locked fd inherited and its stdin on a pipe from us. The lock lives as
 * long as that fd is open: until we close the pipe (release) or until we die in any way — the
 * kernel closes our end of the pipe, cat reads EOF and exits, and with it the last fd holding the
 * lock. This is how bbolt's lock on member/snap/db is taken (Node has no flock binding): a
 * starting etcd then waits at its db open until the repair is over, and a running etcd makes the
 * attempt fail at once.
 *
 * /proc/locks names flock(1)'s pid as the owner; callers that look for holders ignore `pid`.
 */
import { spawn } from 'node:child_process';

export interface FlockHold {
  /** the flock(1) process: the pid /proc/locks shows for the lock */
  pid: number;
  /** true while the lock is held (the helper has not exited) */
  held(): boolean;
  /** drop the lock and wait for the helper to be gone */
  release(): Promise<void>;
}

export type FlockResult = { held: FlockHold } | { conflict: true } | { error: string };

/**
 * Take an exclusive flock on `path` (which must exist: flock(1) would create it) without waiting.
 * `conflict` when another open file holds a flock on it; `error` when flock(1) cannot run.
 */
export function holdFlock(path: string): Promise<FlockResult> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', '75', path, 'sh', '-c', 'echo locked; exec cat'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' },
      });
    } catch (e) {
      resolve({ error: `flock(1) could not be run: ${(e as Error).message}` });
      return;
    }
    let out = '';
    let err = '';
    let exited = false;
    let settled = false;
    const gone = new Promise<void>((res) => child.once('exit', () => res())); // flock(1) exits after cat: the lock is gone
    const settle = (r: FlockResult) => {
      if (!settled) resolve(r);
      settled = true;
    };
    child.once('error', (e: NodeJS.ErrnoException) => settle({ error: `flock(1) could not be run (${e.code ?? e.message}): util-linux is needed to lock the db as bbolt does` }));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code, signal) => {
      exited = true;
      if (code === 75) settle({ conflict: true });
      else settle({ error: `flock(1) on ${path} ended (${code ?? signal}) before taking the lock: ${err.trim()}` });
    });
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!out.startsWith('locked\n')) return;
      // The helper must never keep this process alive, nor outlive it: unref'd, and its only
      // input is our pipe, which the kernel closes when we exit.
      child.unref();
      (child.stdout as unknown as { unref?: () => void }).unref?.();
      (child.stderr as unknown as { unref?: () => void }).unref?.();
      (child.stdin as unknown as { unref?: () => void }).unref?.();
      settle({
        held: {
          pid: child.pid!,
          held: () => !exited,
          release: async () => {
            if (exited) return;
            child.ref(); // wait for it now: the lock is gone only when the helper is
            child.stdin.end();
            await gone;
          },
        },
      });
    });
  });
}
