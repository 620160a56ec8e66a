/**
 * `wal-doctor diff`: where did these members part ways?
 *
 * Each member's raft log (as etcd replays it, see member-log.ts) is walked in lockstep by index:
 * at every index, the members that hold an entry are compared (term, type, bytes). Different terms
 * are raft's normal replacement of an uncommitted tail; the same term with different bytes cannot
 * happen in raft and is corruption; either at or below every holder's commit means committed data
 * differs. An index some members hold and others lack is "missing" (after a member's last entry: it
 * is behind; before its first: purged or covered by its snapshot, not a divergence).
 * Per member the db's consistent index, revision, compact revision and the KV hash etcd's
 * `endpoint hashkv` gives, at one revision for all (default: the highest all members have).
 * Each member is read with `memberFactsOf` (the analysis's own steps, without the checks whose
 * findings diff does not report). The logs are compared as the analysis walks them, one walk per
 * member: that comparison stands when every member's log turns out to be replayed as written (no
 * truncation) and no entries conflict; otherwise (judging a conflict needs the HardState, known at
 * the walk's end) the logs are walked again, with what the analysis found. Read-only. Memory: one
 * walk's window per member, the truncation points, at most 200 key names.
 */
import { MEMBER_WAL_OPTIONS, memberFactsOf } from '../inspect/analyze.js';
import { type WalAnalysis, walAnalyzer } from '../inspect/wal-analysis.js';
import { openSegments } from '../inspect/wal-files.js';
import { type Layout, locate } from '../io/layout.js';
import { NotEtcdError, UsageError } from '../errors.js';
import { openBoltFile } from '../io/bolt-file.js';
import { type HashKVTables, hashKV } from '../format/bbolt/hashkv.js';
import { hex16 } from '../format/wal/names.js';
import { describeEntry, summarizePayload } from '../format/payload/payload.js';
import { keyRanges } from '../format/payload/keys.js';
import { TOOL_VERSION } from '../version.js';
import { AnalyzingLog, type LogEntry, readMemberLog } from './member-log.js';
import type { DiffReport, MemberFacts } from './schema.js';
import { DIFF_SCHEMA_VERSION } from './schema-version.js';
type Lacking = DiffReport['log']['lacking'][number];

/**
 * What diff found wrong, keyed by `code` (`kind` decides the status and the exit code); the words
 * (`text` and the headline in --json) are made by cli/render/diff.ts.
 */
export type DiffProblem =
  | { kind: 'behind'; code: 'behind'; members: string[] }
  | { kind: 'corrupt'; code: 'gap'; members: string[] }
  /** `members` hold an older term's entries from `fromIndex` that no HardState commits. */
  | { kind: 'split'; code: 'uncommitted-tail'; members: string[]; fromIndex: string }
  /** `entries` with the same term but different bytes; `members`: the odd copies. */
  | { kind: 'corrupt'; code: 'same-term-data'; members: string[]; entries: number }
  | { kind: 'corrupt'; code: 'committed-differs'; members: string[]; entries: number }
  /** `members`: whose KV hash at `revision` differs from the rest. */
  | { kind: 'corrupt'; code: 'kv-hash'; members: string[]; revision: string };

/** The comparison as data: the --json report (DiffReport) without its words. */
export type DiffResult = Omit<DiffReport, 'problems' | 'headline'> & { problems: DiffProblem[] };

/** diff's exit codes: each finding has its own, worst first wins (see `wal-doctor --help`). */
export const DIFF_EXIT = { consistent: 0, behind: 3, split: 4, corrupt: 5 } as const;

/** The members whose value differs from the most common one (none when all differ equally). */
function oddOnes<T>(vals: (readonly [string, T])[]): string[] {
  const counts = new Map<T, number>();
  for (const [, v] of vals) counts.set(v, (counts.get(v) ?? 0) + 1);
  const top = Math.max(...counts.values());
  const majority = [...counts.entries()].filter(([, c]) => c === top);
  if (majority.length !== 1) return vals.map(([m]) => m);
  return vals.filter(([, v]) => v !== majority[0]![0]).map(([m]) => m);
}

const MAX_KEYS = 200;

export interface DiffOptions {
  /** Revision for the KV hashes; default: the lowest of the members' db revisions. */
  revision?: bigint;
  /**
   * For tests: compare the logs in a second walk even where the comparison made in the analysis's
   * walk stands (the two must agree), and hear which one the result holds.
   */
  secondWalk?: boolean;
  onComparison?: (made: 'in-analysis-walk' | 'second-walk') => void;
}

const ENTRY_TYPES = ['EntryNormal', 'EntryConfChange', 'EntryConfChangeV2'];

function sameEntry(a: LogEntry, b: LogEntry): boolean {
  if (a.entry.term !== b.entry.term || a.entry.type !== b.entry.type) return false;
  const x = a.entry.data ?? new Uint8Array(0);
  const y = b.entry.data ?? new Uint8Array(0);
  return Buffer.compare(x, y) === 0;
}

function keyText(b: Uint8Array): string {
  const t = Buffer.from(b).toString('utf8');
  return Buffer.from(t, 'utf8').equals(Buffer.from(b)) ? t : `base64:${Buffer.from(b).toString('base64')}`;
}

class KeyCollector {
  readonly keys = new Set<string>();
  truncated = false;
  add(e: LogEntry): void {
    for (const r of keyRanges(describeEntry(e.entry))) {
      const name = r.end === undefined ? keyText(r.key) : `${keyText(r.key)}..${r.end.length === 1 && r.end[0] === 0 ? '(end)' : keyText(r.end)}`;
      if (this.keys.has(name)) continue;
      if (this.keys.size >= MAX_KEYS) {
        this.truncated = true;
        return;
      }
      this.keys.add(name);
    }
  }
}

/** One member's log as the lockstep reads it. */
interface Side {
  path: string;
  /** The lowest index this member's log could hold; below it, entries are purged or in its snapshot. */
  start: bigint;
  next(): LogEntry | undefined;
}

/** The lockstep's findings; the first divergence names its holders (whose commits say whether it was committed). */
interface Compared {
  log: Omit<DiffResult['log'], 'firstDivergence'> & { firstDivergence: (Omit<NonNullable<DiffResult['log']['firstDivergence']>, 'committed'> & { holders: number[] }) | null };
  firstSplit: { index: string; members: string[]; committedTermConflicts: number } | undefined;
  dataMembers: string[];
}

/** Compare the members' data dirs (paths as the user typed them). */
export function diffDirs(paths: string[], opts: DiffOptions = {}): DiffResult {
  if (paths.length < 2) throw new UsageError('diff needs at least two data dirs');
  const layouts = paths.map((p) => locate(p));
  layouts.forEach((layout, i) => {
    if (layout.kind !== 'data-dir' && layout.kind !== 'member-dir') throw new NotEtcdError(`${paths[i]}: not a data dir (found a ${layout.kind}); diff compares members' data dirs`);
    if (layout.segments.length === 0) throw new NotEtcdError(`${paths[i]}: no WAL segments`);
  });
  const first = compareWhileAnalyzing(paths, layouts);
  const analyses = paths.map((path, i) => ({ path, a: memberFactsOf(layouts[i]!, first.wals[i]) }));
  const members = analyses.map(({ path, a }) => {
    const log = readMemberLog(a.layout.segments, a.wal!);
    // Where the member's own log starts: its first entry, or (an empty log) just after its newest snapshot.
    const snapIndex = (a.walReport?.snapshotRecords ?? []).reduce((x, r) => (BigInt(r.index) > x ? BigInt(r.index) : x), 0n);
    return { path, log, commit: a.walReport?.hardState ? BigInt(a.walReport.hardState.commit) : 0n, start: log.firstIndex ?? snapIndex + 1n };
  });
  // The first walk's comparison holds when every log it read is the member's log as replayed.
  const holds = !opts.secondWalk && first.compared !== undefined && members.every((m, i) => m.log.truncations === 0 && m.start === first.starts[i]);
  const compared =
    holds
      ? first.compared!
      : compareLogs(
          members.map((m) => {
            const it = m.log.entries();
            return { path: m.path, start: m.start, next: () => it.next().value ?? undefined };
          }),
          members.map((m) => m.commit),
        )!;
  opts.onComparison?.(holds ? 'in-analysis-walk' : 'second-walk');
  const { firstSplit, dataMembers } = compared;
  const fd = compared.log.firstDivergence;
  const firstDivergence: DiffReport['log']['firstDivergence'] = fd && {
    index: fd.index,
    kind: fd.kind,
    committed: fd.holders.every((i) => BigInt(fd.index) <= members[i]!.commit),
    entries: fd.entries,
    lacking: fd.lacking,
  };
  const { conflicts, lacking } = compared.log;

  // --- per member facts and the KV hash ------------------------------------------------------
  const dbRevs = analyses.map(({ a }) => (a.db?.revision != null ? BigInt(a.db.revision) : undefined));
  let kvRevision = opts.revision;
  if (kvRevision === undefined && dbRevs.every((r) => r !== undefined)) kvRevision = dbRevs.reduce((x, y) => (y! < x! ? y : x));
  // One HashKV key table for all members' dbs, hashed in turn.
  const tables: HashKVTables = {};
  const facts: MemberFacts[] = analyses.map(({ path, a }, i) => {
    const w = a.walReport;
    const m = members[i]!;
    let hash: NonNullable<MemberFacts['db']>['hashKV'] = null;
    if (a.layout.db && a.db && kvRevision !== undefined) {
      const bolt = openBoltFile(a.layout.db);
      try {
        const h = hashKV(bolt.db, { revision: kvRevision, tables });
        hash = { hash: h.hash, revision: h.revision.toString(), compactRevision: h.compactRevision.toString(), compacted: h.compacted };
      } finally {
        bolt.close();
      }
    }
    return {
      path,
      memberId: w?.memberId ?? null,
      clusterId: w?.clusterId ?? null,
      wal: {
        firstIndex: m.log.firstIndex?.toString() ?? null,
        lastIndex: m.log.lastIndex?.toString() ?? null,
        lastTerm: m.log.lastTerm?.toString() ?? null,
        entries: m.log.count,
        overwritten: m.log.overwritten,
        endsInDamage: w?.goodUntil ?? null,
        hardState: w?.hardState ? { term: w.hardState.term, vote: hex16(BigInt(w.hardState.vote)), commit: w.hardState.commit } : null,
        snapshotRecords: (w?.snapshotRecords ?? []).map((s) => ({ index: s.index, term: s.term })),
      },
      snapFiles: a.snapFiles.map((s) => ({ name: s.name, index: s.index, term: s.term, status: s.status })),
      db: a.db
        ? { consistentIndex: a.db.consistentIndex, term: a.db.term, revision: a.db.revision, compactRevision: a.db.compactRevision, hashKV: hash }
        : null,
    };
  });

  const hs = facts.map((f) => JSON.stringify(f.wal.hardState && { term: f.wal.hardState.term, commit: f.wal.hardState.commit }));
  const hardStateDiffers = hs.some((h) => h !== hs[0]);
  const snaps = facts.map((f) => JSON.stringify([f.wal.snapshotRecords, f.snapFiles.map((s) => [s.index, s.term, s.status])]));
  const snapshotsDiffer = snaps.some((s) => s !== snaps[0]);
  const hashes = facts.map((f) => f.db?.hashKV?.hash);
  const kvEqual = hashes.some((h) => h === undefined) ? null : hashes.every((h) => h === hashes[0]);

  // --- the verdict: behind, split or corrupt, each with its own exit code --------------------
  const problems: DiffProblem[] = [];
  // Behind: a log that ends early and agrees with the others on every entry it has (a member whose
  // last entries conflict is split or corrupt, not merely behind).
  const conflicting = new Set([...(firstSplit?.members ?? []), ...dataMembers]);
  const behindMembers = [...new Set(lacking.filter((l) => l.where === 'after-last' && !conflicting.has(l.member)).map((l) => l.member))];
  if (behindMembers.length) {
    problems.push({ kind: 'behind', code: 'behind', members: behindMembers });
  }
  const gaps = [...new Set(lacking.filter((l) => l.where === 'gap').map((l) => l.member))];
  if (gaps.length) problems.push({ kind: 'corrupt', code: 'gap', members: gaps });
  if (firstSplit) {
    const uncommitted = conflicts.term - firstSplit.committedTermConflicts;
    if (uncommitted > 0) problems.push({ kind: 'split', code: 'uncommitted-tail', members: firstSplit.members, fromIndex: firstSplit.index });
  }
  if (conflicts.data > 0) problems.push({ kind: 'corrupt', code: 'same-term-data', members: dataMembers, entries: conflicts.data });
  if (conflicts.committed > 0 && firstSplit && firstSplit.committedTermConflicts > 0) problems.push({ kind: 'corrupt', code: 'committed-differs', members: firstSplit.members, entries: firstSplit.committedTermConflicts });
  // A member whose db has not reached the hash revision (a --revision above it) has no comparable hash.
  const comparable = facts.filter((f) => f.db?.hashKV && kvRevision !== undefined && f.db.revision !== null && BigInt(f.db.revision) >= kvRevision);
  const kvOdd = oddOnes(comparable.map((f) => [f.path, f.db!.hashKV!.hash] as const));
  if (kvEqual === false && comparable.length >= 2 && kvOdd.length > 0) problems.push({ kind: 'corrupt', code: 'kv-hash', members: kvOdd, revision: `${kvRevision}` });
  const worst = (['corrupt', 'split', 'behind'] as const).find((k) => problems.some((p) => p.kind === k));
  const status: DiffReport['status'] = worst ?? 'consistent';

  return {
    schemaVersion: DIFF_SCHEMA_VERSION,
    tool: `wal-doctor ${TOOL_VERSION}`,
    members: facts,
    log: {
      comparedIndexes: compared.log.comparedIndexes,
      firstDivergence,
      conflicts,
      lacking,
      keys: compared.log.keys,
      keysTruncated: compared.log.keysTruncated,
    },
    hardStateDiffers,
    snapshotsDiffer,
    kv: { revision: kvRevision?.toString() ?? null, equal: kvEqual },
    status,
    exitCode: DIFF_EXIT[status],
    problems,
  };
}

/**
 * The members' WAL analyses, in one walk each, comparing their logs as they are read: the
 * comparison, and the first index each log held, when it could be made in that walk (see
 * compareLogs: it cannot where entries differ), else undefined. Whether it stands depends on what
 * the walks found (diffDirs checks).
 */
function compareWhileAnalyzing(paths: string[], layouts: Layout[]): { wals: WalAnalysis[]; compared: Compared | undefined; starts: bigint[] } {
  const opened: ReturnType<typeof openSegments>[] = [];
  try {
    for (const l of layouts) opened.push(openSegments(l.segments));
    const logs = opened.map((o) => new AnalyzingLog(o.segments, walAnalyzer(o.segments, MEMBER_WAL_OPTIONS)));
    // a log's start is its first entry's index here (what readMemberLog finds when nothing truncates)
    const sides = logs.map((log, i) => ({ path: paths[i]!, start: 0n, next: () => log.next() }));
    const compared = compareLogs(sides, undefined, (i, e) => (sides[i]!.start = e.entry.index));
    return { wals: logs.map((l) => l.finish()), compared, starts: sides.map((s) => s.start) };
  } finally {
    for (const o of opened) o.close();
  }
}

/**
 * Walk the members' logs in lockstep by index. `commits` (each member's HardState commit) are
 * needed to judge a conflict; without them (logs read while their walk is analysed), the first
 * conflict, or a log with no entry at all, gives up: undefined. `onFirst` hears each side's
 * first entry before the comparison uses the side's `start`.
 */
function compareLogs(sides: Side[], commits: bigint[] | undefined, onFirst?: (i: number, e: LogEntry) => void): Compared | undefined {
  const cur: (LogEntry | undefined)[] = sides.map((s, i) => {
    const e = s.next();
    if (e && onFirst) onFirst(i, e);
    return e;
  });
  if (!commits && cur.some((e) => e === undefined)) return undefined;
  const keys = new KeyCollector();
  const conflicts = { term: 0, data: 0, committed: 0, first: null as string | null, last: null as string | null };
  let firstDivergence: Compared['log']['firstDivergence'] = null;
  const lacking: DiffReport['log']['lacking'] = [];
  const open: (Lacking | undefined)[] = sides.map(() => undefined);
  let comparedFirst: bigint | undefined;
  /** The first index where terms differ: who holds the older term's entries (raft replaces those). */
  let firstSplit: Compared['firstSplit'];
  const dataMembersSet = new Set<string>();
  let comparedLast: bigint | undefined;

  const refOf = (i: number, e: LogEntry) => ({
    member: sides[i]!.path,
    term: e.entry.term.toString(),
    entryType: ENTRY_TYPES[e.entry.type] ?? `type ${e.entry.type}`,
    summary: summarizePayload(describeEntry(e.entry)),
    segment: e.segment,
    offset: e.offset,
  });

  for (;;) {
    let idx: bigint | undefined;
    for (const e of cur) if (e && (idx === undefined || e.entry.index < idx)) idx = e.entry.index;
    if (idx === undefined) break;
    const holders: number[] = [];
    const lackers: number[] = [];
    cur.forEach((e, i) => (e && e.entry.index === idx ? holders : lackers).push(i));

    const first = cur[holders[0]!]!;
    const conflict = holders.some((i) => !sameEntry(cur[i]!, first));
    if (conflict && !commits) return undefined;

    // Lacking: extend or open a range per member. Older than a member's first entry is not a divergence.
    const whereOf = (i: number): Lacking['where'] => {
      if (idx! < sides[i]!.start) return 'before-first';
      return cur[i] === undefined ? 'after-last' : 'gap';
    };
    const realLackers: number[] = [];
    sides.forEach((m, i) => {
      if (!lackers.includes(i)) {
        open[i] = undefined;
        return;
      }
      const where = whereOf(i);
      if (where !== 'before-first') realLackers.push(i);
      const o = open[i];
      if (o && o.where === where && BigInt(o.to) + 1n === idx) o.to = idx!.toString();
      else {
        const r: Lacking = { member: m.path, from: idx!.toString(), to: idx!.toString(), where };
        lacking.push(r);
        open[i] = r;
      }
    });
    const missingHere = realLackers.length > 0;
    if (lackers.length === 0) {
      comparedFirst ??= idx;
      comparedLast = idx;
    }

    if (conflict) {
      const termDiffers = holders.some((i) => cur[i]!.entry.term !== first.entry.term);
      const committed = holders.every((i) => idx! <= commits![i]!);
      if (termDiffers) {
        conflicts.term++;
        const top = holders.reduce((t, i) => (cur[i]!.entry.term > t ? cur[i]!.entry.term : t), 0n);
        firstSplit ??= { index: idx.toString(), members: holders.filter((i) => cur[i]!.entry.term < top).map((i) => sides[i]!.path), committedTermConflicts: 0 };
        if (committed) firstSplit.committedTermConflicts++;
      } else {
        conflicts.data++;
        // Which copy is the odd one: the holders whose bytes differ from the most common bytes.
        const bytes = holders.map((i) => [sides[i]!.path, Buffer.from(cur[i]!.entry.data ?? new Uint8Array(0)).toString('base64')] as const);
        for (const m of oddOnes(bytes)) dataMembersSet.add(m);
      }
      if (committed) conflicts.committed++;
      conflicts.first ??= idx.toString();
      conflicts.last = idx.toString();
      for (const i of holders) keys.add(cur[i]!);
    } else if (missingHere) {
      keys.add(first); // an entry someone is behind on
    }
    if (!firstDivergence && (conflict || missingHere)) {
      const termDiffers = holders.some((i) => cur[i]!.entry.term !== first.entry.term);
      firstDivergence = {
        index: idx.toString(),
        kind: conflict ? (termDiffers ? 'term' : 'data') : 'missing',
        holders,
        entries: holders.map((i) => refOf(i, cur[i]!)),
        lacking: realLackers.map((i) => sides[i]!.path),
      };
    }
    for (const i of holders) cur[i] = sides[i]!.next();
  }
  return {
    log: {
      comparedIndexes: comparedFirst !== undefined ? { first: comparedFirst.toString(), last: comparedLast!.toString() } : null,
      firstDivergence,
      conflicts,
      lacking,
      keys: [...keys.keys],
      keysTruncated: keys.truncated,
    },
    firstSplit,
    dataMembers: [...dataMembersSet],
  };
}
