// diff compares the members' logs in the same walk as their analysis, and walks them again only
// when that comparison cannot stand (an entry conflicts, or a log turns out to truncate its own
// tail). These tests hold the one-walk result to the two-walk one, field by field, on every
// fixture written by real etcd, on the clusters, and on WAL bytes changed at random (damage nobody
// designed), and check which of the two each kind of case takes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DiffResult, diffDirs } from '../../src/diff/diff.js';
import { locate } from '../../src/io/layout.js';
import { type LoadedFixture, WORKLOADS, listFixtures, loadFixture, readManifest } from '../support/fixtures.js';
import { mulberry32 } from '../support/random.js';
import { loadCluster } from './cluster-fixture.js';

type Made = 'in-analysis-walk' | 'second-walk';

/** diff both ways: the result (or the error's message) must be the same; which way the default took. */
function bothWays(dirs: string[]): Made {
  let made: Made | undefined;
  const run = (secondWalk: boolean): DiffResult | string => {
    try {
      return diffDirs(dirs, secondWalk ? { secondWalk } : { onComparison: (m) => (made = m) });
    } catch (err) {
      return `${(err as Error).name}: ${(err as Error).message}`;
    }
  };
  const once = run(false);
  const twice = run(true);
  assert.deepEqual(once, twice, `diff ${dirs.join(' ')}`);
  if (typeof once === 'string') return 'second-walk';
  assert.ok(made, 'diff told which walk its comparison came from');
  return made;
}

describe('diff: the comparison in the analysis walk equals a second walk\'s', () => {
  it('on the real 3-member clusters: one walk where the logs agree or a member is behind, two where they conflict or a log truncates itself', () => {
    const expected: Record<string, Made> = {
      'v35-cluster-of-3': 'in-analysis-walk',
      'v35-cluster-of-3-diverged': 'in-analysis-walk',
      'v35-cluster-of-3-stale-member': 'in-analysis-walk',
      'v35-cluster-of-3-term-split': 'second-walk',
      'v35-cluster-of-3-rejoined': 'second-walk',
    };
    for (const [name, made] of Object.entries(expected)) {
      const fx = loadCluster(name);
      try {
        assert.equal(bothWays(['a', 'b', 'c'].map(fx.dir)), made, name);
        bothWays(['c', 'a'].map(fx.dir)); // two of three, the other way round
      } finally {
        fx.cleanup();
      }
    }
  });

  it('on every fixture against the dir it was made from (else its line\'s healthy workload)', async () => {
    const made: Record<Made, number> = { 'in-analysis-walk': 0, 'second-walk': 0 };
    const fixtures = listFixtures();
    const bases = new Map<string, LoadedFixture>();
    try {
      for (const name of fixtures) {
        const m = readManifest(name) as ReturnType<typeof readManifest> & { base?: string };
        const base = (m.base && fixtures.includes(m.base) ? m.base : undefined) ?? WORKLOADS.find((w) => w.series === m.etcd_version.slice(0, 3))?.fixture;
        if (!base || base === name) continue;
        if (!bases.has(base)) bases.set(base, await loadFixture(base));
        const b = await loadFixture(name);
        try {
          made[bothWays([bases.get(base)!.dir, b.dir])]++;
        } finally {
          b.cleanup();
        }
      }
    } finally {
      for (const b of bases.values()) b.cleanup();
    }
    assert.ok(made['in-analysis-walk'] >= 30, `one walk on ${made['in-analysis-walk']} pairs`);
    assert.ok(made['second-walk'] >= 2, `two walks on ${made['second-walk']} pairs`);
  });

  it('on WAL segments with bytes changed, zeroed or cut at random, against the segment they came from', async () => {
    const fx = await loadFixture('v35-workload');
    const root = mkdtempSync(join(tmpdir(), 'wal-doctor-one-walk-'));
    try {
      const rnd = mulberry32(20261207);
      const made: Record<Made, number> = { 'in-analysis-walk': 0, 'second-walk': 0 };
      for (let n = 0; n < 40; n++) {
        const copy = join(root, `copy-${n}`);
        cpSync(fx.dir, copy, { recursive: true });
        const segs = locate(copy).segments;
        const seg = segs[Math.floor(rnd() * segs.length)]!;
        const size = statSync(seg).size;
        const at = Math.floor(rnd() * size);
        const how = n % 3;
        if (how === 2) truncateSync(seg, at);
        else {
          const bytes = readFileSync(seg);
          const len = how === 0 ? 1 : 1 + Math.floor(rnd() * 600);
          for (let i = at; i < Math.min(size, at + len); i++) bytes[i] = how === 0 ? bytes[i]! ^ (1 << Math.floor(rnd() * 8)) : 0;
          writeFileSync(seg, bytes);
        }
        made[bothWays([fx.dir, copy])]++;
        made[bothWays([copy, fx.dir])]++;
        rmSync(copy, { recursive: true });
      }
      assert.ok(made['in-analysis-walk'] > 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
      fx.cleanup();
    }
  });
});
