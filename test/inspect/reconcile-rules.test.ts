// The WAL/db reconciliation's rules (src/inspect/reconcile.ts) on requests built as the decoder
// hands them over. Writes etcd may refuse at apply (a user's, a txn with a lease, any under an
// alarm) are not certain. A range delete explains a key the db no longer holds only when it
// covers the key and came after the log's last certain write to it. A range delete elsewhere in the
// log must not excuse a key that vanished from the db: that let `verify` call a db healthy where a
// bit flip had renamed a key (found by scripts/boot-fuzz.mjs on a real 3.6 dir, whose log deletes
// `/fixture/range/`). The db's items are mvccpb.KeyValue messages encoded with the project's schema.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ProtoObject } from '../../src/format/proto/unmarshal.js';
import { lookupType } from '../../src/format/proto/root.js';
import { type LedgerResult, MAX_KEYS, MAX_RANGES, WriteLedger } from '../../src/inspect/reconcile.js';

const b = (s: string) => Buffer.from(s, 'utf8');
const put = (key: string, value: string): ProtoObject => ({ put: { key: b(key), value: b(value) } });
const delRange = (key: string, end: string): ProtoObject => ({ deleteRange: { key: b(key), rangeEnd: b(end) } });
const txnPut = (key: string, value: string): ProtoObject => ({ txn: { compare: [{}], success: [{ requestPut: { key: b(key), value: b(value) } }], failure: [] } });

/** A `key` bucket item: revision (main, sub, and 't' for a tombstone) and its KeyValue. */
function item(main: number, key: string, value: string, tombstone = false): [Uint8Array, Uint8Array] {
  const rev = Buffer.alloc(tombstone ? 18 : 17);
  rev.writeBigUInt64BE(BigInt(main), 0);
  rev[8] = 0x5f;
  if (tombstone) rev[17] = 0x74;
  const kv = lookupType('mvccpb.KeyValue').encode({ key: b(key), value: b(value), modRevision: main }).finish();
  return [rev, kv];
}

/** As the analysis runs it: the log in index order (from 1), the db's items, the db's names, then the names walk when it is needed. */
function reconcile(log: ProtoObject[], db: [Uint8Array, Uint8Array][]): LedgerResult & { walks: number } {
  const ledger = new WriteLedger(BigInt(log.length));
  const feed = () => log.forEach((req, i) => (ledger.onIndex(BigInt(i + 1)), ledger.onEntry(BigInt(i + 1), req)));
  feed();
  for (const [k, v] of db) ledger.onDbItem(k, v);
  const r = ledger.result();
  if (r.mismatches > 0) ledger.nameMismatches(r, db.map(([key, value]) => ({ key, value })));
  let walks = 1;
  if (ledger.needsNaming(r)) {
    ledger.beginNaming(r);
    feed();
    walks++;
    ledger.settle(r);
  }
  return { ...r, walks };
}

describe('the WAL/db reconciliation: range deletes, and writes refused at apply', () => {
  it('a range delete after the write, covering the key, explains its tombstone (no second walk)', () => {
    const r = reconcile([put('a', '1'), delRange('a', 'b')], [item(2, 'a', '1'), item(3, 'a', '', true)]);
    assert.equal(r.mismatches, 0);
    assert.equal(r.checked, 1);
    assert.equal(r.walks, 1);
  });

  it('a range delete that does not cover the key does not explain its absence; the walk names it', () => {
    const r = reconcile([put('/k/a', '1'), put('/r/x', '2'), delRange('/r/', '/r0')], [item(3, '/r/x', '2'), item(4, '/r/x', '', true)]);
    assert.equal(r.walks, 2);
    assert.equal(r.mismatches, 1);
    assert.deepEqual(r.first, [{ key: '/k/a', index: 1, db: 'absent' }]);
  });

  it('a range delete before the last write does not explain a later absence', () => {
    const r = reconcile([delRange('a', 'b'), put('a', '1')], []);
    assert.equal(r.mismatches, 1);
    assert.equal(r.first[0]?.key, 'a');
  });

  it('a from-key range ("\\0" end) explains a key compacted away after it', () => {
    const r = reconcile([put('m', '1'), delRange('a', '\0')], []);
    assert.equal(r.walks, 2);
    assert.equal(r.mismatches, 0);
    assert.equal(r.pending, 0);
  });

  it('of two vanished keys, the covered one is explained and the other is the mismatch', () => {
    const r = reconcile([put('a', '1'), put('z', '2'), delRange('a', 'b')], []);
    assert.equal(r.mismatches, 1);
    assert.deepEqual(r.first.map((m) => m.key), ['z']);
  });

  it('a txn put after a covering range delete may not have run: absence is still explained', () => {
    const r = reconcile([put('a', '1'), delRange('a', 'b'), txnPut('a', '2')], [item(3, 'a', '', true)]);
    assert.equal(r.mismatches, 0);
    assert.equal(r.ambiguous, 0);
  });

  it('a db value the log did not leave is a mismatch whatever the ranges', () => {
    const r = reconcile([put('a', '1'), delRange('x', 'y')], [item(1, 'a', 'other')]);
    assert.equal(r.mismatches, 1);
    assert.equal(r.walks, 1); // the db named it
    assert.deepEqual(r.first, [{ key: 'a', index: 1, db: 'other-value' }]);
  });

  it('a txn without compares that also puts on a lease may fail whole at apply: its other put is not certain', () => {
    const txn: ProtoObject = { txn: { success: [{ requestPut: { key: b('k'), value: b('1') } }, { requestPut: { key: b('l'), value: b('2'), lease: 1234n } }] } };
    const r = reconcile([txn], []);
    assert.equal(r.mismatches, 0);
    assert.equal(r.checked, 0);
  });

  it('a put by a user (auth on) may be refused at apply: not certain', () => {
    const r = reconcile([{ ...put('k', '1'), header: { username: 'u' } }], []);
    assert.equal(r.mismatches, 0);
    assert.equal(r.ambiguous, 1);
  });

  it('writes between an alarm raised and cleared are not certain; after it, they are', () => {
    const alarm = (action: number): ProtoObject => ({ alarm: { action, memberId: 7n, alarm: 2 } });
    const r = reconcile([alarm(1), put('a', '1'), alarm(2), put('b', '2')], []);
    assert.equal(r.mismatches, 1);
    assert.deepEqual(r.first.map((m) => m.key), ['b']);
  });

  it('a snapshot from the leader past the log: what this member wrote above its commit is not certain', () => {
    const ledger = new WriteLedger(10n);
    ledger.onIndex(1n);
    ledger.onEntry(1n, put('a', '1'));
    ledger.onCommit(1n);
    ledger.onIndex(2n);
    ledger.onEntry(2n, put('b', 'minority')); // never committed
    ledger.onSnapshot(8n); // the leader's snapshot: the db is replaced
    ledger.onIndex(9n);
    ledger.onEntry(9n, put('c', '3'));
    for (const [k, v] of [item(5, 'a', '1'), item(9, 'c', '3')]) ledger.onDbItem(k, v);
    const r = ledger.result();
    assert.equal(r.mismatches, 0);
    assert.equal(r.ambiguous, 1);
    assert.equal(r.checked, 2);
  });

  it(`past ${MAX_RANGES} range deletes, an absence one of them may explain is not decided (ambiguous), never excused`, () => {
    const log = [put('a', '1'), ...Array.from({ length: MAX_RANGES + 1 }, (_, i) => delRange(`x${i}`, `y${i}`))];
    const r = reconcile(log, []);
    assert.equal(r.mismatches, 0);
    assert.equal(r.ambiguous, 1);
    assert.equal(r.checked, 0);
  });
});

describe('the WAL/db reconciliation: its table', () => {
  /** `n` keys put once each (index i + 1), the db holding them all, `changed` with another value. */
  function many(n: number, changed: number[]): LedgerResult {
    const ledger = new WriteLedger(BigInt(n));
    const key = (i: number) => `/registry/pods/ns-${i % 97}/pod-${i}`;
    for (let i = 0; i < n; i++) {
      ledger.onIndex(BigInt(i + 1));
      ledger.onEntry(BigInt(i + 1), put(key(i), `v${i}`));
    }
    const other = new Set(changed);
    for (let i = 0; i < n; i++) {
      const [rev, kv] = item(i + 2, key(i), other.has(i) ? `w${i}` : `v${i}`);
      ledger.onDbItem(rev, kv);
    }
    return ledger.result();
  }

  it('keeps every key through its growth to the largest table, and finds a changed value on either side of it', () => {
    // 100k keys: the table doubles to JUMP_SLOTS, then is replaced by the largest one
    const r = many(100_000, [5, 99_999]);
    assert.equal(r.keys, 100_000);
    assert.equal(r.checked, 100_000);
    assert.equal(r.truncated, false);
    assert.equal(r.mismatches, 2);
  });

  it('stops at MAX_KEYS keys and says so; the keys it holds are still checked', () => {
    const r = many(MAX_KEYS + 1000, [7]);
    assert.equal(r.keys, MAX_KEYS);
    assert.equal(r.truncated, true);
    assert.equal(r.mismatches, 1);
  });
});

describe('the WAL/db reconciliation: txns guarded by a mod revision, as Kubernetes writes', () => {
  const get = (key: string): ProtoObject => ({ requestRange: { key: b(key) } });
  /** `If(ModRevision(key) == mod) Then(op) Else(Get key)`; mod 0 (a create) as etcdctl sends it. */
  const guarded = (key: string, mod: bigint, op: ProtoObject, more: Partial<Record<'compare' | 'failure', ProtoObject[]>> = {}): ProtoObject => ({
    txn: { compare: [{ target: 2, key: b(key), modRevision: mod }, ...(more.compare ?? [])], success: [op], failure: [get(key), ...(more.failure ?? [])] },
  });
  const gput = (key: string, mod: bigint, value: string, lease?: bigint) => guarded(key, mod, { requestPut: { key: b(key), value: b(value), ...(lease ? { lease } : {}) } });
  const gdel = (key: string, mod: bigint) => guarded(key, mod, { requestDeleteRange: { key: b(key) } });

  it('the db holds what the update wrote: checked', () => {
    const r = reconcile([gput('k', 0n, 'v1'), gput('k', 2n, 'v2')], [item(2, 'k', 'v1'), item(3, 'k', 'v2')]);
    assert.deepEqual([r.checked, r.ambiguous, r.mismatches], [1, 0, 0]);
  });

  it('the db\'s latest revision is the one the update required, with another value: the update was lost', () => {
    const r = reconcile([gput('k', 0n, 'v1'), gput('k', 2n, 'v2')], [item(2, 'k', 'v1')]);
    assert.equal(r.mismatches, 1);
    assert.deepEqual(r.first, [{ key: 'k', index: 2, db: 'other-value' }]);
  });

  it('a stale update (the db\'s latest revision is another): its compare failed, undecided', () => {
    const r = reconcile([gput('k', 0n, 'v1'), gput('k', 2n, 'v2'), gput('k', 2n, 'v3')], [item(2, 'k', 'v1'), item(3, 'k', 'v2')]);
    assert.deepEqual([r.checked, r.ambiguous, r.mismatches], [0, 1, 0]);
  });

  it('a create whose key the db does not hold: lost; unless a lease revoke or a range delete came after it', () => {
    assert.equal(reconcile([gput('k', 0n, 'v1')], []).mismatches, 1);
    const revoke: ProtoObject = { leaseRevoke: { iD: 5n } };
    const r = reconcile([gput('k', 0n, 'v1'), revoke], [item(2, 'k', '', true)]);
    assert.deepEqual([r.checked, r.ambiguous, r.mismatches], [0, 1, 0]);
    const before = reconcile([revoke, gput('k', 0n, 'v1')], []);
    assert.equal(before.mismatches, 1, 'a revoke before the create explains nothing');
    const ranged = reconcile([gput('k', 0n, 'v1'), delRange('a', 'z')], [item(3, 'k', '', true)]);
    assert.deepEqual([ranged.checked, ranged.ambiguous, ranged.mismatches], [0, 1, 0]);
  });

  it('gone without a tombstone: only a compaction after the delete that left one explains it (the boot fuzz renamed created keys after a revoke)', () => {
    const revoke: ProtoObject = { leaseRevoke: { iD: 5n } };
    const compaction: ProtoObject = { compaction: { revision: 2n } };
    // a create, then a revoke: the revoke cannot delete what the create wrote, and left no tombstone
    assert.equal(reconcile([gput('k', 0n, 'v1'), revoke], []).mismatches, 1);
    assert.equal(reconcile([gput('k', 0n, 'v1'), delRange('a', 'z')], []).mismatches, 1);
    // a compaction before the delete explains nothing; after it, the tombstone may be gone
    assert.equal(reconcile([gput('k', 0n, 'v1'), compaction, revoke], []).mismatches, 1);
    const compacted = reconcile([gput('k', 0n, 'v1'), revoke, compaction], []);
    assert.deepEqual([compacted.checked, compacted.ambiguous, compacted.mismatches], [0, 1, 0]);
    // a guarded delete that ran left a tombstone, or a compaction after it took it; without
    // either, it may not have run (a stale delete of a key already gone): undecided
    const gone = reconcile([gput('k', 0n, 'v1'), gdel('k', 2n), compaction], []);
    assert.deepEqual([gone.checked, gone.mismatches], [1, 0]);
    const stale = reconcile([gdel('k', 2n)], []);
    assert.deepEqual([stale.checked, stale.ambiguous, stale.mismatches], [0, 1, 0]);
  });

  it('a create whose key the db holds with another value: it existed, the compare failed, undecided', () => {
    const r = reconcile([put('k', 'v0'), gput('k', 0n, 'v1')], [item(1, 'k', 'v0')]);
    assert.deepEqual([r.checked, r.ambiguous, r.mismatches], [0, 1, 0]);
  });

  it('a guarded delete: gone is checked; still at the revision it required is lost; at another, undecided', () => {
    const log = [gput('k', 0n, 'v1'), gdel('k', 2n)];
    assert.deepEqual([reconcile(log, [item(2, 'k', 'v1'), item(3, 'k', '', true)])].map((r) => [r.checked, r.mismatches]), [[1, 0]]);
    assert.equal(reconcile(log, [item(2, 'k', 'v1')]).mismatches, 1);
    assert.equal(reconcile([gput('k', 0n, 'v1'), gput('k', 2n, 'v2'), gdel('k', 2n)], [item(2, 'k', 'v1'), item(3, 'k', 'v2')]).ambiguous, 1);
  });

  it('not the pattern, so the general way (undecided without an earlier certain write): a put on a lease, two compares, a failure branch that writes, another target or result, a revision past 2^32', () => {
    const cases: ProtoObject[] = [
      gput('k', 2n, 'v2', 77n),
      guarded('k', 2n, { requestPut: { key: b('k'), value: b('v2') } }, { compare: [{ target: 2, key: b('j'), modRevision: 0n }] }),
      guarded('k', 2n, { requestPut: { key: b('k'), value: b('v2') } }, { failure: [{ requestPut: { key: b('x'), value: b('1') } }] }),
      { txn: { compare: [{ target: 0, key: b('k'), version: 1n }], success: [{ requestPut: { key: b('k'), value: b('v2') } }], failure: [] } },
      { txn: { compare: [{ result: 3, target: 2, key: b('k'), modRevision: 2n }], success: [{ requestPut: { key: b('k'), value: b('v2') } }], failure: [] } },
      guarded('k', 1n << 32n, { requestPut: { key: b('k'), value: b('v2') } }),
      guarded('j', 2n, { requestPut: { key: b('k'), value: b('v2') } }),
    ];
    for (const [i, txn] of cases.entries()) {
      const r = reconcile([txn], [item(2, 'k', 'v1')]);
      assert.equal(r.mismatches, 0, `case ${i}`);
      assert.equal(r.checked, 0, `case ${i}`);
    }
  });

  // Where the latest revision is neither the compare's nor the value the txn wrote, the txn ran
  // (and the db holds another value) or its compare failed (and the db holds what was there). A
  // revision the log certainly wrote, met in the db's revision order, tells the two apart: the
  // boot fuzz flipped a bit inside a Kubernetes object's value, etcd served it, and this was undecided.
  it('the log\'s only write to the key is a create, and the db\'s latest put of it comes after a revision the log wrote: the create ran and its value changed', () => {
    const r = reconcile([gput('a', 0n, 'va'), gput('b', 0n, 'vb'), gput('k', 0n, 'vk')], [item(1, 'a', 'va'), item(2, 'b', 'vb'), item(3, 'k', 'vK')]);
    assert.deepEqual([r.checked, r.ambiguous, r.mismatches], [3, 0, 1]);
    assert.deepEqual(r.first, [{ key: 'k', index: 3, db: 'other-value' }]);
    const del = reconcile([gput('a', 0n, 'va'), gput('b', 0n, 'vb'), gdel('k', 7n)], [item(1, 'a', 'va'), item(2, 'b', 'vb'), item(3, 'k', 'v')]);
    assert.equal(del.mismatches, 1, 'a put the log did not write, where its only write to the key is a delete');
    // one witness is not enough: a write before the log may have put the same value, and the txn failed
    const one = reconcile([gput('a', 0n, 'va'), gput('k', 0n, 'vk')], [item(1, 'a', 'va'), item(2, 'k', 'vK')]);
    assert.deepEqual([one.checked, one.ambiguous, one.mismatches], [1, 1, 0]);
  });

  it('without a revision the log wrote before it, the db\'s latest put may predate the log (the compare failed): undecided', () => {
    assert.deepEqual([reconcile([gput('k', 0n, 'vk')], [item(2, 'k', 'other')])].map((r) => [r.checked, r.ambiguous, r.mismatches]), [[0, 1, 0]]);
    const before = reconcile([gput('k', 0n, 'vk'), gput('a', 0n, 'va')], [item(1, 'k', 'other'), item(2, 'a', 'va')]);
    assert.deepEqual([before.checked, before.ambiguous, before.mismatches], [1, 1, 0]);
    // a value the log wrote, at or below the revision its compare required, may be older than the log
    const old = reconcile([gput('a', 3n, 'va'), gput('k', 0n, 'vk')], [item(2, 'a', 'va'), item(3, 'k', 'other')]);
    assert.deepEqual([old.checked, old.ambiguous, old.mismatches], [1, 1, 0]);
  });

  it('an update whose compare names the put of the log\'s write before it: the compare held, so the db must hold the update', () => {
    const ab = [gput('a', 0n, 'va'), gput('b', 0n, 'vb')];
    const abItems = [item(1, 'a', 'va'), item(2, 'b', 'vb')];
    const r = reconcile([...ab, gput('k', 0n, 'v1'), gput('k', 3n, 'v2')], [...abItems, item(3, 'k', 'v1'), item(4, 'k', 'v2x')]);
    assert.deepEqual([r.checked, r.ambiguous, r.mismatches], [3, 0, 1]);
    // the revision the compare names may predate the log: another client's update came first
    const stale = reconcile([...ab, gput('k', 1n, 'vB'), gput('k', 1n, 'vA')], [item(1, 'k', 'v0'), item(2, 'a', 'va'), item(3, 'b', 'vb'), item(4, 'k', 'vB')]);
    assert.deepEqual([stale.mismatches, stale.ambiguous], [0, 1]);
    // three writes: the one the compare names may not be the one just before
    const three = reconcile([...ab, gput('k', 0n, 'v1'), gput('k', 3n, 'v2'), gput('k', 3n, 'v3')], [...abItems, item(3, 'k', 'v1'), item(4, 'k', 'v2')]);
    assert.deepEqual([three.mismatches, three.ambiguous], [0, 1]);
    // but a value none of the three put is a mismatch (the filter of the values the log put to it)
    const other = reconcile([...ab, gput('k', 0n, 'v1'), gput('k', 3n, 'v2'), gput('k', 3n, 'v3')], [...abItems, item(3, 'k', 'v1'), item(4, 'k', 'v2x')]);
    assert.deepEqual([other.mismatches, other.ambiguous], [1, 0]);
  });

  it('only a log whole up to the consistent index says every later revision is its own: not past a gap, a leader\'s snapshot, an unreadable entry, or a short log', () => {
    const log = [gput('a', 0n, 'va'), gput('b', 0n, 'vb'), gput('k', 0n, 'vk')];
    const db = [item(1, 'a', 'va'), item(2, 'b', 'vb'), item(3, 'k', 'vK')];
    const run = (ci: bigint, feed: (l: WriteLedger) => void) => {
      const ledger = new WriteLedger(ci);
      feed(ledger);
      for (const [k, v] of db) ledger.onDbItem(k, v);
      return ledger.result();
    };
    const whole = run(3n, (l) => log.forEach((req, i) => (l.onIndex(BigInt(i + 1)), l.onEntry(BigInt(i + 1), req))));
    assert.equal(whole.mismatches, 1);
    const gap = run(4n, (l) => [1n, 2n, 4n].forEach((ix, i) => (l.onIndex(ix), l.onEntry(ix, log[i]!))));
    const snapshot = run(4n, (l) => {
      [1n, 2n].forEach((ix, i) => (l.onIndex(ix), l.onEntry(ix, log[i]!)));
      l.onCommit(2n);
      l.onSnapshot(3n);
      l.onIndex(4n);
      l.onEntry(4n, log[2]!);
    });
    const unread = run(4n, (l) => {
      log.forEach((req, i) => (l.onIndex(BigInt(i + 1)), l.onEntry(BigInt(i + 1), req)));
      l.onIndex(4n);
      l.onUnread(4n);
    });
    const short = run(5n, (l) => log.forEach((req, i) => (l.onIndex(BigInt(i + 1)), l.onEntry(BigInt(i + 1), req))));
    for (const [name, r] of Object.entries({ gap, snapshot, unread, short })) assert.deepEqual([r.mismatches, r.ambiguous], [0, 1], name);
  });

  it('a later write of any kind replaces the guard: a certain put is checked as such, a maybe makes it undecided', () => {
    assert.equal(reconcile([gput('k', 0n, 'v1'), put('k', 'v2')], [item(2, 'k', 'v1')]).mismatches, 1);
    assert.equal(reconcile([gput('k', 0n, 'v1'), put('k', 'v2')], [item(2, 'k', 'v1'), item(3, 'k', 'v2')]).mismatches, 0);
    const r = reconcile([gput('k', 0n, 'v1'), txnPut('k', 'v2')], []);
    assert.deepEqual([r.checked, r.ambiguous], [0, 1]);
  });
});
