// Running the real CLI as users do, and fingerprinting a data dir, for the end-to-end tests.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './fixtures.js';

export const BIN = join(REPO_ROOT, 'bin', 'wal-doctor.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `node bin/wal-doctor.js ...args`, stdin a pipe (never a terminal). */
export function runCli(args: string[], opts: { env?: Record<string, string>; uid?: number; gid?: number; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, ...(opts.env ?? {}) },
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
    ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs, killSignal: 'SIGKILL' as const } : {}),
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * sha256 of every file under dir, keyed by path relative to it. `skipTemps` leaves out our own
 * temp files (`.<name>.wal-doctor-tmp-<pid>`), which a crash may leave behind. A FIFO, socket,
 * device or symlink is never opened: it is recorded as `not-regular`.
 */
export function treeHashes(dir: string, opts: { skipTemps?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      if (opts.skipTemps && /\.wal-doctor-tmp-\d+$/.test(n)) continue;
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (!st.isFile()) out[p.slice(dir.length + 1)] = 'not-regular';
      else out[p.slice(dir.length + 1)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}
