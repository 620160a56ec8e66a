// A db cut inside a 4 KiB page: the OS maps the rest of the file's last page as zeros, so etcd
// reads zeros there, not a fault past the end. What it dies of then is what bbolt and etcd make of
// zeros: 3.4 (bbolt 1.3.6, no key-order check) an unmarshal of a KeyValue (`illegal tag 0`), or
// bbolt's assertion when its first write rewrites a leaf whose keys lost their length; 3.5 and
// later the key-order check of freepages. The boot fuzz found the first two predicted as a SIGBUS
// (seed 127; the README's 3.5 freelist case). Each cut, each line: our prediction is etcd's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { bootCheck, needEtcd } from '../support/etcd.js';
import { applyDamage, type EtcdSeries, loadFixture } from '../support/fixtures.js';

const CUTS: { fixture: string; size: number; series: EtcdSeries[] }[] = [
  { fixture: 'v34-workload', size: 137_427, series: ['3.4', '3.5'] },
  { fixture: 'v35-workload', size: 77_942, series: ['3.4', '3.5', '3.6'] },
];

describe('a db cut inside a page: etcd reads zeros to the end of it', () => {
  for (const { fixture, size, series } of CUTS) {
    for (const v of series) {
      it(`${fixture} cut at ${size} bytes (${size % 4096} into a page), etcd ${v}`, async (t) => {
        if (!(await needEtcd(t, v))) return;
        const fx = await loadFixture(fixture);
        try {
          truncateSync(join(fx.dir, 'member', 'snap', 'db'), size);
          const a = inspectPath(fx.dir, { etcdVersion: v, checkHolders: false });
          const p = a.report.etcd.find((e) => e.version === v)!;
          assert.notEqual(a.report.verdict.exitCode, 0);
          const real = await bootCheck(v, fx.dir, fx.manifest);
          assert.deepEqual([p.outcome, p.log, p.error], ['fails', real.logMessage, real.error], `etcd ${v}: ${real.boot}`);
          assert.equal(real.boot, 'failed');
        } finally {
          fx.cleanup();
        }
      });
    }
  }
});

// bbolt's cursor gives a nested bucket's element a nil value and never reads it: with the `key`
// bucket's root on a page of bucket elements, etcd unmarshals nothing and dies on the first key
// (`alarm`, 5 bytes) as a revision. The power-cut fuzz found 3.7 predicted to die of an unmarshal.
describe('the key bucket rooted on a page of buckets: etcd reads their keys, not their headers', () => {
  for (const v of ['3.4', '3.5', '3.6', '3.7'] as const) {
    it(`etcd ${v}`, async (t) => {
      if (!(await needEtcd(t, v))) return;
      const fx = await loadFixture(v === '3.4' ? 'v34-workload' : v === '3.7' ? 'v37-workload' : v === '3.6' ? 'v36-workload' : 'v35-workload');
      try {
        applyDamage('db-key-root-on-buckets', fx.dir);
        const a = inspectPath(fx.dir, { etcdVersion: v, checkHolders: false });
        const p = a.report.etcd.find((e) => e.version === v)!;
        assert.notEqual(a.report.verdict.exitCode, 0);
        const real = await bootCheck(v, fx.dir, fx.manifest);
        assert.equal(real.boot, 'failed');
        assert.deepEqual([p.outcome, p.log, p.error], ['fails', real.logMessage, real.error], `etcd ${v}: ${real.boot}`);
      } finally {
        fx.cleanup();
      }
    });
  }
});
