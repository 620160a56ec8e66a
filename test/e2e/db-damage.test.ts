// What real etcd does with a damaged member/snap/db, against what we predict and what `verify`
// says. Each case damages a copy of a healthy real-etcd fixture's db (truncations at many sizes,
// zeroed pages of every kind — meta, root, branch, leaf, free —, bit flips in page headers and
// element arrays, in a key's name, in a value, in a revision key that then sorts out of order, and
// in the `_` of a revision key),
// then boots the etcd release that wrote it on another copy. etcd that answers /health and then
// dies at the first read (3.4 on out-of-order revisions) counts as failed, with what it logged.
//  - `verify` exit 0 is a promise: real etcd must then boot, serve every key of the manifest
//    exactly and take a write;
//  - the predicted outcome must be etcd's (fails / starts), with etcd's exact error and log message.
// Needs etcd (scripts/etcd-bin.sh): with CI=true a missing binary fails the test; elsewhere it is
// skipped and says it was NOT run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, readFileSync, writeSync, truncateSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspectPath } from '../../src/inspect/analyze.js';
import { openBoltFile } from '../../src/io/bolt-file.js';
import { bootCheck, needEtcd } from '../support/etcd.js';
import { WORKLOADS, applyDamage, loadFixture } from '../support/fixtures.js';

interface Case {
  name: string;
  damage(db: string): void;
}

/** Page ids by what they hold, read with our bbolt reader from the healthy db. */
function pageMap(db: string): { pageSize: number; highWater: number; root: number; branches: number[]; leaves: number[]; free: number[] } {
  const o = openBoltFile(db);
  try {
    const d = o.db;
    const branches: number[] = [];
    const leaves: number[] = [];
    const seen = new Set<number>([0, 1]);
    const onPage = (v: { pgid: number; header: { flags: number } }) => {
      seen.add(v.pgid);
      if (v.header.flags & 1) branches.push(v.pgid);
      else leaves.push(v.pgid);
    };
    const root = Number(d.meta!.root);
    for (const ref of d.bucketRefs({ onPage })) if (ref.root !== 0n) for (const _ of d.walkTree(ref.root, { onPage })) void _;
    const free: number[] = [];
    for (let i = 2; i < d.highWater; i++) if (!seen.has(i)) free.push(i);
    return { pageSize: d.pageSize, highWater: d.highWater, root, branches: branches.filter((p) => p !== root), leaves: leaves.filter((p) => p !== root), free };
  } finally {
    o.close();
  }
}

function poke(path: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function flip(path: string, offset: number, bit: number): void {
  const b = readFileSync(path);
  poke(path, offset, Uint8Array.of(b[offset]! ^ (1 << bit)));
}

function cases(db: string): Case[] {
  const m = pageMap(db);
  const P = m.pageSize;
  const out: Case[] = [];
  const hw = m.highWater * P;
  for (const size of [0, 100, P, 2 * P, 5 * P, hw - P, hw]) out.push({ name: `truncated to ${size} bytes`, damage: (p) => truncateSync(p, size) });
  const zero = (pg: number, what: string) => out.push({ name: `page ${pg} (${what}) zeroed`, damage: (p) => poke(p, pg * P, new Uint8Array(P)) });
  zero(0, 'meta 0');
  zero(1, 'meta 1');
  zero(m.root, 'root bucket leaf');
  for (const b of m.branches.slice(0, 1)) zero(b, 'key branch');
  for (const l of [m.leaves[0], m.leaves[Math.floor(m.leaves.length / 2)], m.leaves[m.leaves.length - 1]]) if (l !== undefined) zero(l, 'key leaf');
  for (const f of m.free.slice(0, 1)) zero(f, 'free');
  // Bit flips: page id, flags, count, an element's position and size, a key byte.
  const leaf = m.leaves[1] ?? m.leaves[0]!;
  const fl = (pg: number, at: number, bit: number, what: string) => out.push({ name: `page ${pg} byte ${at} bit ${bit} flipped (${what})`, damage: (p) => flip(p, pg * P + at, bit) });
  fl(leaf, 2, 0, 'leaf page id');
  fl(leaf, 8, 2, 'leaf page flags');
  fl(leaf, 11, 0, 'leaf element count');
  fl(leaf, 16 + 16 + 5, 4, 'element 1 position');
  fl(leaf, 16 + 16 + 14, 6, 'element 1 value size');
  fl(leaf, 16 + 16 + 9, 1, 'element 1 key size');
  if (m.branches[0] !== undefined) fl(m.branches[0], 16 + 16 + 8, 1, 'branch element 1 child page id');
  fl(m.root, 16 + 4, 3, 'root leaf element 0 position');
  fl(0, 64, 0, 'meta 0 root page id');
  // Damage inside a value's bytes, which bbolt and etcd read without complaint (fixtures/damage.mjs).
  const inDir = (kind: string) => (p: string) => void applyDamage(kind, resolve(p, '..', '..', '..'));
  out.push({ name: 'a key renamed by a bit flip (db-key-bitflip)', damage: inDir('db-key-bitflip') });
  out.push({ name: 'a value changed by a bit flip (db-value-bitflip)', damage: inDir('db-value-bitflip') });
  out.push({ name: 'a revision key set past the newest, out of order (db-revision-disorder)', damage: inDir('db-revision-disorder') });
  // 3.6+ refuse it at restore (BytesToBucketKey); 3.4/3.5 index it, answer /health, and die at the first read
  for (const seed of [1, 2, 3]) out.push({ name: `the separator of a newest revision's key flipped, seed ${seed} (db-revision-separator)`, damage: (p) => void applyDamage('db-revision-separator', resolve(p, '..', '..', '..'), { seed }) });
  return out;
}


for (const { fixture, series } of WORKLOADS) {
  test(`db damage on ${fixture}: verify and the prediction agree with real etcd ${series}`, async (t) => {
    const bin = await needEtcd(t, series);
    if (!bin) return;
    const fx = await loadFixture(fixture);
    let agree = 0;
    let tried = 0;
    const disagreements: string[] = [];
    try {
      const db = join(fx.dir, 'member', 'snap', 'db');
      const list = cases(db);
      for (const c of list) {
        const work = await loadFixture(fixture);
        try {
          const wdb = join(work.dir, 'member', 'snap', 'db');
          c.damage(wdb);
          const a = inspectPath(work.dir, { etcdVersion: series, checkHolders: false });
          const p = a.report.etcd.find((e) => e.version === series)!;
          const real = await bootCheck(series, work.dir, work.manifest);
          tried++;
          const servedAll = real.boot === 'ok' && real.missing.length === 0 && real.wrong.length === 0;
          // The promise: exit 0 only where etcd boots and serves every key.
          if (a.report.verdict.exitCode === 0) assert.ok(servedAll, `${c.name}: verify said healthy but etcd ${series}: ${real.boot} ${real.error ?? ''} missing ${real.missing.length} wrong ${real.wrong.length}`);
          const predictedFail = p.outcome === 'fails';
          // A panic in bbolt's freepages goroutine races the main goroutine's next failure: either may print first.
          const said = (e: string | null, l: string | null) => e === real.error && l === real.logMessage;
          const ok = predictedFail === (real.boot === 'failed') && (!predictedFail || said(p.error, p.log) || (p.orElse !== null && said(p.orElse.error, p.orElse.log)));
          if (ok) agree++;
          else disagreements.push(`${c.name}: predicted ${p.outcome} ${p.log ?? ''} / ${p.error ?? ''}; etcd ${real.boot} ${real.logMessage ?? ''} / ${real.error ?? ''}`);
        } finally {
          work.cleanup();
        }
      }
      t.diagnostic(`${fixture} on etcd ${series}: ${agree}/${tried} cases agree on outcome, error and log message`);
      assert.deepEqual(disagreements, [], 'every prediction must be what real etcd did');
    } finally {
      fx.cleanup();
    }
  });
}
