#!/usr/bin/env node
// `npm start`: unpack the bundled crashed data dir (a real etcd 3.5.30 dir whose last WAL segment
// ends in garbage after a simulated power loss; see fixtures/README.md) and run
// `wal-doctor inspect` on it, so a first run shows a real diagnosis without bringing a data dir.
// Extra arguments go to wal-doctor (e.g. `npm start -- --json`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.env.WAL_DOCTOR_DEMO ?? 'v35-garbage-tail';
const tarball = join(root, 'fixtures', `${name}.tar.gz`);
const dir = join(root, 'fixtures', '.unpacked', name);
if (!existsSync(tarball)) {
  console.error(`wal-doctor demo: ${tarball} is missing`);
  process.exit(66);
}
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const tar = spawnSync('tar', ['-C', dir, '-xzf', tarball], { stdio: 'inherit' });
if (tar.status !== 0) process.exit(tar.status ?? 1);
console.log(`(bundled crashed data dir ${name}, unpacked to ${dir})\n`);
const r = spawnSync(process.execPath, [join(root, 'bin', 'wal-doctor.js'), 'inspect', ...process.argv.slice(2), dir], { stdio: 'inherit' });
// inspect exits 1 for a repairable dir: that is the expected diagnosis here, not a failed start.
process.exit(r.status === 1 && !process.argv.includes('--strict') ? 0 : (r.status ?? 1));
