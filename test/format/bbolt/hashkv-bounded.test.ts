// hashKV in bounded memory (one pass, or a bit per revision and a fingerprint table per pass over
// the bucket) against the plain reading it replaced (kept below as the reference: every key's
// generations in a Map, as etcd's index holds them), on the fixtures' dbs — damaged ones included —
// for many revisions R and compact revisions C, both behaviours, and table sizes small enough to
// take many passes. test/format/bbolt/hashkv.test.ts checks the same function against real etcd.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LaterConfirms, hashKV } from '../../../src/format/bbolt/hashkv.js';
import type { HashKVOptions, HashKVResult, HashKVTables } from '../../../src/format/bbolt/hashkv.js';
import type { BoltDb } from '../../../src/format/bbolt/db.js';
import { openBolt } from '../../../src/format/bbolt/db.js';
import { bytesSource } from '../../../src/format/bbolt/page.js';
import type { EtcdBackendFinding } from '../../../src/format/bbolt/etcd-meta.js';
import { decodeRevision, readEtcdMeta } from '../../../src/format/bbolt/etcd-meta.js';
import { decodeEtcdMessage } from '../../../src/format/proto/unmarshal.js';
import { crc32cUpdate } from '../../../src/format/crc.js';
import { openBoltFile } from '../../../src/io/bolt-file.js';
import { loadFixture } from '../../support/fixtures.js';
import { mulberry32 } from '../../support/random.js';

// ---- the reference: hashkv.ts as it was before it streamed -------------------------------------
const encoder = new TextEncoder();

/** A revision as one comparable string key: main and sub, 16 hex digits each. */
function revKey(main: bigint, sub: bigint): string {
  return main.toString(16).padStart(16, '0') + sub.toString(16).padStart(16, '0');
}

function hexOf(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

interface Rev {
  main: bigint;
  sub: bigint;
}

/** One key's history as etcd's keyIndex keeps it: generations, each ended by a tombstone except the last. */
type Generations = Rev[][];

/** Compute HashKV over the `key` bucket. Damaged keys/values become findings and are hashed as they are. */
function referenceHashKV(db: BoltDb, options: HashKVOptions = {}): HashKVResult {
  const findings: EtcdBackendFinding[] = [];
  const legacy = options.behaviour === 'legacy';
  let compact = options.compactRevision;
  if (compact === undefined) {
    const meta = readEtcdMeta(db);
    compact = [meta.finishedCompactRev ?? 0n, meta.scheduledCompactRev ?? 0n].reduce((a, b) => (a > b ? a : b));
  }
  let R = options.revision ?? 0n;
  if (R === 0n) {
    for (const item of db.items('key')) {
      const r = decodeRevision(item.key);
      if (r) R = r.main;
    }
  }

  // Pass 1: rebuild every key's generations, for revisions <= R only (later ones cannot be kept).
  const index = new Map<string, Generations>();
  for (const item of db.items('key')) {
    const r = decodeRevision(item.key);
    if (!r) {
      if (findings.length < 100) findings.push({ code: 'etcd-bad-revision-key', offset: item.offset, found: item.key.length });
      continue;
    }
    if (r.main > R) break;
    const kv = decodeEtcdMessage('mvccpb.KeyValue', item.value);
    if (!kv.ok) {
      if (findings.length < 100) findings.push({ code: 'etcd-bad-value-length', bucket: 'key', key: revKey(r.main, r.sub), offset: item.valueOffset, expected: 0, found: item.value.length });
      continue;
    }
    const userKey = hexOf((kv.message['key'] as Uint8Array | undefined) ?? new Uint8Array());
    let gens = index.get(userKey);
    if (r.tombstone) {
      const last = gens?.[gens.length - 1];
      // A tombstone for a key with no live generation is ignored, as etcd's restore does.
      if (!gens || !last || last.length === 0) continue;
      last.push({ main: r.main, sub: r.sub });
      gens.push([]);
    } else {
      if (!gens) index.set(userKey, (gens = [[]]));
      (gens[gens.length - 1] as Rev[]).push({ main: r.main, sub: r.sub });
    }
  }

  // Keep(R): per key, the first generation that is the last one or whose tombstone is after R
  // (at or after R in the newer behaviour); in it, the newest revision <= R, unless that is the
  // tombstone of a generation that is not the last.
  const keep = new Set<string>();
  for (const gens of index.values()) {
    let gi = 0;
    while (gi < gens.length - 1) {
      const g = gens[gi] as Rev[];
      const tomb = (g[g.length - 1] as Rev).main;
      if (legacy ? tomb > R : tomb >= R) break;
      gi++;
    }
    const g = gens[gi] as Rev[];
    let ri = g.length - 1;
    while (ri >= 0 && (g[ri] as Rev).main > R) ri--;
    if (ri < 0) continue;
    if (ri === g.length - 1 && gi !== gens.length - 1) continue;
    const rev = g[ri] as Rev;
    keep.add(revKey(rev.main, rev.sub));
  }
  index.clear();

  // Pass 2: hash.
  let crc = crc32cUpdate(encoder.encode('key'), 0);
  for (const item of db.items('key')) {
    const r = decodeRevision(item.key);
    if (!r) continue;
    if (r.main > R) break;
    if (r.main <= compact && keep.size > 0 && !keep.has(revKey(r.main, r.sub))) continue;
    if (!legacy && r.main === compact && r.tombstone) continue;
    crc = crc32cUpdate(item.key, crc);
    crc = crc32cUpdate(item.value, crc);
  }
  return { hash: crc >>> 0, revision: R, compactRevision: compact, compacted: compact > 0n && R <= compact, findings };
}

// ---- the comparison -------------------------------------------------------------------------------
const FIXTURES = ['v35-segments', 'v35-workload', 'v34-workload', 'v35-k8s', 'v36-workload', 'v37-workload', 'v35-snapshots', 'v35-db-value-bitflip', 'v35-db-truncated', 'v35-then-v36-then-v37'];

function revisions(db: BoltDb): bigint[] {
  const out: bigint[] = [];
  for (const item of db.items('key')) {
    const r = decodeRevision(item.key);
    if (r) out.push(r.main);
  }
  return out;
}

describe('hashKV in bounded memory answers as the whole-index reading', () => {
  for (const name of FIXTURES) {
    it(name, async () => {
      const fx = await loadFixture(name);
      try {
        const path = join(fx.dir, 'member', 'snap', 'db');
        if (!existsSync(path)) return;
        const { db, close } = openBoltFile(path);
        // hashKV's walks read transiently: through a 2-block cache nearly every block they read is reused
        const tiny = openBoltFile(path, { blockSize: 16384, cacheBlocks: 2 });
        try {
          if (!db.meta) return;
          const revs = [...new Set(revisions(db))];
          const max = revs.length ? revs[revs.length - 1]! : 0n;
          const pick = (k: number) => revs[Math.floor((revs.length - 1) * k)] ?? 0n;
          const Rs = [0n, pick(0.25), pick(0.5), max + 5n];
          const Cs = [undefined, 1n, pick(0.4), pick(0.6), max];
          let n = 0;
          for (const revision of Rs) {
            for (const compactRevision of Cs) {
              for (const behaviour of ['keep-tombstone-at-compact', 'legacy'] as const) {
                const o: HashKVOptions = { revision, behaviour, ...(compactRevision === undefined ? {} : { compactRevision }) };
                const want = referenceHashKV(db, o);
                // the default (one pass), and tables small enough to take many passes
                for (const keysPerPass of [undefined, 7, 60]) {
                  const got: HashKVResult = hashKV(db, { ...o, ...(keysPerPass ? { keysPerPass } : {}) });
                  assert.deepEqual(got, want, `${name} R=${revision} C=${compactRevision} ${behaviour} keysPerPass=${keysPerPass}`);
                  n++;
                }
                assert.deepEqual(hashKV(tiny.db, o), want, `${name} R=${revision} C=${compactRevision} ${behaviour}, read through 2 blocks of 16 KiB`);
              }
            }
          }
          assert.ok(n > 0);
        } finally {
          close();
          tiny.close();
        }
      } finally {
        fx.cleanup();
      }
    });
  }
});

// ---- damage the one backward pass hands to the two forward ones ----------------------------------
describe('hashKV where the backward pass cannot answer alone, as the whole-index reading', () => {
  /** A real db's bytes, changed by `damage` (given the db as it was), opened from memory. */
  async function damaged(name: string, damage: (bytes: Uint8Array, db: BoltDb) => void): Promise<BoltDb> {
    const fx = await loadFixture(name);
    try {
      const bytes = new Uint8Array(readFileSync(join(fx.dir, 'member', 'snap', 'db')));
      damage(bytes, openBolt(bytesSource(Uint8Array.from(bytes))));
      return openBolt(bytesSource(bytes));
    } finally {
      fx.cleanup();
    }
  }
  function sameAsReference(db: BoltDb, what: string): void {
    const revs = [...new Set(revisions(db))];
    const max = revs[revs.length - 1]!;
    for (const compactRevision of [revs[Math.floor(revs.length / 2)]!, max]) {
      for (const behaviour of ['keep-tombstone-at-compact', 'legacy'] as const) {
        const o: HashKVOptions = { revision: max, compactRevision, behaviour };
        assert.deepEqual(hashKV(db, o), referenceHashKV(db, o), `${what}: C=${compactRevision} ${behaviour}`);
      }
    }
  }

  it('a leaf page of the key bucket referenced twice (each direction enters it at another place)', async () => {
    const db = await damaged('v35-workload', (bytes, db) => {
      // The key bucket's root branch: its last child pointer made the first's (forward, the first
      // leaf's items come first; backward, last).
      const root = db.bucket('key')!.root;
      const page = db.readPage(root)!;
      assert.ok(page.header.flags & 0x01, 'the key bucket has a branch root');
      assert.ok(page.header.count >= 3);
      const e = (i: number) => page.offset + 16 + i * 16 + 8;
      bytes.copyWithin(e(page.header.count - 1), e(0), e(0) + 8);
    });
    for (const _ of db.items('key'));
    assert.equal(db.findings.filter((f) => f.code === 'bbolt-page-multiple-references').length, 1);
    sameAsReference(db, 'page referenced twice');
  });

  it('a revision above R amid the bucket (going forward, the hash stops there)', async () => {
    const db = await damaged('v35-workload', (bytes, db) => {
      const items = [...db.items('key')];
      const mid = items[Math.floor(items.length / 2)]!;
      bytes[mid.valueOffset - mid.key.length + 2] = 0x7f; // its main revision's third byte: above any R here
    });
    sameAsReference(db, 'revision above R');
  });

  it('no value readable: Keep(R) keeps nothing, so nothing is filtered (and 100 findings of many)', async () => {
    const db = await damaged('v35-workload', (bytes, db) => {
      // field 0 is no field: every KeyValue fails to unmarshal
      for (const item of db.items('key')) bytes[item.valueOffset] = 0x07;
    });
    const h = hashKV(db, { compactRevision: 1n });
    assert.equal(h.findings.length, 100);
    sameAsReference(db, 'no value readable');
  });
});

describe('hashKV: one key table for several dbs', () => {
  it('tables handed from call to call (other dbs, other sizes) change no hash', async () => {
    const names = ['v35-workload', 'v34-workload', 'v35-segments'];
    const fxs = await Promise.all(names.map((n) => loadFixture(n)));
    try {
      const tables: HashKVTables = {};
      for (const keysPerPass of [undefined, 50, undefined]) {
        for (const fx of fxs) {
          const { db, close } = openBoltFile(join(fx.dir, 'member', 'snap', 'db'));
          try {
            for (const compactRevision of [undefined, 1n, 40n]) {
              const o: HashKVOptions = { ...(compactRevision === undefined ? {} : { compactRevision }), ...(keysPerPass ? { keysPerPass } : {}) };
              assert.deepEqual(hashKV(db, { ...o, tables }), hashKV(db, o), `${fx.dir} C=${compactRevision} keysPerPass=${keysPerPass}`);
            }
          } finally {
            close();
          }
        }
      }
      assert.ok(tables.fp && tables.at instanceof Uint32Array && tables.len, 'the table was kept (32-bit offsets below 4 GiB)');
    } finally {
      for (const fx of fxs) fx.cleanup();
    }
  });
});

describe('hashKV: fingerprint matches confirmed later, in batches (LaterConfirms)', () => {
  const rnd = mulberry32(71);
  const bytes = Uint8Array.from({ length: 3 << 20 }, () => Math.floor(rnd() * 256));
  const dir = mkdtempSync(join(tmpdir(), 'wal-doctor-later-'));
  const path = join(dir, 'bytes');
  writeFileSync(path, bytes);
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Pairs at offsets close together (one read covers many) and far apart, each key 1-200 bytes. */
  function pairs(n: number): { at: number; len: number }[] {
    const out: { at: number; len: number }[] = [];
    let at = 0;
    for (let i = 0; i < n; i++) {
      at = rnd() < 0.8 ? (at + Math.floor(rnd() * 3000)) % (bytes.length - 200) : Math.floor(rnd() * (bytes.length - 200));
      out.push({ at, len: 1 + Math.floor(rnd() * 200) });
    }
    return out;
  }

  for (const [what, source] of [
    ['a file (reads go straight to it)', () => openBoltFile(path)],
    ['bytes in memory (no readInto)', () => ({ db: { source: bytesSource(bytes) }, close: () => undefined })],
  ] as const) {
    it(`${what}: true pairs confirm, one changed byte or a key past the end does not`, () => {
      const { db, close } = source();
      try {
        const later = new LaterConfirms(db.source);
        for (const n of [1, 7, 5000]) {
          const ps = pairs(n);
          for (const p of ps) {
            const key = bytes.slice(p.at, p.at + p.len);
            later.add(p.at, key);
            key.fill(0); // the key in hand was a view about to be reused: it was copied
          }
          assert.equal(later.check(), true, `${n} true pairs`);
          // the same pairs, one of them (anywhere in file order) with one byte changed
          const bad = Math.floor(rnd() * n);
          ps.forEach((p, i) => {
            const key = bytes.slice(p.at, p.at + p.len);
            if (i === bad) key[Math.floor(rnd() * p.len)]! ^= 1 << Math.floor(rnd() * 8);
            later.add(p.at, key);
          });
          assert.equal(later.check(), false, `${n} pairs, number ${bad} false`);
          assert.equal(later.check(), true, 'the batch is emptied by a check');
        }
        later.add(bytes.length - 3, bytes.slice(bytes.length - 3).subarray(0, 3));
        later.add(bytes.length - 2, Uint8Array.of(bytes[bytes.length - 2]!, bytes[bytes.length - 1]!, 0));
        assert.equal(later.check(), false, 'a key running past the end of the file');
        // another source for the same arrays
        const other = new Uint8Array(bytes.length).fill(7);
        later.on(bytesSource(other));
        later.add(100, bytes.slice(100, 110));
        assert.equal(later.check(), false, 'read from the new source');
        later.add(100, other.slice(100, 110));
        assert.equal(later.check(), true);
      } finally {
        close();
      }
    });
  }
});
