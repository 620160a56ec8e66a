/**
 * From the analysis to a repair plan: pure (it reads what it needs through the analysis and the
 * facts), serialisable, and complete before anything is written (pg_resetwal -n is the model:
 * `--dry-run` prints exactly this). Every byte that goes and every entry that is dropped is named
 * here; `apply.ts` only carries it out.
 *
 * A repair loses only the bytes actually destroyed:
 *  - a torn or garbage tail is cut where etcd's own Repair cuts it (nothing there was acknowledged);
 *  - valid records after damage in the middle of the log are kept: the destroyed bytes are replaced
 *    by empty entries at the indexes they held — only when the db already applied those indexes
 *    (`--bridge`: the writes survive in the db) — and every later record is re-chained;
 *  - a zeroed length word is written back when the record behind it is intact;
 *  - an entry etcd cannot apply becomes an empty entry at the same index and term;
 *  - where a destroyed entry was never applied, nothing after it can follow it (the later writes
 *    would get other revisions): the log is cut there and the lost writes are listed (and written
 *    to the backup as NDJSON for the operator to replay) — `--allow-entry-loss`.
 * Synthesised entries are only ever written on a single member: another member holds the real ones.
 */
import { relative } from 'node:path';
import type { Analysis } from '../inspect/analyze.js';
import type { Hazard } from '../inspect/predict.js';
import { failureText } from '../inspect/etcd-texts.js';
import { hex16 } from '../format/wal/names.js';
import type { RepairFacts } from './facts.js';
import { describeTail, hiddenRecordAt } from './log-tail.js';
import { MAX_BRIDGE_ENTRIES } from './records.js';

export interface RepairOptions {
  allowEntryLoss: boolean;
  bridge: boolean;
  /** Only repairs that lose nothing etcd acknowledged (for ExecStartPre / init containers). */
  auto: boolean;
}

/** Records a repair appends at the new end of the log (uint64s as decimal strings). */
export interface AppendSpec {
  entries: { firstIndex: string; lastIndex: string; term: string } | null;
  hardState: { term: string; vote: string; commit: string };
}

/** Where the first damage is and how the segment ends there (the report's `ending`). */
export interface Damage {
  offset: number;
  ending: string;
}

/** Entries a cut drops: `range` null when none of the dropped records was an entry. */
export interface DroppedEntries {
  entries: number;
  range: { first: string; last: string } | null;
  records: number;
}

/** Bad entries above the db's consistent index (null: no db index): never applied, their content unusable. */
export interface UnappliedEntries {
  indexes: string[];
  dbConsistentIndex: string | null;
}

/**
 * Why an action is in the plan, keyed by `code` (uint64s as decimal strings); the words are made
 * by cli/render/plan.ts.
 */
export type ActionWhy =
  | { code: 'leftover-temp' }
  | { code: 'hidden-records'; records: number; firstIndex: string | null; lastIndex: string | null; recBytes: number; padBytes: number }
  /** The records after the damage are kept; `fill`: the indexes it destroyed, as empty entries (the db applied up to `dbConsistentIndex`). */
  | { code: 'keep-after-damage'; damage: Damage; records: number; from: number | null; to: number | null; fill: { first: string; last: string; term: string; dbConsistentIndex: string } | null }
  | { code: 'rechain-after-damage' }
  | { code: 'damaged-segment'; damage: Damage }
  | { code: 'cut-at-damage'; damage: Damage }
  /** Records a zero length word hides that nothing brings back, cut from the log under --allow-entry-loss. */
  | { code: 'hidden-given-up'; offset: number; records: number; firstIndex: string | null; lastIndex: string | null }
  | { code: 'after-damage'; damagedSegment: string }
  | { code: 'unappliable-entries'; etcdVersion: string; entries: { index: string; problem: string }[] }
  | { code: 'more-unappliable-entries'; etcdVersion: string; entries: number }
  | { code: 'rechain-after-substitute' }
  | { code: 'broken-snap'; problem: string }
  /** `etcdError`: what etcd says when it fails on the db (null: no failure predicted, the db is damaged). */
  | { code: 'db-unusable'; etcdError: string | null }
  | { code: 'snap-without-db' }
  | { code: 'snap-newer-than-db'; index: string; dbConsistentIndex: string }
  | { code: 'empty-segment' }
  | { code: 'bridge-to-db'; dbConsistentIndex: string; term: string }
  | { code: 'commit-past-log'; commit: string; lastIndex: string }
  | { code: 'sequence-gap'; seq: string; after: string }
  | { code: 'starts-at'; index: string };

/** Why the plan must not be applied as asked, keyed by `code`; the words are made by cli/render/plan.ts. */
export type RefusalWhy =
  | { code: 'not-a-data-dir'; path: string; layoutKind: string }
  | { code: 'etcd-running' }
  | { code: 'no-wal' }
  | { code: 'two-histories'; mismatches: number }
  /** The records after the damage go back to `keptFrom`, at or below `lastBefore`: another writer's. */
  | { code: 'rewinds'; keptFrom: string; lastBefore: string }
  | { code: 'first-segment-destroyed' }
  | { code: 'entry-loss'; lost: DroppedEntries; committed: boolean }
  | ({ code: 'replace-unapplied' } & UnappliedEntries)
  | { code: 'replace-on-cluster'; members: number }
  | { code: 'snap-newer-than-db' }
  /** The repaired log would end below the db's consistent index (and --bridge was not asked). */
  | { code: 'db-ahead'; lastIndex: string; dbConsistentIndex: string; members: number }
  | { code: 'bridge-too-long'; lastIndex: string; dbConsistentIndex: string; maxEntries: string }
  /** `members`: IDs as 16-digit hex. */
  | { code: 'bridge-on-cluster'; members: string[]; memberSources: string[] }
  | { code: 'still-fails'; etcdVersion: string; etcdError: string }
  | { code: 'hidden-unrecoverable'; entries: number; first: string | null; last: string | null }
  | { code: 'db-unusable-no-replay'; etcdVersion: string }
  | { code: 'never-serves'; etcdVersion: string; stall: string }
  | { code: 'auto-lossy' }
  | { code: 'auto-bridge' };

/** What the operator should know about a plan that can be applied, keyed by `code`; words in cli/render/plan.ts. */
export type PlanWarning =
  | { code: 'hidden-record-damaged'; segment: string; offset: number }
  | { code: 'destroyed-bridged'; first: string; last: string; dbConsistentIndex: string }
  | { code: 'destroyed-unapplied'; first: string; last: string; dbConsistentIndex: string | null }
  | { code: 'no-fill-on-cluster'; first: string; last: string; members: number }
  | { code: 'bridge-would-keep'; records: number; first: string; last: string }
  | { code: 'dropping-entries'; lost: DroppedEntries }
  | ({ code: 'replacing-unapplied' } & UnappliedEntries)
  | { code: 'replay-from-first-segment' }
  | { code: 'bridged-to-db'; first: string; dbConsistentIndex: string }
  | { code: 'lowered-commit'; from: string; to: string };

export type RepairAction =
  | {
      kind: 'truncate-segment';
      file: string;
      /** Bytes kept: everything up to the end of the last good record. */
      keepBytes: number;
      originalSize: number;
      /** The file keeps this size, zeros after keepBytes: a clean end etcd appends to. */
      zeroFillTo: number;
      why: ActionWhy;
    }
  | { kind: 'set-aside'; file: string; why: ActionWhy }
  | ({
      kind: 'append-records';
      file: string;
      atOffset: number;
      /** Running CRC at atOffset: the chain the new records continue. */
      crc: number;
      why: ActionWhy;
    } & AppendSpec)
  | {
      kind: 'rewrite-segment';
      file: string;
      /** Bytes before this offset stay as they are. */
      from: number;
      /** The running CRC at `from`. */
      crcIn: number;
      /** The CRC the analysis read this segment with (finding the same records again needs the same). */
      scanCrc: number;
      /** Destroyed bytes [from, resumeAt) give way to empty entries `fill` (null: none were entries). */
      resumeAt: number;
      fill: { first: string; last: string; term: string } | null;
      /** Records in [resumeAt, keepTo) are kept (re-chained), but those at `substitute` offsets become empty entries. */
      keepTo: number;
      keepRecords: number;
      substitute: { offset: number; index: string; term: string }[];
      /** Appended after the kept records when this is the log's last segment. */
      append: AppendSpec | null;
      /** The file's size afterwards (zero-filled after the last record, as preallocated). */
      size: number;
      why: ActionWhy;
    }
  | { kind: 'rechain-segment'; file: string; records: number; append: AppendSpec | null; size: number; why: ActionWhy }
  | { kind: 'restore-length-word'; file: string; offset: number; recBytes: number; padBytes: number; why: ActionWhy }
  /** After the ones before it are kept, a segment takes the next sequence number (and the index of its first entry). */
  | { kind: 'rename-segment'; file: string; to: string; why: ActionWhy };

export interface RepairPlan {
  /** /3: reasons, refusals and warnings are typed values (their words: cli/render/plan.ts); /2 held the sentences. */
  format: 'wal-doctor-repair-plan/3';
  dataDir: string;
  /** Nothing to do: the dir is healthy (a second repair is a no-op). */
  noop: boolean;
  actions: RepairAction[];
  dropped: {
    records: number;
    entries: number;
    firstIndex: string | null;
    lastIndex: string | null;
    keys: string[];
    keysTotal: number;
  };
  /** Entries replaced by empty ones whose writes the db already holds (`--bridge`). */
  bridged: { entries: number; firstIndex: string | null; lastIndex: string | null };
  /** True when nothing etcd had acknowledged as committed is lost. */
  lossless: boolean;
  /** Set when the plan must not be applied as asked: every reason found, in order; `exitCode` 2 when any reason is a 2. */
  refusal: { reasons: RefusalWhy[]; exitCode: 1 | 2 } | null;
  /** The log after the repair: what etcd will restart from. */
  after: { lastIndex: string | null; commit: string | null; term: string | null };
  warnings: PlanWarning[];
  /** Alarms etcd keeps raised once started (NOSPACE, CORRUPT): no change to the files clears them. */
  alarms: string[];
}

const s = (x: bigint | undefined | null) => (x === undefined || x === null ? null : `${x}`);

export function planRepair(a: Analysis, facts: RepairFacts, opts: RepairOptions): RepairPlan {
  const { layout, wal, report } = a;
  const rel = (abs: string) => relative(layout.root, abs);
  const actions: RepairAction[] = [];
  const warnings: PlanWarning[] = [];
  const plan: RepairPlan = {
    format: 'wal-doctor-repair-plan/3',
    dataDir: layout.root,
    noop: false,
    actions,
    dropped: { records: 0, entries: 0, firstIndex: null, lastIndex: null, keys: [], keysTotal: 0 },
    bridged: { entries: 0, firstIndex: null, lastIndex: null },
    lossless: true,
    refusal: null,
    after: { lastIndex: null, commit: null, term: null },
    warnings,
    alarms: [...new Set(report.findings.flatMap((f) => (f.code === 'alarm-raised' && f.alarm !== 'unreadable' ? [f.alarm] : [])))],
  };
  // Every reason not to apply is collected, so one dry run tells the operator all the flags it needs.
  const refuse = (reason: RefusalWhy, exitCode: 1 | 2 = 2) => {
    plan.refusal = plan.refusal
      ? { reasons: [...plan.refusal.reasons, reason], exitCode: plan.refusal.exitCode === 2 || exitCode === 2 ? 2 : 1 }
      : { reasons: [reason], exitCode };
  };
  if (layout.kind !== 'data-dir' && layout.kind !== 'member-dir') {
    refuse({ code: 'not-a-data-dir', path: layout.root, layoutKind: layout.kind }, 2);
    return plan;
  }
  if (a.verdict.status === 'in-use') {
    refuse({ code: 'etcd-running' }, 2);
    return plan;
  }
  if (!wal) {
    refuse({ code: 'no-wal' }, 2);
    return plan;
  }
  if (a.verdict.reason.code === 'two-histories') {
    refuse({ code: 'two-histories', mismatches: a.verdict.reason.mismatches }, 2);
    return plan;
  }

  const single = facts.members.length <= 1;
  const dbCi = report.db?.consistentIndex ? BigInt(report.db.consistentIndex) : undefined;
  const decider = a.predictions.find((e) => e.version === report.verdict.etcdVersion);
  const segs = wal.segments;

  // 1. Leftovers of interrupted operations: moved to the backup (etcd ignores or deletes them,
  //    but a stale 0.tmp can carry old bytes into a future segment).
  for (const f of layout.files) {
    if (f.role === 'wal-tmp' || f.role === 'wal-tmp-dir' || f.role === 'db-tmp' || f.role === 'snap-tmp') {
      actions.push({ kind: 'set-aside', file: f.path, why: { code: 'leftover-temp' } });
    }
  }

  // 2. The log. `end` is where the repaired log ends (for what is appended there), unless a
  //    rewrite carries the append itself.
  let lastIndex: bigint | undefined = lastEntryIndexUpTo(a, segs.length - 1);
  let lastTerm: bigint = lastEntryTermUpTo(a, segs.length - 1);
  let end: { seg: number; offset: number; crc: number } | undefined;
  let rewriteEnd: RepairAction | undefined;
  let keptCommit: bigint | undefined;
  const cut = facts.cut;

  // 2a. A zeroed length word hiding intact records: write the word back.
  const hiddenAt = segs.findIndex((x) => x.end.kind === 'zero-length' && x.end.nonZeroAfter !== undefined && x.salvage.chained > 0);
  let recovered = false;
  if (hiddenAt >= 0 && (!cut || cut.segmentIndex >= hiddenAt)) {
    const seg = segs[hiddenAt]!;
    const word = hiddenRecordAt(seg.path, seg.crcIn, seg.end.offset);
    if (word) {
      actions.push({ kind: 'restore-length-word', file: rel(seg.path), offset: seg.end.offset, recBytes: word.recBytes, padBytes: word.padBytes, why: { code: 'hidden-records', records: seg.salvage.records, firstIndex: s(seg.salvage.firstIndex), lastIndex: s(seg.salvage.lastIndex), recBytes: word.recBytes, padBytes: word.padBytes } });
      recovered = true;
      if (seg.salvage.lastIndex !== undefined) lastIndex = seg.salvage.lastIndex;
    } else {
      warnings.push({ code: 'hidden-record-damaged', segment: seg.name, offset: seg.end.offset });
    }
  }

  // Hidden records no length word brings back (the record behind the word destroyed, or a chain
  // that cannot be checked): left where they are, and the dir refused; a rebuild keeps them in its
  // unapplied file. Never a plan that looks done while etcd still starts without them.
  // (Or, where etcd fails on its db, records the log would stop before once the db is set aside.)
  const asideHidden = a.verdict.reason.code === 'records-hidden' && a.verdict.reason.afterSetAside !== undefined ? a.verdict.reason.hazard : undefined;
  const hiddenLeft = decider?.hazards.find((h): h is Extract<Hazard, { code: 'records-hidden' }> => h.code === 'records-hidden') ?? asideHidden;
  if (hiddenLeft && !recovered) {
    plan.lossless = false;
    if (!opts.allowEntryLoss) refuse({ code: 'hidden-unrecoverable', entries: hiddenLeft.entries, first: s(hiddenLeft.first), last: s(hiddenLeft.last) }, 2);
    else {
      warnings.push({ code: 'dropping-entries', lost: droppedEntries(hiddenLeft.entries, hiddenLeft.first, hiddenLeft.last, hiddenLeft.records) });
      // The loss accepted, the hidden bytes leave the log (the segment as it was goes to the
      // backup): the word is then the log's true end, for etcd and for every later check.
      const seg = segs.find((x) => x.name === hiddenLeft.segment);
      if (seg && !cut) {
        actions.push({ kind: 'truncate-segment', file: rel(seg.path), keepBytes: hiddenLeft.offset, originalSize: seg.size, zeroFillTo: Math.max(seg.size, hiddenLeft.offset + 8), why: { code: 'hidden-given-up', offset: hiddenLeft.offset, records: hiddenLeft.records, firstIndex: s(hiddenLeft.first), lastIndex: s(hiddenLeft.last) } });
      }
    }
  }

  // 2b. The first damage.
  if (cut && !recovered) {
    const seg = segs[cut.segmentIndex]!;
    const tail = describeTail(wal, cut.segmentIndex);
    lastIndex = cut.lastIndex;
    lastTerm = lastEntryTermUpTo(a, cut.segmentIndex);
    const missing = tail.missing;
    const missingApplied = missing === undefined || (dbCi !== undefined && missing.last <= dbCi);
    const anythingAfter = tail.run !== undefined || tail.later.some((l) => l.entries > 0 || l.clean);
    const damage: Damage = { offset: cut.offset, ending: report.wal?.segments[cut.segmentIndex]?.ending ?? seg.end.kind };
    if (anythingAfter && tail.keepable && missingApplied && (missing === undefined || (opts.bridge && single))) {
      // Keep everything after the damage: only the destroyed bytes go.
      const fillTerm = tail.before?.term ?? tail.run?.firstTerm ?? lastTerm;
      const lastLater = tail.later[tail.later.length - 1];
      const rw: RepairAction = {
        kind: 'rewrite-segment',
        file: rel(seg.path),
        from: cut.offset,
        // At byte 0 (a broken link into this segment) the chain is the previous segment's.
        crcIn: cut.offset === 0 ? seg.crcIn : seg.crcOut,
        scanCrc: seg.crcIn,
        resumeAt: tail.run?.from ?? seg.size,
        fill: missing ? { first: `${missing.first}`, last: `${missing.last}`, term: `${fillTerm}` } : null,
        keepTo: tail.run?.to ?? seg.size,
        keepRecords: tail.run?.records ?? 0,
        substitute: [],
        append: null,
        size: seg.size,
        why: {
          code: 'keep-after-damage',
          damage,
          records: tail.run?.records ?? 0,
          from: tail.run?.from ?? null,
          to: tail.run?.to ?? null,
          fill: missing ? { first: `${missing.first}`, last: `${missing.last}`, term: `${fillTerm}`, dbConsistentIndex: `${dbCi}` } : null,
        },
      };
      actions.push(rw);
      rewriteEnd = rw;
      for (const l of tail.later) {
        const r: RepairAction = { kind: 'rechain-segment', file: rel(segs[l.segmentIndex]!.path), records: -1, append: null, size: segs[l.segmentIndex]!.size, why: { code: 'rechain-after-damage' } };
        actions.push(r);
        rewriteEnd = r;
      }
      renameToCloseGaps(a, cut.segmentIndex, missing?.first, actions, rel);
      if (missing) {
        plan.bridged = { entries: Number(missing.last - missing.first + 1n), firstIndex: `${missing.first}`, lastIndex: `${missing.last}` };
        warnings.push({ code: 'destroyed-bridged', first: `${missing.first}`, last: `${missing.last}`, dbConsistentIndex: `${dbCi}` });
      }
      keptCommit = tail.run?.maxCommit;
      const tailLast = lastLater?.lastIndex ?? tail.run?.lastIndex;
      if (tailLast !== undefined) lastIndex = tailLast;
      lastTerm = lastEntryTermUpTo(a, segs.length - 1);
    } else {
      // Cut at the damage: the records after it cannot be kept.
      if (tail.rewinds) {
        refuse({ code: 'rewinds', keptFrom: `${tail.run?.firstIndex ?? tail.later.find((l) => l.firstIndex !== undefined)?.firstIndex}`, lastBefore: `${tail.before?.index}` }, 2);
      }
      if (anythingAfter && tail.keepable && missing !== undefined && !missingApplied) {
        warnings.push({ code: 'destroyed-unapplied', first: `${missing.first}`, last: `${missing.last}`, dbConsistentIndex: s(dbCi) });
      } else if (anythingAfter && tail.keepable && missing !== undefined && !single) {
        warnings.push({ code: 'no-fill-on-cluster', first: `${missing.first}`, last: `${missing.last}`, members: facts.members.length });
      } else if (anythingAfter && tail.keepable && missing !== undefined && !opts.bridge) {
        warnings.push({ code: 'bridge-would-keep', records: tail.run?.records ?? 0, first: `${missing.first}`, last: `${missing.last}` });
      }
      if (cut.offset === 0) {
        // Nothing good in it, not even the crc record that carries the chain: the segment goes.
        const prev = segs[cut.segmentIndex - 1];
        if (!prev) {
          refuse({ code: 'first-segment-destroyed' }, 2);
          return plan;
        }
        actions.push({ kind: 'set-aside', file: rel(seg.path), why: { code: 'damaged-segment', damage } });
        end = { seg: cut.segmentIndex - 1, offset: prev.end.offset, crc: prev.crcOut };
      } else {
        actions.push({ kind: 'truncate-segment', file: rel(seg.path), keepBytes: cut.offset, originalSize: seg.size, zeroFillTo: Math.max(seg.size, cut.offset + 8), why: { code: 'cut-at-damage', damage } });
        end = { seg: cut.segmentIndex, offset: cut.offset, crc: seg.crcOut };
      }
      for (const later of segs.slice(cut.segmentIndex + 1)) {
        actions.push({ kind: 'set-aside', file: rel(later.path), why: { code: 'after-damage', damagedSegment: seg.name } });
      }
      const d = facts.dropped;
      plan.dropped = { records: d.records, entries: d.entries, firstIndex: s(d.firstIndex), lastIndex: s(d.lastIndex), keys: d.keys, keysTotal: d.keysTotal };
      const ackCommit = wal.maxCommitSeen;
      const keptCommit = lastHardStateBefore(a, cut.segmentIndex)?.commit ?? 0n;
      const lostCommitted = d.entries > 0 && d.firstIndex !== undefined && d.firstIndex <= (ackCommit > keptCommit ? ackCommit : keptCommit);
      const lostAny = d.entries > 0 || cut.segmentIndex !== segs.length - 1;
      if (lostAny) {
        plan.lossless = !lostCommitted;
        const lost = droppedEntries(d.entries, d.firstIndex, d.lastIndex, d.records);
        if (!opts.allowEntryLoss) refuse({ code: 'entry-loss', lost, committed: lostCommitted }, 1);
        else warnings.push({ code: 'dropping-entries', lost });
      }
    }
  }

  // 2b'. No damage, but names that do not fit the log: a sequence gap, or a segment whose entries
  //      begin below the index its name gives while running on from the segment before (what a
  //      repair killed between re-chaining a segment and renaming it leaves). Renamed as that
  //      repair would have.
  if (!cut && !recovered) renameToCloseGaps(a, 0, undefined, actions, rel, true);

  // 2c. Entries etcd cannot apply: each becomes an empty entry at its index and term.
  const applyFail = decider?.failure?.code === 'apply-fails' ? decider.failure : undefined;
  if (applyFail && !actions.some((x) => x.kind === 'rewrite-segment' || x.kind === 'truncate-segment')) {
    const v = decider!.version;
    const bad = wal.badEntries.filter((b) => b.problems[v] !== undefined);
    const firstSeg = bad[0]!.segment;
    const seg = segs[firstSeg]!;
    const inSeg = bad.filter((b) => b.segment === firstSeg);
    const term = (idx: bigint) => facts.entryTerms.get(idx) ?? lastTerm;
    const rw: RepairAction = {
      kind: 'rewrite-segment',
      file: rel(seg.path),
      from: inSeg[0]!.offset,
      crcIn: facts.crcAt.get(`${firstSeg}:${inSeg[0]!.offset}`) ?? 0,
      scanCrc: seg.crcIn,
      resumeAt: inSeg[0]!.offset,
      fill: null,
      keepTo: seg.end.offset,
      keepRecords: -1,
      substitute: inSeg.map((b) => ({ offset: b.offset, index: `${b.index}`, term: `${term(b.index)}` })),
      append: null,
      size: seg.size,
      why: { code: 'unappliable-entries', etcdVersion: v, entries: inSeg.map((b) => ({ index: `${b.index}`, problem: b.problems[v]!.kind })) },
    };
    actions.push(rw);
    rewriteEnd = rw;
    for (let i = firstSeg + 1; i < segs.length; i++) {
      const more = bad.filter((b) => b.segment === i);
      const r: RepairAction = more.length
        ? { kind: 'rewrite-segment', file: rel(segs[i]!.path), from: 0, crcIn: 0, scanCrc: segs[i]!.crcIn, resumeAt: 0, fill: null, keepTo: segs[i]!.end.offset, keepRecords: -1, substitute: more.map((b) => ({ offset: b.offset, index: `${b.index}`, term: `${term(b.index)}` })), append: null, size: segs[i]!.size, why: { code: 'more-unappliable-entries', etcdVersion: v, entries: more.length } }
        : { kind: 'rechain-segment', file: rel(segs[i]!.path), records: -1, append: null, size: segs[i]!.size, why: { code: 'rechain-after-substitute' } };
      actions.push(r);
      rewriteEnd = r;
    }
    const unapplied = bad.filter((b) => dbCi === undefined || b.index > dbCi);
    if (unapplied.length > 0) {
      plan.lossless = false;
      const what: UnappliedEntries = { indexes: unapplied.map((b) => `${b.index}`), dbConsistentIndex: s(dbCi) };
      if (!opts.allowEntryLoss) refuse({ code: 'replace-unapplied', ...what }, 1);
      else warnings.push({ code: 'replacing-unapplied', ...what });
    }
    if (!single) refuse({ code: 'replace-on-cluster', members: facts.members.length }, 2);
  }

  // 3. .snap files: broken ones; ones newer than the db; all of them when etcd must replay the
  //    WAL from index 1 into a new db (the db missing or damaged beyond what etcd opens).
  const snaps = report.snapFiles;
  const next = a.verdict.next;
  const dbAside = next.kind === 'repair' && next.what === 'db-aside';
  const allSnapsAside = dbAside || (next.kind === 'repair' && next.what === 'snaps-aside' && !report.db);
  for (const snapFile of snaps) {
    if (snapFile.status !== 'ok' && !allSnapsAside) actions.push({ kind: 'set-aside', file: `member/snap/${snapFile.name}`, why: { code: 'broken-snap', problem: snapFile.error ?? snapFile.status } });
  }
  if (allSnapsAside) {
    if (dbAside && report.db) actions.push({ kind: 'set-aside', file: report.db.path, why: { code: 'db-unusable', etcdError: decider?.failure ? failureText(decider.failure, decider.version, layout.root).error : null } });
    for (const snapFile of snaps) actions.push({ kind: 'set-aside', file: `member/snap/${snapFile.name}`, why: { code: 'snap-without-db' } });
  } else if (decider?.failure?.code === 'snap-db-missing' && dbCi !== undefined) {
    const olderOk = snaps.some((x) => x.status === 'ok' && x.matchesWalRecord && BigInt(x.index) <= dbCi);
    const newer = snaps.filter((x) => x.status === 'ok' && BigInt(x.index) > dbCi);
    if (olderOk || newer.length > 0) {
      for (const x of newer) actions.push({ kind: 'set-aside', file: `member/snap/${x.name}`, why: { code: 'snap-newer-than-db', index: `${x.index}`, dbConsistentIndex: `${dbCi}` } });
      if (!olderOk) warnings.push({ code: 'replay-from-first-segment' });
    } else refuse({ code: 'snap-newer-than-db' });
  }

  // 4. Trailing segments without a single record (a 0-byte file) carry no chain to append to.
  if (!cut && !rewriteEnd) {
    let k = segs.length - 1;
    while (k > 0 && segs[k]!.records === 0) {
      actions.push({ kind: 'set-aside', file: rel(segs[k]!.path), why: { code: 'empty-segment' } });
      k--;
    }
    const endSeg = segs[k]!;
    if (!recovered) end = { seg: k, offset: endSeg.end.offset, crc: endSeg.crcOut };
  }

  // 5. The end of the log against the db and the HardState: bridge, or lower the commit.
  const hs = cut && !rewriteEnd && !recovered ? lastHardStateBefore(a, cut.segmentIndex) : lastHardStateBefore(a, segs.length - 1, keptCommit);
  const term = maxBig(hs?.term, lastTerm);
  let commit = hs?.commit;
  let append: AppendSpec | null = null;
  if (!dbAside && dbCi !== undefined && lastIndex !== undefined && dbCi > lastIndex) {
    if (!opts.bridge) {
      refuse({ code: 'db-ahead', lastIndex: `${lastIndex}`, dbConsistentIndex: `${dbCi}`, members: facts.members.length }, 2);
    } else if (dbCi - lastIndex > MAX_BRIDGE_ENTRIES) {
      refuse({ code: 'bridge-too-long', lastIndex: `${lastIndex}`, dbConsistentIndex: `${dbCi}`, maxEntries: `${MAX_BRIDGE_ENTRIES}` }, 2);
    } else if (!single) {
      refuse({ code: 'bridge-on-cluster', members: facts.members.map(hex16), memberSources: [...facts.memberSources] }, 2);
    } else {
      const first = lastIndex + 1n;
      append = { entries: { firstIndex: `${first}`, lastIndex: `${dbCi}`, term: `${term}` }, hardState: { term: `${term}`, vote: `${hs?.vote ?? 0n}`, commit: `${dbCi}` } };
      warnings.push({ code: 'bridged-to-db', first: `${first}`, dbConsistentIndex: `${dbCi}` });
      plan.bridged = { entries: plan.bridged.entries + Number(dbCi - first + 1n), firstIndex: plan.bridged.firstIndex ?? `${first}`, lastIndex: `${dbCi}` };
      lastIndex = dbCi;
      commit = dbCi;
    }
  } else if (commit !== undefined && lastIndex !== undefined && commit > lastIndex) {
    // raft refuses a HardState committing entries the log no longer has.
    append = { entries: null, hardState: { term: `${term}`, vote: `${hs?.vote ?? 0n}`, commit: `${lastIndex}` } };
    warnings.push({ code: 'lowered-commit', from: `${commit}`, to: `${lastIndex}` });
    commit = lastIndex;
  }
  // The append zero-fills what lies past the end of the log. Entries the scan found there above
  // what the db applied are writes it would erase without a word (a power cut that lost the block
  // before them leaves their CRC chain unverifiable): dropping them needs --allow-entry-loss.
  if (append && end && !cut && !recovered && !rewriteEnd && !hiddenLeft) {
    const past = segs[end.seg]!.salvage;
    if (past.entries > 0 && past.lastIndex !== undefined && (dbCi === undefined || past.lastIndex > dbCi)) {
      const lost = droppedEntries(past.entries, past.firstIndex, past.lastIndex, past.records);
      plan.lossless = false;
      if (!opts.allowEntryLoss) refuse({ code: 'entry-loss', lost, committed: false }, 1);
      else warnings.push({ code: 'dropping-entries', lost });
    }
  }
  if (append) {
    if (rewriteEnd && (rewriteEnd.kind === 'rewrite-segment' || rewriteEnd.kind === 'rechain-segment')) rewriteEnd.append = append;
    else if (end) actions.push({ kind: 'append-records', file: rel(segs[end.seg]!.path), atOffset: end.offset, crc: end.crc, ...append, why: append.entries ? { code: 'bridge-to-db', dbConsistentIndex: `${dbCi}`, term: `${term}` } : { code: 'commit-past-log', commit: `${hs?.commit}`, lastIndex: `${lastIndex}` } });
  }

  // What none of this can fix: etcd would still refuse the dir.
  const handled = decider?.failure ? ['snap-db-missing', 'apply-fails', 'commit-out-of-range', 'db-open', 'db-restore', 'conf-change-refused'].includes(decider.failure.code) : false;
  if (!cut && decider?.outcome === 'fails' && decider.failure && !handled && !append) {
    refuse({ code: 'still-fails', etcdVersion: decider.version, etcdError: failureText(decider.failure, decider.version, layout.root).error }, 2);
  }
  if ((decider?.failure?.code === 'db-open' || decider?.failure?.code === 'db-restore') && !dbAside) {
    refuse({ code: 'db-unusable-no-replay', etcdVersion: decider.version }, 2);
  }
  // A member that is no voter of its own conf state stays one whatever the log holds.
  if (decider?.outcome === 'never-healthy' && (decider.stall?.code === 'no-voters' || decider.stall?.code === 'not-a-voter')) {
    refuse({ code: 'never-serves', etcdVersion: decider.version, stall: decider.stall.code }, 2);
  }

  if (opts.auto && !plan.lossless) refuse({ code: 'auto-lossy' }, 1);
  if (opts.auto && plan.refusal === null && plan.bridged.entries > 0) refuse({ code: 'auto-bridge' }, 2);

  // Nothing to do must mean etcd starts: never "nothing to repair" where it would still fail.
  if (actions.length === 0 && plan.refusal === null && decider?.outcome === 'fails' && decider.failure) {
    refuse({ code: 'still-fails', etcdVersion: decider.version, etcdError: failureText(decider.failure, decider.version, layout.root).error }, 2);
  }
  plan.noop = actions.length === 0 && plan.refusal === null;
  plan.after = { lastIndex: s(lastIndex), commit: s(commit), term: `${term}` };
  return plan;
}

/** Entries a plan drops, as its refusals and warnings name them. */
function droppedEntries(entries: number, first: bigint | undefined, last: bigint | undefined, records: number): DroppedEntries {
  return { entries, range: first !== undefined ? { first: `${first}`, last: `${last}` } : null, records };
}

/**
 * Sequence numbers must follow each other for etcd to read the segments in order (3.6+ check it
 * strictly): a kept segment after a missing one is renamed to the next number, and a segment that
 * now starts with filled entries is named for the first of them (with `toContent`, any segment whose
 * entries begin below its name's index).
 */
function renameToCloseGaps(a: Analysis, from: number, fillFirst: bigint | undefined, actions: RepairAction[], rel: (abs: string) => string, toContent = false): void {
  const segs = a.wal!.segments;
  let prev = from > 0 ? segs[from - 1]!.parsed?.seq : undefined;
  for (let i = from; i < segs.length; i++) {
    const p = segs[i]!.parsed;
    if (!p) continue;
    const seq = prev === undefined ? p.seq : prev + 1n;
    let index = i === from && fillFirst !== undefined && fillFirst - 1n < p.index ? fillFirst - 1n : p.index;
    // Only a log that runs on from the segment before (a newer leader's overwrite of entries the
    // name already counted is etcd's own doing, not a misnamed segment).
    const first = segs[i]!.firstEntry;
    const before = i > 0 ? lastEntryIndexUpTo(a, i - 1) : undefined;
    if (toContent && first && first.index < p.index && before !== undefined && first.index === before + 1n) index = first.index - 1n;
    if (seq !== p.seq || index !== p.index) {
      const to = `${hex16(seq)}-${hex16(index)}.wal`;
      const file = rel(segs[i]!.path);
      actions.push({ kind: 'rename-segment', file, to: file.slice(0, file.length - segs[i]!.name.length) + to, why: seq !== p.seq ? { code: 'sequence-gap', seq: `${p.seq}`, after: `${prev}` } : { code: 'starts-at', index: `${index + 1n}` } });
    }
    prev = seq;
  }
}

/** The HardState in force at the end of segment `segmentIndex`; `keptCommit`: a commit recorded past the damage, now kept. */
function lastHardStateBefore(a: Analysis, segmentIndex: number, keptCommit?: bigint) {
  const segs = a.wal!.segments;
  for (let i = segmentIndex; i >= 0; i--) {
    const hs = segs[i]!.lastHardState;
    if (hs) return keptCommit !== undefined && keptCommit > hs.commit ? { ...hs, commit: keptCommit } : hs;
  }
  return undefined;
}

function lastEntryIndexUpTo(a: Analysis, upTo: number): bigint | undefined {
  const segs = a.wal!.segments;
  for (let i = upTo; i >= 0; i--) if (segs[i]!.lastEntry) return segs[i]!.lastEntry!.index;
  return undefined;
}

function lastEntryTermUpTo(a: Analysis, upTo: number): bigint {
  const segs = a.wal!.segments;
  for (let i = upTo; i >= 0; i--) if (segs[i]!.lastEntry) return segs[i]!.lastEntry!.term;
  return 0n;
}

function maxBig(a: bigint | undefined, b: bigint): bigint {
  return a === undefined || b > a ? b : a;
}
