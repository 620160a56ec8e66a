/**
 * One pass over the WAL that keeps what the report and the boot prediction need, in bounded
 * memory: per-segment counts, first/last entries, how each segment ends, the HardState and
 * snapshot records, index gaps and overwrites, and what could still be found past damage.
 */
import type { SegmentEnd } from '../format/wal/decoder.js';
import { decodeConfChange } from '../format/proto/messages.js';
import type { WalName } from '../format/wal/names.js';
import { type Entry, type HardState, type Metadata, type Payload, type SegmentInput, type WalkEvent, type WalkOptions, endsCleanly, walkWal } from '../format/wal/walk.js';
import { describeEntry } from '../format/payload/payload.js';
import { keyRanges } from '../format/payload/keys.js';
import { applyProblems, type EntryListener } from './apply-check.js';
import { type WriteLedger, ledgerFields } from './reconcile.js';
import type { BadEntry } from './predict.js';

export interface EntryRef {
  index: bigint;
  term: bigint;
}

export interface Located {
  segment: number;
  offset: number;
}

export interface WalSnapshotRecord extends Located {
  index: bigint;
  term: bigint;
  hasConfState: boolean;
}

export interface RecordCounts {
  metadata: number;
  entry: number;
  state: number;
  crc: number;
  snapshot: number;
  unknown: number;
  undecodable: number;
}

export interface SalvageSummary {
  records: number;
  /** Records whose CRC follows from the one before: proof of valid data after the damage. */
  chained: number;
  entries: number;
  firstIndex: bigint | undefined;
  firstTerm: bigint | undefined;
  lastIndex: bigint | undefined;
  /** Offset of the first salvaged record. */
  firstOffset: number | undefined;
}

export interface SegmentInfo {
  index: number;
  name: string;
  path: string;
  parsed: WalName | undefined;
  size: number;
  crcIn: number;
  chainedIn: boolean;
  counts: RecordCounts;
  records: number;
  firstEntry: EntryRef | undefined;
  lastEntry: EntryRef | undefined;
  /** The first record's type and, if it is a crc record, the value it carries. */
  first: { type: number; crc: number; link: 'ok' | 'unchecked' | undefined } | undefined;
  lastHardState: (HardState & Located) | undefined;
  end: SegmentEnd;
  crcOut: number;
  salvage: SalvageSummary;
}

export interface GapEvent extends Located {
  prevIndex: bigint;
  index: bigint;
  term: bigint;
}

export interface OverwriteEvent extends Located {
  /** Index of the entry that replaced earlier ones (a new leader's log overwrote the tail). */
  index: bigint;
  term: bigint;
  prevLastIndex: bigint;
  prevLastTerm: bigint;
}

export interface TermRegression extends Located {
  index: bigint;
  term: bigint;
  prevTerm: bigint;
}

export interface ConfChangeRef extends Located {
  index: bigint;
  /** 0 AddNode, 1 RemoveNode, 2 UpdateNode, 3 AddLearnerNode; -1 for ConfChangeV2. */
  type: number;
  nodeId: bigint;
}

/** Past the first damage: what truncating there would drop. */
export interface PastCut {
  /** Records after the cut that decode (found by scanning the damaged segment, or in later segments). */
  records: number;
  /** Entries among them above the last entry before the cut. */
  entries: number;
  firstIndex: bigint | undefined;
  lastIndex: bigint | undefined;
  /** Keys those entries wrote or deleted (first MAX_KEYS_PAST_CUT, in log order, deduplicated). */
  keys: string[];
  keysTotal: number;
  /** Highest commit in a HardState after the cut. */
  maxCommit: bigint;
}

export const MAX_KEYS_PAST_CUT = 200;

export interface WalAnalysis {
  /** The most gaps, overwrites, regressions, bad entries… each list keeps. */
  maxEvents: number;
  segments: SegmentInfo[];
  /** Undefined when no segment ends in damage. */
  pastCut: PastCut | undefined;
  /** Membership changes in the log, in order (bounded). */
  confChanges: ConfChangeRef[];
  /** Highest HardState commit in any record found, good or past damage: what etcd had acknowledged. */
  maxCommitSeen: bigint;
  metadata: (Metadata & Located) | undefined;
  metadataConflicts: (Metadata & Located)[];
  snapshots: WalSnapshotRecord[];
  snapshotsDropped: number;
  gaps: GapEvent[];
  overwrites: OverwriteEvent[];
  termRegressions: TermRegression[];
  unknownTypes: (Located & { type: number })[];
  /** The term of the last entry read before any damage at AnalyzeOptions.termAtIndex, if one was (a later snapshot at or past it replaces it). */
  termAt: { index: bigint; term: bigint } | undefined;
  undecodable: (Located & { type: number; error: string })[];
  /** Entries etcd cannot apply (unknown entry type, payload that does not unmarshal), in log order. */
  badEntries: BadEntry[];
  /** The last cluster version an entry set (v2 PUT /0/version or cluster_version_set): who ran the cluster. */
  clusterVersion: string | undefined;
  /**
   * The first empty entry in the middle of a term. raft writes an empty entry only when a leader
   * takes a new term; one inside a term stands for an entry a repair could not keep (a bridge).
   */
  emptyMidTerm: bigint | undefined;
  /** Alarm requests that raise or clear an alarm (ACTIVATE, DEACTIVATE), in log order (the first MAX_EVENTS). */
  alarmRequests: WalAlarmRequest[];
}

export interface WalAlarmRequest {
  index: bigint;
  action: 'activate' | 'deactivate';
  memberId: bigint;
  /** etcdserverpb.AlarmType: 1 NOSPACE, 2 CORRUPT. */
  alarm: number;
}

export interface AnalyzeOptions extends Pick<WalkOptions, 'onProgress'> {
  /**
   * How an entry's payload is judged (default: as each etcd line's apply code takes it); `false`:
   * not at all (the caller reports no findings; `badEntries` stays empty and `clusterVersion` unset).
   */
  applyProblems?: ((e: Entry, listen?: EntryListener) => BadEntry['problems']) | false;
  /** Hears every entry's writes, for the WAL/db reconciliation. */
  ledger?: WriteLedger;
  /** Hears every event of the walk (salvaged records included): what else needs the log reads it here, in the same walk. */
  observe?: (ev: WalkEvent) => void;
  /** An index whose entry's term the caller wants (`termAt`): the db's consistent index. */
  termAtIndex?: bigint;
}

const MAX_EVENTS = 10_000;

function emptyCounts(): RecordCounts {
  return { metadata: 0, entry: 0, state: 0, crc: 0, snapshot: 0, unknown: 0, undecodable: 0 };
}

/** The walk the analysis reads: every segment, salvaged records included. */
export function analysisWalk(segments: readonly SegmentInput[], opts: AnalyzeOptions = {}): Generator<WalkEvent> {
  const walkOpts: WalkOptions = { salvage: true };
  if (opts.onProgress) walkOpts.onProgress = opts.onProgress;
  return walkWal(segments, walkOpts) as Generator<WalkEvent>;
}

export function analyzeWal(segments: (SegmentInput & { path: string })[], opts: AnalyzeOptions = {}): WalAnalysis {
  const analyzer = walAnalyzer(segments, opts);
  for (const ev of analysisWalk(segments, opts)) analyzer.feed(ev);
  return analyzer.analysis;
}

/**
 * The analysis as a consumer of `analysisWalk`'s events, for a caller that drives the walk itself
 * and reads the log as it goes (diff compares members' logs in the same walk). `analysis` is
 * complete once every event has been fed.
 */
export interface WalAnalyzer {
  feed(ev: WalkEvent): void;
  readonly analysis: WalAnalysis;
}

export function walAnalyzer(segments: readonly { path: string }[], opts: AnalyzeOptions = {}): WalAnalyzer {
  const judge = opts.applyProblems ?? applyProblems;
  const out: WalAnalysis = {
    maxEvents: MAX_EVENTS,
    segments: [],
    pastCut: undefined,
    confChanges: [],
    maxCommitSeen: 0n,
    metadata: undefined,
    metadataConflicts: [],
    snapshots: [],
    snapshotsDropped: 0,
    gaps: [],
    overwrites: [],
    termRegressions: [],
    unknownTypes: [],
    termAt: undefined,
    undecodable: [],
    badEntries: [],
    clusterVersion: undefined,
    emptyMidTerm: undefined,
    alarmRequests: [],
  };
  let cur: SegmentInfo | undefined;
  let prev: EntryRef | undefined;
  /** The running CRC before the current record: what a rewrite from that record continues. */
  let crcBefore = 0;
  /** Last entry index before the first damage, once it is found. */
  let cutLastIndex: bigint | undefined;
  let goodLastIndex: bigint | undefined;
  const pastKeys = new Set<string>();
  const push = <T>(list: T[], v: T) => {
    if (list.length < MAX_EVENTS) list.push(v);
  };

  // What the judge hears of each entry (made once: it is told about a million of them).
  let judgedIndex = 0n;
  const listener: EntryListener = {
    clusterVersion: (v) => (out.clusterVersion = v),
    alarm: (a) => {
      const action = Number(a['action'] ?? 0);
      if (action !== 1 && action !== 2) return; // GET changes nothing
      const id = a['memberId'];
      push(out.alarmRequests, { index: judgedIndex, action: action === 1 ? 'activate' : 'deactivate', memberId: typeof id === 'bigint' ? id : BigInt(typeof id === 'number' || typeof id === 'string' ? id : 0), alarm: Number(a['alarm'] ?? 0) });
    },
  };
  const ledger = opts.ledger;
  if (ledger) {
    listener.request = (req) => ledger.onEntry(judgedIndex, req);
    listener.unread = () => ledger.onUnread(judgedIndex);
    listener.requestFields = ledgerFields();
  }

  const observe = opts.observe;
  const feed = (ev: WalkEvent): void => {
    observe?.(ev);
    if (ev.kind === 'segment-start') {
      cur = {
        index: ev.segment,
        name: ev.name,
        path: segments[ev.segment]!.path,
        parsed: ev.parsed,
        size: ev.size,
        crcIn: ev.crcIn,
        chainedIn: ev.chained,
        counts: emptyCounts(),
        records: 0,
        firstEntry: undefined,
        lastEntry: undefined,
        first: undefined,
        lastHardState: undefined,
        end: { kind: 'eof', offset: 0 },
        crcOut: 0,
        salvage: { records: 0, chained: 0, entries: 0, firstIndex: undefined, firstTerm: undefined, lastIndex: undefined, firstOffset: undefined },
      };
      out.segments.push(cur);
      crcBefore = ev.crcIn;
      return;
    }
    if (cur === undefined) return;
    if (ev.kind === 'segment-end') {
      cur.end = ev.end;
      cur.crcOut = ev.crcOut;
      cur.records = ev.records;
      if (out.pastCut === undefined && !endsCleanly(ev.end)) {
        out.pastCut = { records: 0, entries: 0, firstIndex: undefined, lastIndex: undefined, keys: [], keysTotal: 0, maxCommit: 0n };
        cutLastIndex = goodLastIndex;
      }
      return;
    }
    const at: Located = { segment: ev.segment, offset: ev.offset };
    const p = ev.payload;
    if (p.type === 'state' && p.state.commit > out.maxCommitSeen) out.maxCommitSeen = p.state.commit;
    if (out.pastCut !== undefined) pastTheCut(out.pastCut, p, cutLastIndex, pastKeys);
    if (ev.salvaged) {
      const s = cur.salvage;
      s.records++;
      if (ev.salvaged.chained) s.chained++;
      if (s.firstOffset === undefined) s.firstOffset = ev.offset;
      if (p.type === 'entry') {
        s.entries++;
        if (s.firstIndex === undefined) {
          s.firstIndex = p.entry.index;
          s.firstTerm = p.entry.term;
        }
        s.lastIndex = p.entry.index;
      }
      return;
    }
    const crcIn = crcBefore;
    crcBefore = ev.crc;
    if (cur.first === undefined) cur.first = { type: recordTypeOf(p), crc: ev.crc, link: ev.link };
    switch (p.type) {
      case 'metadata':
        cur.counts.metadata++;
        if (out.metadata === undefined) out.metadata = { ...p.metadata, ...at };
        else if (p.metadata.nodeId !== out.metadata.nodeId || p.metadata.clusterId !== out.metadata.clusterId) {
          push(out.metadataConflicts, { ...p.metadata, ...at });
        }
        break;
      case 'entry': {
        cur.counts.entry++;
        const e = p.entry;
        const ref = { index: e.index, term: e.term };
        if (cur.firstEntry === undefined) cur.firstEntry = ref;
        cur.lastEntry = ref;
        if (out.pastCut === undefined) {
          goodLastIndex = e.index;
          if (e.index === opts.termAtIndex) out.termAt = ref;
        }
        if (prev !== undefined) {
          if (e.index > prev.index + 1n) push(out.gaps, { ...at, prevIndex: prev.index, index: e.index, term: e.term });
          else if (e.index <= prev.index) {
            push(out.overwrites, { ...at, index: e.index, term: e.term, prevLastIndex: prev.index, prevLastTerm: prev.term });
            if (e.term <= prev.term) push(out.termRegressions, { ...at, index: e.index, term: e.term, prevTerm: prev.term });
          } else if (e.term < prev.term) push(out.termRegressions, { ...at, index: e.index, term: e.term, prevTerm: prev.term });
        }
        if (e.type === 0 && (e.data === undefined || e.data.length === 0) && prev !== undefined && e.term === prev.term && e.index === prev.index + 1n && out.emptyMidTerm === undefined) out.emptyMidTerm = e.index;
        prev = ref;
        ledger?.onIndex(e.index);
        if (judge !== false) {
          judgedIndex = e.index;
          const problems = judge(e, listener);
          for (const _ in problems) {
            push(out.badEntries, { ...at, index: e.index, term: e.term, crcIn, problems });
            break;
          }
        }
        if (e.type === 1 || e.type === 2) {
          let cc: { type: number; nodeId: bigint } = { type: -1, nodeId: 0n };
          try {
            if (e.type === 1 && e.data) cc = decodeConfChange(e.data);
          } catch {
            // an undecodable conf change is left for the payload decoder to report
          }
          push(out.confChanges, { ...at, index: e.index, type: cc.type, nodeId: cc.nodeId });
        }
        break;
      }
      case 'state':
        cur.counts.state++;
        cur.lastHardState = { ...p.state, ...at };
        ledger?.onCommit(p.state.commit);
        break;
      case 'crc':
        cur.counts.crc++;
        break;
      case 'snapshot':
        cur.counts.snapshot++;
        ledger?.onSnapshot(p.snapshot.index);
        // A snapshot (a leader's, to a member that fell behind) replaces the log up to its index:
        // an entry read before it at the watched index says nothing of what the db applied.
        if (out.pastCut === undefined && opts.termAtIndex !== undefined && p.snapshot.index >= opts.termAtIndex && out.termAt !== undefined) {
          out.termAt = p.snapshot.index === opts.termAtIndex ? { index: p.snapshot.index, term: p.snapshot.term } : undefined;
        }
        if (out.snapshots.length < MAX_EVENTS) {
          out.snapshots.push({ ...at, index: p.snapshot.index, term: p.snapshot.term, hasConfState: p.snapshot.confState !== undefined });
        } else out.snapshotsDropped++;
        break;
      case 'unknown':
        cur.counts.unknown++;
        push(out.unknownTypes, { ...at, type: p.recordType });
        break;
      case 'undecodable':
        cur.counts.undecodable++;
        push(out.undecodable, { ...at, type: p.recordType, error: p.error });
        break;
    }
  };
  return { feed, analysis: out };
}

/**
 * One record past the first damage (salvaged from the damaged segment, or anywhere in a later one:
 * etcd's chain is broken there, so a cut drops them all). Entries at or below the last one kept
 * are an overwritten tail, not a loss.
 */
function pastTheCut(d: PastCut, p: Payload, keptLast: bigint | undefined, seen: Set<string>): void {
  d.records++;
  if (p.type === 'state' && p.state.commit > d.maxCommit) d.maxCommit = p.state.commit;
  if (p.type !== 'entry') return;
  const e = p.entry;
  if (keptLast !== undefined && e.index <= keptLast) return;
  d.entries++;
  if (d.firstIndex === undefined || e.index < d.firstIndex) d.firstIndex = e.index;
  if (d.lastIndex === undefined || e.index > d.lastIndex) d.lastIndex = e.index;
  for (const r of keyRanges(describeEntry(e))) {
    const k = Buffer.from(r.key).toString('utf8') + (r.end ? ` .. ${Buffer.from(r.end).toString('utf8')}` : '');
    if (seen.has(k)) continue;
    seen.add(k);
    d.keysTotal++;
    if (d.keys.length < MAX_KEYS_PAST_CUT) d.keys.push(k);
  }
}

function recordTypeOf(p: Payload): number {
  switch (p.type) {
    case 'metadata':
      return 1;
    case 'entry':
      return 2;
    case 'state':
      return 3;
    case 'crc':
      return 4;
    case 'snapshot':
      return 5;
    default:
      return p.type === 'unknown' || p.type === 'undecodable' ? p.recordType : 0;
  }
}
