// A power cut that lost the block before the log's last entry and kept the entry (damage.mjs
// zeroed-before-last-entry on the crash bases: the last entry is a write the db never got). etcd
// stops reading at the zero length word and starts without it, silently. verify said healthy on
// 3.6 and 3.7 (the entry's CRC chain cannot be checked, so it read as garbage after the end), and
// a bridge erased it. Now: exit 2, repair --auto refuses and changes nothing, and rebuild keeps the
// entry in its unapplied file. Each line: etcd indeed starts and no longer serves that key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { runCli } from '../support/cli.js';
import { bootCheck, fileList, needEtcd } from '../support/etcd.js';
import { applyDamage, type EtcdSeries, loadFixture } from '../support/fixtures.js';

const CASES: { fixture: string; v: EtcdSeries }[] = [
  { fixture: 'v35-crash', v: '3.5' },
  { fixture: 'v36-crash', v: '3.6' },
  { fixture: 'v37-crash', v: '3.7' },
];

describe('the block before the last entry lost: etcd drops the entry silently, verify does not call it healthy', () => {
  for (const { fixture, v } of CASES) {
    it(`${fixture}, etcd ${v}`, async (t) => {
      if (!(await needEtcd(t, v))) return;
      const fx = await loadFixture(fixture);
      const work = mkdtempSync(join(tmpdir(), 'wal-doctor-hidden-'));
      try {
        const d = (applyDamage as (k: string, dir: string) => { hidden_entry: number })('zeroed-before-last-entry', fx.dir);
        const a = inspectPath(fx.dir, { etcdVersion: v, checkHolders: false });
        assert.deepEqual([a.report.verdict.exitCode, a.verdict.next], [2, { kind: 'rebuild' }]);
        const f = a.report.findings.find((x) => x.code === 'records-hidden-after-zero-length' && x.kind === 'boot');
        assert.ok(f && f.code === 'records-hidden-after-zero-length' && f.kind === 'boot' && f.firstIndex === `${d.hidden_entry}`, JSON.stringify(f));

        const real = await bootCheck(v, fx.dir, fx.manifest, { probe: true });
        assert.equal(real.boot, 'ok', real.logTail);
        assert.equal(real.missing.length, 1, 'etcd starts without the hidden write');

        const files = fileList(fx.dir);
        const r = runCli(['repair', '--auto', '--yes', '--backup-dir', join(work, 'backup'), fx.dir]);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stdout, /no length word brings back/);
        assert.deepEqual(fileList(fx.dir), files, 'nothing changed');

        const out = join(work, 'new');
        const peer = ['--initial-cluster', 'default=http://127.0.0.1:2380'];
        const rb = runCli(['rebuild', '--json', '--from', fx.dir, '--out', out, '--name', 'default', ...peer, '--initial-advertise-peer-urls', 'http://127.0.0.1:2380']);
        assert.equal(rb.code, 0, rb.stdout + rb.stderr);
        const res = JSON.parse(rb.stdout) as { unapplied: { path: string } };
        const kept = readFileSync(res.unapplied.path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { index?: string });
        assert.ok(kept.some((l) => l.index === `${d.hidden_entry}`), 'the hidden entry is in the unapplied file');
        // etcd on the rebuilt dir: every key the db held (all but the hidden write), and a new write
        const rebuilt = await bootCheck(v, out, fx.manifest, { probe: true, args: peer });
        assert.deepEqual([rebuilt.boot, rebuilt.missing, rebuilt.wrong, rebuilt.probeWrite], ['ok', real.missing, [], 'visible'], rebuilt.logTail);
      } finally {
        rmSync(work, { recursive: true, force: true });
        fx.cleanup();
      }
    });
  }
});
