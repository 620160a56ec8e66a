// A restore killed (SIGKILL, as by a power loss or the OOM killer) at every crash point it passes
// leaves --out absent, or complete: never a partial data dir etcd could start on. The build dir a
// kill leaves behind is removed by the next restore to the same --out, which then succeeds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFixture } from '../support/fixtures.js';
import { planRestore, restoreFromFile } from '../../src/rebuild/restore.js';
import type { RestoreOptions } from '../../src/rebuild/restore.js';

const RESTORE_JS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'rebuild', 'restore.js');
const opts: RestoreOptions & { skipHashCheck: boolean } = {
  name: 'r1',
  initialCluster: 'r1=http://127.0.0.1:23795',
  initialClusterToken: 'tok',
  initialAdvertisePeerUrls: 'http://127.0.0.1:23795',
  target: '3.5',
  skipHashCheck: true,
};
const WAL = join('member', 'wal', '0000000000000000-0000000000000000.wal');

function restoreInChild(src: string, out: string, crashAt: string) {
  const script = `import { restoreFromFile } from ${JSON.stringify(RESTORE_JS)};\nrestoreFromFile(${JSON.stringify(src)}, ${JSON.stringify(opts)}, ${JSON.stringify(out)});`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, WAL_DOCTOR_CRASH_AT: crashAt } });
}

const points = ['bolt:tmp-synced', 'bolt:renamed', 'write:first-chunk', 'write:renamed', 'write:first-chunk#2', 'write:tmp-synced#2', 'write:renamed#2', 'rebuild:built', 'rebuild:renamed'];

describe('restore killed at every crash point', () => {
  for (const point of points) {
    it(`killed at ${point}: --out is absent or complete, and the next restore succeeds`, async () => {
      const fx = await loadFixture('v35-workload');
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-restore-crash-'));
      try {
        const src = join(fx.dir, 'member', 'snap', 'db');
        const out = join(work, 'out');
        const r = restoreInChild(src, out, point);
        assert.equal(r.signal, 'SIGKILL', `the child was not killed at ${point}: ${r.stderr}`);
        const expected = Buffer.from(planRestore(opts).wal.records);
        if (point === 'rebuild:renamed') {
          // renamed: the dir is complete
          assert.equal(statSync(join(out, WAL)).size, 64_000_000);
          assert.deepEqual(readFileSync(join(out, WAL)).subarray(0, expected.length), expected);
          assert.deepEqual(readdirSync(work), ['out']);
          return;
        }
        assert.equal(existsSync(out), false, `${out} exists after a kill at ${point}`);
        const left = readdirSync(work);
        assert.equal(left.length, 1);
        assert.match(left[0] as string, /^out\.tmp-\d+$/);
        const res = restoreFromFile(src, opts, out);
        assert.deepEqual(res.staleBuildDirs, [join(work, left[0] as string)]);
        assert.deepEqual(readdirSync(work), ['out']);
        assert.deepEqual(readFileSync(join(out, WAL)).subarray(0, expected.length), expected);
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  }
});
