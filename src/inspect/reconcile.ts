/**
 * Do the WAL and the db tell one history? Every write the log holds at an index the db has applied
 * (≤ its consistent index) must be what the db holds: the latest revision of each key the log
 * wrote is the log's last write to it, or — where the log cannot say which happened (a txn's two
 * branches, a key on a lease that may have expired) — one of the writes it could be. A txn guarded
 * by the key's mod revision, as Kubernetes writes every object, is decided by the db itself where
 * it can be (`guarded`).
 *
 * And where the log cannot say which of its writes the db holds, it can still say what the db may
 * not hold. The db's items are met in revision order; once one is met that the log surely wrote
 * (`logRevisionSeen`), every later item was written by the log too, when the log holds every
 * entry up to the consistent index (`complete`). A key's latest put past that point must then hold
 * a value the log put to it (a Bloom filter of them per key: a changed value goes unnoticed with
 * odds of about 1 in 30 when the log put the key three times, never the other way), and where the
 * log wrote the key only once or twice a guarded txn is decided (`guardHeld`).
 *
 * A difference is two histories in one data dir (a second etcd wrote the shared WAL, a db put back
 * from another member or another time), or a value changed on disk after etcd wrote it: etcd would
 * start and serve it without a word.
 *
 * Memory is bounded: keys are kept as 64-bit hashes and values as 32-bit ones (CRC-32C: a changed
 * value goes unnoticed with odds of 1 in 2^32 per key) in one typed table of 28-byte slots
 * (MAX_KEYS keys; past that, the rest of the log is not checked and the report says so). The table
 * doubles while it is small; past JUMP_SLOTS it is replaced once by one of MAX_SLOTS, filled to
 * 3/4 at most, whose pages the OS commits only as keys land in them: growing by doubling to the
 * end held the last two tables at once (75 MB), and the dead one stayed until a full GC. The log
 * is read first: a db item is compared with what the log left for its key as it is met, and only
 * the answer is kept. Names of the keys that
 * differ are found again in a second pass over the db only when there are any.
 *
 * A range delete excuses a key's absence only where it covers that key and came after the log's
 * last certain write to it. Ranges are kept (MAX_RANGES of them) but key names are not, so a key
 * absent from the db that such a range may explain is settled by a second walk of the log
 * (`beginNaming`, then the same `onEntry` feed): it meets the key's name there. That walk also
 * names absent keys the db could not name, and runs only when there are any.
 */
import { crc32cUpdate } from '../format/crc.js';
import { revisionMain } from '../format/bbolt/etcd-meta.js';
import { type FieldSelection, type ProtoObject, fieldSelection } from '../format/proto/unmarshal.js';
import { WireFailure, WireReader } from '../format/proto/wire.js';
import type { ReconcileSkip } from './report.js';

/** Keys tracked at most (the table then holds MAX_SLOTS slots of 28 bytes: about 39 MB). */
export const MAX_KEYS = 1 << 20;
/** The largest table: MAX_KEYS fill it to 3/4. */
const MAX_SLOTS = Math.ceil((MAX_KEYS * 4) / 3);
/** Tables double until this many slots (about 4 MB); the next one is the largest. */
const JUMP_SLOTS = 1 << 17;
/** Rewrites of applied indexes by a new leader handled; past that, the log is not checked. */
const MAX_REWINDS = 64;
/** Range deletes kept; past that, an absence one of them may explain is not decided. */
export const MAX_RANGES = 4096;

const STRIDE = 7;
// slot words: 0,1 key hash; 2 flags (the log's, the db's, the candidate count, the count of
// writes); 3 candidate 1; 4 candidate 2 (F_GUARDED: the mod revision the guard required); 5 index
// (low 32 bits) of the log's last certain write, or of its last write when none was certain; 6 the
// Bloom filter of every value the log put to the key
const F_AMBIGUOUS = 1;
const F_ABSENT = 2;
/** The log made the key's state certain at some point (a put or a one-key delete outside a txn). */
const F_BASE = 4;
/** Absent from the db, and a later range delete may explain it: the names walk decides. */
const F_PENDING = 8;
/** Decided by the names walk: absent, and no range delete explains it. */
const F_UNEXPLAINED = 128;
const DB_SEEN = 16;
const DB_ABSENT = 32;
/** The db's latest value of the key is one of the log's candidates. */
const DB_MATCH = 64;
/** The db's latest item of the key is a tombstone, and a range delete after the log's last certain write covers it. */
const DB_COVERED = 1 << 12;
/**
 * The log's last write to the key is a guarded txn (see `guarded`): candidate 1 is its value (none
 * for a delete, F_ABSENT), word 4 the mod revision its compare required.
 */
const F_GUARDED = 1 << 10;
/** The db's latest revision of the key is a put at the revision the guard required. */
const DB_AT_GUARD = 1 << 11;
/**
 * When the db's latest item of the key was met, a revision written by the log had been met before
 * it (`logRevisionSeen`): the latest item was written by the log, not before it began.
 */
const DB_AFTER_LOG_START = 1 << 15;
/** The db's latest item of the key is a put of a value the log never put to it (word 6 says). */
const DB_UNLOGGED_VALUE = 1 << 17;
const DB_FLAGS = DB_SEEN | DB_ABSENT | DB_MATCH | DB_COVERED | DB_AT_GUARD | DB_AFTER_LOG_START | DB_UNLOGGED_VALUE;
/**
 * Kept across the db's items: a put of the key at the revision the guard required, written by the
 * log (a log revision had been met by then).
 */
const DB_GUARD_LOGGED = 1 << 16;
/** How many writes to the key the log holds (the last one included): bits 13 and 14, 3 for three or more. */
const WRITES_SHIFT = 13;
const WRITES_MASK = 3 << WRITES_SHIFT;
/** What a write keeps of a slot's flags: the db's (none yet while the log is read) and the count of writes. */
const KEEP_ON_WRITE = DB_FLAGS | DB_GUARD_LOGGED | WRITES_MASK;
/** The candidate count: bits 8 and 9 (at most 2). */
const COUNT_SHIFT = 8;
const COUNT_MASK = 3 << COUNT_SHIFT;
const BRANCHES = ['success', 'failure'] as const;

function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** A key's hash: two independent 32-bit hashes, the second never 0 (an empty slot is 0, 0). */
function hashA(b: Uint8Array): number {
  return crc32cUpdate(b, 0) >>> 0;
}
function hashB(b: Uint8Array): number {
  return (fnv1a(b) | 1) >>> 0;
}

function valueHash(b: Uint8Array): number {
  return crc32cUpdate(b, 0) >>> 0;
}

/** The value last hashed by `logValueHash` (the same bytes object) and its hash: the log's puts are hashed twice in a row. */
let lastValue: Uint8Array | undefined;
let lastValueHash = 0;

function logValueHash(b: Uint8Array): number {
  if (b !== lastValue) {
    lastValueHash = valueHash(b);
    lastValue = b;
  }
  return lastValueHash;
}

/** A value's two bits in a key's Bloom filter of the values the log put (from its hash). */
function bloomBits(h: number): number {
  return ((1 << (h & 31)) | (1 << ((h >>> 5) & 31))) >>> 0;
}

export interface Mismatch {
  key: string;
  /** The log's last certain write to the key (an index ≤ the consistent index), low 32 bits. */
  index: number;
  /** What the db holds at its latest revision of the key. */
  db: 'absent' | 'other-value';
}

export interface Reconciliation {
  /** Keys the log wrote at applied indexes, and of those the ones the check could decide. */
  keys: number;
  checked: number;
  /** Keys the log could not pin down (txns with both branches writing, too many candidates). */
  ambiguous: number;
  /** The log was not checked past MAX_KEYS keys. */
  truncated: boolean;
  /** Why nothing was checked (an overwritten log tail among applied entries, ...), if so. */
  skipped: ReconcileSkip | undefined;
  mismatches: number;
  /** The first mismatching keys (at most 20), filled by `nameMismatches` and `settle`. */
  first: Mismatch[];
}

/** A reconciliation as the ledger works on it: which slots differ, which wait for the names walk. */
export interface LedgerResult extends Reconciliation {
  mismatchSlots: number[];
  /** Absent keys a range delete may explain: `beginNaming`, walk the log again, then `settle`. */
  pending: number;
}

/** A DeleteRange with a range end: [start, end), or every key from start when end is "\0". */
interface RangeDelete {
  index: number;
  start: Uint8Array;
  end: Uint8Array;
}

/** Whether index a (low 32 bits) comes after b, for two indexes less than 2^31 apart. */
function after(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** The later of two indexes (low 32 bits), either possibly missing. */
function latest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return after(a, b) ? a : b;
}

function covers(r: RangeDelete, key: Uint8Array): boolean {
  if (Buffer.compare(key, r.start) < 0) return false;
  if (r.end.length === 1 && r.end[0] === 0) return true;
  return Buffer.compare(key, r.end) < 0;
}

let ledgerSelection: FieldSelection | undefined;

/** The fields of a request `WriteLedger.onEntry` reads (the decoder builds only these). */
export function ledgerFields(): FieldSelection {
  return (ledgerSelection ??= fieldSelection({
    'etcdserverpb.InternalRaftRequest': ['put', 'deleteRange', 'txn', 'alarm', 'header', 'leaseRevoke', 'compaction'],
    'etcdserverpb.PutRequest': ['key', 'value', 'lease', 'ignoreValue', 'ignoreLease'],
    'etcdserverpb.DeleteRangeRequest': ['key', 'rangeEnd'],
    'etcdserverpb.TxnRequest': ['compare', 'success', 'failure'],
    // every member of the target_union oneof: a later one clears an earlier (the decoder does that only among those it builds)
    'etcdserverpb.Compare': ['result', 'target', 'key', 'version', 'createRevision', 'modRevision', 'value', 'lease', 'rangeEnd'],
    'etcdserverpb.RequestOp': ['requestRange', 'requestPut', 'requestDeleteRange', 'requestTxn'], // (a oneof: all of its members)
    'etcdserverpb.LeaseRevokeRequest': [],
    'etcdserverpb.CompactionRequest': [],
    'etcdserverpb.RangeRequest': [],
    'etcdserverpb.RequestHeader': ['username'],
  }));
}

export class WriteLedger {
  private table = new Uint32Array(4096 * STRIDE);
  /** The key last looked up (the same bytes object) and its slot: a put is looked up twice in a row. Slots move only when the table grows. */
  private lastKey: Uint8Array | undefined;
  private lastSlot = -1;
  private size = 0;
  private full = false;
  private ranges: RangeDelete[] = [];
  private rangesDropped = false;
  /** The latest range delete's index (low 32 bits), when there is one. */
  private lastRange: number | undefined;
  /** The latest lease revoke's index (low 32 bits), when there is one: it deletes keys no entry names. */
  private lastRevoke: number | undefined;
  /**
   * The latest compaction's index, and the latest range delete or lease revoke before it: a key's
   * tombstone is gone from the db only if a compaction came after the delete that left it.
   */
  private lastCompaction: number | undefined;
  private deleteBeforeCompaction: number | undefined;
  private overwritten = false;
  /**
   * The db's walk has met a revision the log wrote: an item of a key whose last write in the log is
   * a guarded put, holding its value, at a revision above the one its compare required. Items are
   * met in revision order, so every later item was written by the log too. One such item could
   * still predate the log: a txn whose compare failed because a write before the log had put the
   * very same value (a stale read-modify-write that changed nothing). So it takes two, of two keys
   * at two revisions.
   */
  private logRevisionSeen = false;
  /** The first of the two: its slot and main revision. */
  private witness: { slot: number; main: number } | undefined;
  /**
   * The log holds every write etcd applied from its first entry to the consistent index: no index
   * skipped, no snapshot from a leader past it, no entry whose request could not be read. Only then
   * is a revision after the log's first one the log's write, and the key's writes all counted.
   */
  private complete = true;
  private entriesRead = false;
  /** How many times a later record rewrote applied indexes (a new leader's entries). */
  private rewinds = 0;
  /** The highest commit of the HardStates read so far. */
  private commit = 0n;
  private lastIndex = 0n;
  /** Set by `beginNaming`: `onEntry` then settles pending keys and names unnamed ones. */
  private naming: { wanted: Set<number>; slots: number[] } | undefined;
  /** The mismatching keys named so far, by slot. */
  private names = new Map<number, Mismatch>();

  /**
   * What the entry right above the consistent index puts (its last reading): etcd applies it at
   * boot, so the db must not hold it already (see `newestIsNext`).
   */
  nextPuts: { key: Uint8Array; value: Uint8Array }[] | undefined;

  /** Alarms (member and type) the log raised and has not cleared, as it is read. */
  private raised = new Set<string>();

  /**
   * Writes etcd may refuse at apply, after they are in the log, go in as maybe(): a user's write
   * without permission (auth on), a txn with a put on a missing lease, and any write while a
   * NOSPACE or CORRUPT alarm is raised (NOSPACE refuses puts, CORRUPT every write). `alarmed`: the
   * db keeps such an alarm raised, which may predate the log: then no write of the log is certain.
   */
  /** The entry right above the consistent index (computed once: onEntry meets a million entries). */
  private readonly nextIndex: bigint;

  constructor(
    readonly consistentIndex: bigint,
    private readonly opts: { alarmed?: boolean } = {},
  ) {
    this.nextIndex = consistentIndex + 1n;
  }

  /** Whether etcd certainly applied a write proposed now (no alarm raised that refuses it). */
  private applies(): boolean {
    return this.raised.size === 0 && this.opts.alarmed !== true;
  }

  private slotOf(key: Uint8Array, create: boolean): number {
    if (key === this.lastKey) return this.lastSlot;
    const s = this.slot(hashA(key), hashB(key), create);
    if (s >= 0) {
      this.lastKey = key;
      this.lastSlot = s;
    }
    return s;
  }

  /**
   * A put of `key` the log holds, certain or not: its value (undefined: the key's value before,
   * ignore_value) joins the values the key may hold (word 6, a Bloom filter of two bits per value).
   */
  private putSeen(key: Uint8Array, value: Uint8Array | undefined): void {
    const s = this.slotOf(key, true);
    if (s < 0) return;
    this.table[s + 6] = value === undefined ? 0xffff_ffff : (this.table[s + 6]! | bloomBits(logValueHash(value))) >>> 0;
  }

  /** The slot of a key the log writes now, its count of writes one more. */
  private written(key: Uint8Array): number {
    const s = this.slotOf(key, true);
    if (s < 0) return s;
    const f = this.table[s + 2]!;
    if ((f & WRITES_MASK) !== WRITES_MASK) this.table[s + 2] = f + (1 << WRITES_SHIFT);
    return s;
  }

  private slot(h0: number, h1: number, create: boolean): number {
    const cap = this.table.length / STRIDE;
    let i = (h0 ^ Math.imul(h1, 0x9e3779b1)) >>> 0;
    for (let n = 0; n < cap; n++) {
      const s = (i % cap) * STRIDE;
      const a = this.table[s]!;
      const b = this.table[s + 1]!;
      if (a === h0 && b === h1) return s;
      if (a === 0 && b === 0) {
        if (!create) return -1;
        if (this.size >= MAX_KEYS) {
          this.full = true;
          return -1;
        }
        if (cap < MAX_SLOTS && (this.size + 1) * 10 > cap * 6) {
          this.grow();
          return this.slot(h0, h1, true);
        }
        this.table[s] = h0;
        this.table[s + 1] = h1;
        this.size++;
        return s;
      }
      i++;
    }
    return -1;
  }

  private grow(): void {
    this.lastKey = undefined;
    const old = this.table;
    const cap = old.length / STRIDE;
    this.table = new Uint32Array((cap * 2 > JUMP_SLOTS ? MAX_SLOTS : cap * 2) * STRIDE);
    const saved = this.size;
    this.size = 0;
    for (let s = 0; s < old.length; s += STRIDE) {
      if (old[s] === 0 && old[s + 1] === 0) continue;
      const t = this.slot(old[s]!, old[s + 1]!, true);
      this.table.set(old.subarray(s + 2, s + STRIDE), t + 2);
    }
    this.size = saved;
  }

  /** A write the log makes certain: the key holds exactly this (or nothing) afterwards. */
  private set(key: Uint8Array, value: Uint8Array | undefined, mayVanish: boolean, index: bigint): void {
    const s = this.written(key);
    if (s < 0) return;
    const t = this.table;
    const db = t[s + 2]! & KEEP_ON_WRITE;
    if (value === undefined) {
      t[s + 2] = db | F_ABSENT | F_BASE;
    } else {
      t[s + 2] = db | (1 << COUNT_SHIFT) | F_BASE | (mayVanish ? F_ABSENT : 0);
      t[s + 3] = logValueHash(value);
    }
    t[s + 5] = Number(index & 0xffff_ffffn);
  }

  /** A write that may or may not have happened (a txn branch): one more thing the key may hold. */
  private maybe(key: Uint8Array, value: Uint8Array | undefined, index: bigint): void {
    const s = this.written(key);
    if (s < 0) return;
    const t = this.table;
    // Without a write the log made certain before, the key may hold what it held before the log
    // began (a txn's compare may have failed): nothing to compare with.
    if (!(t[s + 2]! & F_BASE)) {
      t[s + 5] = Number(index & 0xffff_ffffn);
      t[s + 2] = t[s + 2]! | F_AMBIGUOUS;
      return;
    }
    if (value === undefined) {
      t[s + 2] = t[s + 2]! | F_ABSENT;
      return;
    }
    const v = logValueHash(value);
    const count = (t[s + 2]! & COUNT_MASK) >>> COUNT_SHIFT;
    for (let c = 0; c < count; c++) if (t[s + 3 + c] === v) return;
    if (count >= 2) {
      t[s + 2] = t[s + 2]! | F_AMBIGUOUS;
      return;
    }
    t[s + 3 + count] = v;
    t[s + 2] = (t[s + 2]! & ~COUNT_MASK) | ((count + 1) << COUNT_SHIFT);
  }

  /** Every entry of the log, in order, before its request (if any) reaches `onEntry`. */
  onIndex(index: bigint): void {
    if (this.naming) return;
    if (index <= this.lastIndex && index <= this.consistentIndex) this.rewind(index);
    else if (this.entriesRead && index > this.lastIndex + 1n && this.lastIndex < this.consistentIndex) this.complete = false;
    this.lastIndex = index;
    this.entriesRead = true;
  }

  /** A normal entry at `index` whose request could not be read: what it wrote is not known. */
  onUnread(index: bigint): void {
    if (!this.naming && index <= this.consistentIndex) this.complete = false;
  }

  /** A HardState record: what the member knew was committed so far. */
  onCommit(commit: bigint): void {
    if (commit > this.commit) this.commit = commit;
  }

  /**
   * A snapshot record. One past the last entry read is a snapshot the leader sent a member that
   * was behind: the db was replaced with the leader's, and the entries this member had written
   * above its commit may never have been committed (a minority leader's): the keys they wrote
   * last become ambiguous.
   */
  onSnapshot(index: bigint): void {
    if (this.naming || index <= this.lastIndex) return;
    if (this.entriesRead && this.lastIndex < this.consistentIndex) this.complete = false;
    if (this.commit < this.lastIndex && this.commit < this.consistentIndex) this.rewind(this.commit + 1n);
    this.lastIndex = index;
  }

  /** A normal entry of the log, in order, with its decoded InternalRaftRequest (after `onIndex`). */
  onEntry(index: bigint, req: ProtoObject): void {
    if (this.naming) {
      if (index <= this.consistentIndex) this.nameKeys(req);
      return;
    }
    if (index === this.nextIndex) this.nextPuts = putsOf(req);
    if (index > this.consistentIndex) return;
    const alarm = req['alarm'] as ProtoObject | undefined;
    if (alarm) return this.onAlarm(alarm);
    // With auth on, etcd checks a user's permission to write at apply, after the entry is in the
    // log: a write a user may not make is there and not in the db.
    const header = req['header'] as ProtoObject | undefined;
    const certain = this.applies() && !(typeof header?.['username'] === 'string' && header['username'] !== '');
    const put = req['put'] as ProtoObject | undefined;
    if (put) {
      this.putSeen(bytesOf(put['key']), put['ignoreValue'] === true ? undefined : bytesOf(put['value']));
      if (put['ignoreValue'] === true || put['ignoreLease'] === true) this.maybe(bytesOf(put['key']), undefined, index);
      else if (certain) this.set(bytesOf(put['key']), bytesOf(put['value']), hasLease(put), index);
      else {
        this.maybe(bytesOf(put['key']), bytesOf(put['value']), index);
        if (hasLease(put)) this.maybe(bytesOf(put['key']), undefined, index);
      }
      return;
    }
    const del = req['deleteRange'] as ProtoObject | undefined;
    if (del) {
      if (bytesOf(del['rangeEnd']).length > 0) this.rangeDelete(del, index);
      else if (certain) this.set(bytesOf(del['key']), undefined, false, index);
      else this.maybe(bytesOf(del['key']), undefined, index);
      return;
    }
    const txn = req['txn'] as ProtoObject | undefined;
    if (txn) {
      if (!(certain && this.guarded(txn, index))) this.txn(txn, index, certain);
      return;
    }
    if (req['leaseRevoke'] !== undefined) this.lastRevoke = Number(index & 0xffff_ffffn);
    else if (req['compaction'] !== undefined) {
      this.lastCompaction = Number(index & 0xffff_ffffn);
      this.deleteBeforeCompaction = latest(this.lastRange, this.lastRevoke);
    }
  }

  /**
   * A txn as Kubernetes writes every object: `If(ModRevision(K) == X) Then(Put(K, V) or
   * Delete(K)) Else(Range...)`. Whether its compare held is not in the log, but the db can say: it
   * held exactly when K's mod revision then was X (0: K absent), so when K's latest revision in the
   * db is still X, and this is the log's last write to K, the write must have run and the db lost it
   * (a write to K after X, before this txn, would have left a later revision; after it, a later
   * write the log holds). When the db holds V, it ran. Anything else stays undecided, but for a
   * create (X = 0) whose key the db does not hold at all: it ran, unless a range delete or a lease
   * revoke (which names no key) came after it. A put on a lease, or ignoring value or lease, may
   * fail the whole txn, and a failure branch that writes is another story: those take the general
   * way (`txn`). Handled here (true) or not.
   */
  private guarded(txn: ProtoObject, index: bigint): boolean {
    const compare = txn['compare'];
    const success = txn['success'];
    const failure = txn['failure'];
    if (!Array.isArray(compare) || compare.length !== 1 || !Array.isArray(success) || success.length !== 1) return false;
    if (Array.isArray(failure) && (failure as ProtoObject[]).some((op) => op['requestPut'] !== undefined || op['requestDeleteRange'] !== undefined || op['requestTxn'] !== undefined)) return false;
    const c = compare[0] as ProtoObject;
    // result EQUAL (0, the default), target MOD (2), one key; the revision is 0 unless the union holds a mod revision
    if ((c['result'] ?? 0) !== 0 || c['target'] !== 2 || bytesOf(c['rangeEnd']).length > 0) return false;
    const mod = c['modRevision'];
    const x = typeof mod === 'bigint' ? mod : typeof mod === 'number' ? BigInt(mod) : 0n;
    if (x < 0n || x > 0xffff_ffffn) return false;
    const key = bytesOf(c['key']);
    const op = success[0] as ProtoObject;
    const put = op['requestPut'] as ProtoObject | undefined;
    const del = op['requestDeleteRange'] as ProtoObject | undefined;
    if (put) {
      if (mayFail(put) || Buffer.compare(bytesOf(put['key']), key) !== 0) return false;
      this.putSeen(key, bytesOf(put['value']));
      this.guard(key, bytesOf(put['value']), Number(x), index);
      return true;
    }
    if (del && bytesOf(del['rangeEnd']).length === 0 && Buffer.compare(bytesOf(del['key']), key) === 0) {
      this.guard(key, undefined, Number(x), index);
      return true;
    }
    return false;
  }

  /** The log's last write to `key` is a guarded txn (put `value`, or delete) requiring mod revision `mod`. */
  private guard(key: Uint8Array, value: Uint8Array | undefined, mod: number, index: bigint): void {
    const s = this.written(key);
    if (s < 0) return;
    const t = this.table;
    const db = t[s + 2]! & KEEP_ON_WRITE;
    if (value === undefined) t[s + 2] = db | F_GUARDED | F_ABSENT;
    else {
      t[s + 2] = db | F_GUARDED | (1 << COUNT_SHIFT);
      t[s + 3] = logValueHash(value);
    }
    t[s + 4] = mod;
    t[s + 5] = Number(index & 0xffff_ffffn);
  }

  /**
   * A record at `index`, at or below the last one read: a new leader's entries replace the log's
   * from there, and etcd applied those, not the ones read before. What the replaced entries wrote
   * is no longer known for certain: the keys they wrote last become ambiguous and their range
   * deletes are forgotten. Past MAX_REWINDS the log is not checked at all.
   */
  private rewind(index: bigint): void {
    if (++this.rewinds > MAX_REWINDS) {
      this.overwritten = true;
      return;
    }
    const from = Number(index & 0xffff_ffffn);
    const replaced = (at: number) => !after(from, at);
    this.ranges = this.ranges.filter((r) => !replaced(r.index));
    this.lastRange = this.ranges.length > 0 ? this.ranges[this.ranges.length - 1]!.index : this.rangesDropped ? this.lastRange : undefined;
    const t = this.table;
    for (let s = 0; s < t.length; s += STRIDE) {
      if ((t[s] !== 0 || t[s + 1] !== 0) && replaced(t[s + 5]!)) t[s + 2] = t[s + 2]! | F_AMBIGUOUS | WRITES_MASK;
    }
  }

  /** An alarm request: NOSPACE (1) and CORRUPT (2) raised make later writes uncertain until cleared. */
  private onAlarm(a: ProtoObject): void {
    const type = Number(a['alarm'] ?? 0);
    if (type !== 1 && type !== 2) return;
    const key = `${String(a['memberId'] ?? 0)} ${type}`;
    const action = Number(a['action'] ?? 0);
    if (action === 1) this.raised.add(key);
    else if (action === 2) this.raised.delete(key);
  }

  /** A txn: with no compare its success branch always runs; otherwise either branch may have. */
  private txn(txn: ProtoObject, index: bigint, certain = true): void {
    const noCompare = !Array.isArray(txn['compare']) || (txn['compare'] as unknown[]).length === 0;
    for (const branch of BRANCHES) {
      const ops = txn[branch];
      if (!Array.isArray(ops)) continue;
      if (noCompare && branch === 'failure') continue;
      // a put on a lease that does not exist, or ignoring the value or lease of a key that does not,
      // fails the whole txn at apply: any such put makes the branch uncertain
      const sure = certain && noCompare && !(ops as ProtoObject[]).some((op) => mayFail(op['requestPut'] as ProtoObject | undefined));
      for (const op of ops as ProtoObject[]) {
        const put = op['requestPut'] as ProtoObject | undefined;
        const del = op['requestDeleteRange'] as ProtoObject | undefined;
        const nested = op['requestTxn'] as ProtoObject | undefined;
        if (put) {
          const key = bytesOf(put['key']);
          this.putSeen(key, put['ignoreValue'] === true ? undefined : bytesOf(put['value']));
          if (sure && put['ignoreValue'] !== true && put['ignoreLease'] !== true) this.set(key, bytesOf(put['value']), hasLease(put), index);
          else {
            this.maybe(key, put['ignoreValue'] === true ? undefined : bytesOf(put['value']), index);
            if (hasLease(put)) this.maybe(key, undefined, index);
          }
        } else if (del) {
          if (bytesOf(del['rangeEnd']).length > 0) this.rangeDelete(del, index);
          else if (sure) this.set(bytesOf(del['key']), undefined, false, index);
          else this.maybe(bytesOf(del['key']), undefined, index);
        } else if (nested) this.txn(nested, index, sure);
      }
    }
  }

  /** A range delete (certain or not: either way the keys it covers may be gone after it). */
  private rangeDelete(del: ProtoObject, index: bigint): void {
    const at = Number(index & 0xffff_ffffn);
    this.lastRange = at;
    if (this.ranges.length >= MAX_RANGES) {
      this.rangesDropped = true;
      return;
    }
    this.ranges.push({ index: at, start: bytesOf(del['key']).slice(), end: bytesOf(del['rangeEnd']).slice() });
  }

  /**
   * A `key` bucket item of the db, in revision order, after the whole log: the last one seen for a
   * key is its latest, and says whether the db holds one of the values the log left for it.
   */
  onDbItem(revisionKey: Uint8Array, kv: Uint8Array): void {
    if (!kvKey(kv)) return;
    const s = this.slotOf(kvField.key, false);
    if (s < 0) return;
    const t = this.table;
    const tombstone = revisionKey.length > 17 && revisionKey[17] === 0x74;
    const flags = t[s + 2]!;
    const keep = flags & ~DB_FLAGS;
    const logged = this.logRevisionSeen && this.complete && this.lastIndex >= this.consistentIndex ? DB_AFTER_LOG_START : 0;
    if (tombstone) t[s + 2] = keep | DB_SEEN | DB_ABSENT | logged | (this.explains(kvField.key, s) ? DB_COVERED : 0);
    else {
      const v = valueHash(kvField.value);
      const count = (flags & COUNT_MASK) >>> COUNT_SHIFT;
      let match = 0;
      for (let c = 0; c < count; c++) if (t[s + 3 + c] === v) match = DB_MATCH;
      let atGuard = 0;
      if (flags & F_GUARDED && revisionKey.length >= 8) {
        const main = revisionMain(revisionKey);
        if (main === t[s + 4] && main !== 0) {
          atGuard = DB_AT_GUARD;
          if (logged) t[s + 2] = t[s + 2]! | DB_GUARD_LOGGED;
        }
        if (match && !this.logRevisionSeen && !(flags & (F_ABSENT | F_AMBIGUOUS)) && main > t[s + 4]!) {
          if (this.witness === undefined) this.witness = { slot: s, main };
          else if (this.witness.slot !== s && this.witness.main !== main) this.logRevisionSeen = true;
        }
      }
      const bits = bloomBits(v);
      const unlogged = (t[s + 6]! & bits) >>> 0 !== bits ? DB_UNLOGGED_VALUE : 0;
      t[s + 2] = (t[s + 2]! & ~DB_FLAGS) | DB_SEEN | match | atGuard | logged | unlogged;
    }
  }

  /** Whether a kept range delete after the log's last certain write to the key covers it. */
  private explains(key: Uint8Array, s: number): boolean {
    const flags = this.table[s + 2]!;
    if (!(flags & F_BASE) || flags & F_ABSENT || this.lastRange === undefined) return false;
    const last = this.table[s + 5]!;
    if (!after(this.lastRange, last)) return false;
    return this.ranges.some((r) => after(r.index, last) && covers(r, key));
  }

  /**
   * Compare, once both sides were read. An absent key a later range delete may explain is left
   * pending (`pending`): the names walk settles it.
   */
  result(): LedgerResult {
    const out: LedgerResult = { keys: this.size, checked: 0, ambiguous: 0, truncated: this.full, skipped: undefined, mismatches: 0, first: [], mismatchSlots: [], pending: 0 };
    if (this.overwritten) {
      out.skipped = { code: 'overwritten' };
      return out;
    }
    const t = this.table;
    const decided = (s: number, ok: boolean) => {
      out.checked++;
      if (!ok) {
        out.mismatches++;
        if (out.mismatchSlots.length < 20) out.mismatchSlots.push(s);
      }
    };
    for (let s = 0; s < t.length; s += STRIDE) {
      if (t[s] === 0 && t[s + 1] === 0) continue;
      const flags = t[s + 2]!;
      // The db's latest put of the key was written by the log, with a value the log never put to it.
      if ((flags & (DB_AFTER_LOG_START | DB_UNLOGGED_VALUE | DB_ABSENT)) === (DB_AFTER_LOG_START | DB_UNLOGGED_VALUE)) {
        decided(s, false);
        continue;
      }
      if (flags & F_AMBIGUOUS) {
        out.ambiguous++;
        continue;
      }
      if (flags & F_GUARDED) {
        const ok = this.guardHeld(flags, t[s + 4]!, t[s + 5]!);
        if (ok === undefined) out.ambiguous++;
        else decided(s, ok);
        continue;
      }
      let ok: boolean;
      if (!(flags & DB_SEEN) || flags & DB_ABSENT) {
        ok = (flags & (F_ABSENT | DB_COVERED)) !== 0;
        if (!ok && this.lastRange !== undefined && after(this.lastRange, t[s + 5]!)) {
          if (this.rangesDropped) {
            out.ambiguous++; // a range delete not kept may explain it
            continue;
          }
          if (!(flags & DB_SEEN)) {
            // no tombstone left to name it (compacted away): the names walk decides
            t[s + 2] = flags | F_PENDING;
            out.pending++;
            out.checked++;
            continue;
          }
        }
      } else ok = (flags & DB_MATCH) !== 0;
      decided(s, ok);
    }
    return out;
  }

  /** A guarded txn against the db (see `guarded`): agrees, the db lost its write, or undecided. */
  private guardHeld(flags: number, mod: number, index: number): boolean | undefined {
    if (flags & DB_SEEN && !(flags & DB_ABSENT)) {
      if (flags & DB_MATCH) return true;
      if (flags & DB_AT_GUARD) return false;
      // The db's latest put of the key was written by the log: the log's only write to it is this
      // txn, so the txn ran and wrote another value. Or the put at the revision the compare required
      // was written by the log, and the log's only other write to the key is the one before this
      // txn: that was the put, nothing wrote the key between, so the compare held, the txn ran, and
      // the db holds another value.
      const writes = (flags & WRITES_MASK) >>> WRITES_SHIFT;
      if (writes === 1 && flags & DB_AFTER_LOG_START) return false;
      if (writes === 2 && flags & DB_GUARD_LOGGED) return false;
      return undefined;
    }
    // Gone without a tombstone: a compaction after the delete that left one took it.
    const tombstone = (flags & DB_SEEN) !== 0;
    const laterDelete = (at: number | undefined) => at !== undefined && after(at, index);
    // A delete, and the key is gone. Without a tombstone and a compaction after the delete, it did
    // not run: its compare failed on a key that was not there (or a compare on 0 held, and it
    // deleted nothing), or the db lost the key. Undecided.
    if (flags & F_ABSENT) return tombstone || laterDelete(this.lastCompaction) ? true : undefined;
    // a create (with no lease: a revoke cannot delete what it wrote, only what was there if it
    // failed) the db does not hold: lost, unless a range delete or a lease revoke came after it,
    // and, when no tombstone is left, a compaction after that
    const explained = tombstone ? laterDelete(latest(this.lastRange, this.lastRevoke)) : laterDelete(this.deleteBeforeCompaction);
    return mod === 0 && !explained ? false : undefined;
  }

  private mismatchOf(s: number, key: Uint8Array): Mismatch {
    const db = this.table[s + 2]!;
    return { key: Buffer.from(key).toString('utf8'), index: this.table[s + 5]!, db: db & DB_ABSENT || !(db & DB_SEEN) ? 'absent' : 'other-value' };
  }

  /** Whether the names walk is needed: keys pending, or mismatches the db could not name. */
  needsNaming(r: LedgerResult): boolean {
    return r.pending > 0 || r.first.length < r.mismatchSlots.length;
  }

  /** Make `onEntry` settle pending keys and name the unnamed: feed it the log again, then `settle`. */
  beginNaming(r: LedgerResult): void {
    this.naming = { wanted: new Set(r.mismatchSlots.filter((s) => !this.names.has(s))), slots: [...r.mismatchSlots] };
  }

  /** A key the names walk met at `index`: settle it if pending, name it if wanted. */
  private nameKey(key: Uint8Array): void {
    const { wanted, slots } = this.naming!;
    const s = this.slotOf(key, false);
    if (s < 0) return;
    const t = this.table;
    const flags = t[s + 2]!;
    if (flags & F_PENDING) {
      const explained = this.explains(key, s);
      t[s + 2] = (flags & ~F_PENDING) | (explained ? F_ABSENT : F_UNEXPLAINED);
      if (!explained && slots.length < 20) {
        slots.push(s);
        wanted.add(s);
      }
    }
    if (wanted.has(s) && !this.names.has(s)) this.names.set(s, this.mismatchOf(s, key));
  }

  /** Every key a request writes (not the ranges: those are no slot's). */
  private nameKeys(req: ProtoObject): void {
    const put = req['put'] as ProtoObject | undefined;
    if (put) return this.nameKey(bytesOf(put['key']));
    const del = req['deleteRange'] as ProtoObject | undefined;
    if (del) {
      if (bytesOf(del['rangeEnd']).length === 0) this.nameKey(bytesOf(del['key']));
      return;
    }
    const txn = req['txn'] as ProtoObject | undefined;
    if (txn) this.nameTxnKeys(txn);
  }

  private nameTxnKeys(txn: ProtoObject): void {
    for (const branch of BRANCHES) {
      const ops = txn[branch];
      if (!Array.isArray(ops)) continue;
      for (const op of ops as ProtoObject[]) {
        const put = op['requestPut'] as ProtoObject | undefined;
        const del = op['requestDeleteRange'] as ProtoObject | undefined;
        const nested = op['requestTxn'] as ProtoObject | undefined;
        if (put) this.nameKey(bytesOf(put['key']));
        else if (del && bytesOf(del['rangeEnd']).length === 0) this.nameKey(bytesOf(del['key']));
        else if (nested) this.nameTxnKeys(nested);
      }
    }
  }

  /** After the names walk: what stayed unexplained is a mismatch; `first` lists the named ones. */
  settle(r: LedgerResult): void {
    const naming = this.naming;
    if (!naming) return;
    this.naming = undefined;
    const t = this.table;
    for (let s = 0; s < t.length; s += STRIDE) {
      const flags = t[s + 2]!;
      if (!(flags & (F_PENDING | F_UNEXPLAINED))) continue;
      // a pending key the walk did not meet again stays unexplained
      if (flags & F_PENDING) {
        t[s + 2] = (flags & ~F_PENDING) | F_UNEXPLAINED;
        if (naming.slots.length < 20) naming.slots.push(s);
      }
      r.mismatches++;
    }
    r.pending = 0;
    r.mismatchSlots = naming.slots;
    r.first = [];
    for (const s of r.mismatchSlots) {
      const m = this.names.get(s);
      if (m) r.first.push(m);
    }
  }


  /** The names of mismatching keys: a second pass over the db's `key` bucket items. */
  nameMismatches(r: LedgerResult, items: Iterable<{ key: Uint8Array; value: Uint8Array }>): void {
    const want = new Set(r.mismatchSlots);
    for (const it of items) {
      if (!kvKey(it.value)) continue;
      const s = this.slotOf(kvField.key, false);
      if (s < 0 || !want.has(s) || this.names.has(s)) continue;
      this.names.set(s, this.mismatchOf(s, kvField.key));
    }
    r.first = [];
    for (const s of r.mismatchSlots) {
      const m = this.names.get(s);
      if (m) r.first.push(m);
    }
  }

}

/** The key/value pairs a request puts: a Put, or the Puts of a txn's two branches (copied: the request's bytes are reused). */
function putsOf(req: ProtoObject): { key: Uint8Array; value: Uint8Array }[] {
  const out: { key: Uint8Array; value: Uint8Array }[] = [];
  const add = (put: ProtoObject | undefined) => {
    if (put && put['ignoreValue'] !== true) out.push({ key: bytesOf(put['key']).slice(), value: bytesOf(put['value']).slice() });
  };
  add(req['put'] as ProtoObject | undefined);
  const txn = req['txn'] as ProtoObject | undefined;
  for (const branch of BRANCHES) for (const op of (txn?.[branch] as ProtoObject[] | undefined) ?? []) add(op['requestPut'] as ProtoObject | undefined);
  return out;
}

/**
 * Whether the db's newest revision (`kv`, an mvccpb.KeyValue) is a put the entry right above the
 * consistent index makes: the db then holds a write etcd will apply again at boot. A power cut
 * left that: the root leaf of an older transaction (a freed page still holding it) under the
 * newer keys, the index one entry behind them; 3.5 applied the write again and served the key at a
 * revision and version nobody wrote.
 */
export function newestIsNext(nextPuts: readonly { key: Uint8Array; value: Uint8Array }[] | undefined, kv: Uint8Array): boolean {
  if (!nextPuts?.length || !kvKey(kv)) return false;
  return nextPuts.some((p) => Buffer.compare(p.key, kvField.key) === 0 && Buffer.compare(p.value, kvField.value) === 0);
}

function mayFail(put: ProtoObject | undefined): boolean {
  return put !== undefined && (hasLease(put) || put['ignoreValue'] === true || put['ignoreLease'] === true);
}

function hasLease(put: ProtoObject): boolean {
  const l = put['lease'];
  return l !== undefined && l !== 0n && l !== 0 && l !== '0';
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return new Uint8Array(0);
}

const kvReader = new WireReader(new Uint8Array(0));
const EMPTY: Uint8Array = new Uint8Array(0);
/** What the last kvKey that answered true found (one per db item: no object per item). */
const kvField: { key: Uint8Array; value: Uint8Array } = { key: EMPTY, value: EMPTY };

/** mvccpb.KeyValue's key (field 1) and value (field 5), with the shared wire reader, into kvField. */
function kvKey(kv: Uint8Array): boolean {
  const r = kvReader.reset(kv, 'mvccpb.KeyValue');
  let key: Uint8Array | undefined;
  let value = EMPTY;
  try {
    while (r.pos < r.end) {
      const field = r.tag();
      if (r.wireType === 2 && field === 1) key = r.bytes();
      else if (r.wireType === 2 && field === 5) value = r.bytes();
      else r.skipField();
    }
  } catch (e) {
    if (e instanceof WireFailure) return false;
    throw e;
  }
  if (!key) return false;
  kvField.key = key;
  kvField.value = value;
  return true;
}
