/**
 * The verdict: from what etcd will do (the prediction for the deciding release line), the hazards
 * that lose or hide data, and the findings, to one status, exit code, typed reason and next step.
 * `healthy` (exit 0) is a promise that real etcd starts on the dir as it is and serves every write
 * the files hold: automation acts on it, so every doubt goes the other way. Wording: cli/render.
 */
import { ExitCode } from '../errors.js';
import type { Layout } from '../io/layout.js';
import type { BootFailure, BootPrediction, Hazard, Stall } from './predict.js';
import type { Finding } from './report.js';
import type { SegmentInfo, WalAnalysis } from './wal-analysis.js';

export type Status = 'healthy' | 'repairable' | 'needs-rebuild' | 'alarm' | 'in-use';

/** Why the verdict is what it is. */
export type VerdictReason =
  /** etcd starts on the dir as it is and serves what it holds. */
  | { code: 'starts'; members: number; dbRebuiltFromWal: boolean }
  /** A running process holds the data dir's locks: nothing is judged safe to act on. */
  | { code: 'in-use'; pid: number | undefined; command: string | undefined; file: string }
  /** Only one file was inspected: what is wrong with it (first problem) or nothing. */
  | { code: 'file'; problems: number; first: Finding | undefined }
  | { code: 'no-wal' }
  /** The log is damaged at `segment`/`offset`; what etcd does about it is in the prediction. */
  | { code: 'wal-damaged'; segment: string; offset: number; lostRecords: boolean }
  /** etcd would start but the db has applied entries the usable log no longer has. */
  | { code: 'db-ahead'; damage: { segment: string; offset: number } | undefined; lastIndex: bigint | undefined; consistentIndex: bigint }
  /** etcd dies at boot. */
  | { code: 'etcd-fails'; failure: BootFailure }
  /** etcd runs but never gets a leader. */
  | { code: 'etcd-stalls'; stall: Stall }
  /**
   * A zero length word hides valid records: etcd starts without them. `afterSetAside`: etcd fails
   * now, and would start without them once the repair that fixes that is made: its db (and .snap
   * files) set aside, the log replayed from index 1 into a new db (`db`), or the .snap files newer
   * than the db set aside, the log replayed from an older point (`snaps`).
   */
  | { code: 'records-hidden'; hazard: Extract<Hazard, { code: 'records-hidden' }>; afterSetAside?: 'db' | 'snaps' }
  /** The cluster (its peers' dirs) committed past the end of this member's log. */
  | { code: 'behind-cluster'; lastIndex: bigint; commit: bigint; peer: string }
  /** The db holds other writes than the log it was applied from: two histories (or a changed value). */
  | { code: 'two-histories'; mismatches: number; keys: string[] }
  /** etcd starts and serves reads but refuses writes: an alarm stays raised (the alarm-raised findings). */
  | { code: 'alarm'; alarms: Extract<Finding, { code: 'alarm-raised' }>[] }
  /** Another error finding the rules above do not cover. */
  | { code: 'finding'; finding: Finding };

export type NextStep =
  | { kind: 'none' }
  | { kind: 'wait'; pid: number | undefined }
  | { kind: 'inspect-dir' }
  /** `db`: what the db beside the missing WAL holds (keys to rebuild from, nothing, or a tree that cannot be read whole). */
  | { kind: 'wal-dir-or-rebuild'; db: DbHolds }
  /** `wal-doctor repair` with these flags; `what` says what it will do. */
  | { kind: 'repair'; flags: string[]; what: 'cut' | 'commit' | 'snaps-aside' | 'db-aside' | 'recover-hidden' | 'rewrite-entries' | 'leftovers' }
  /** `allowEntryLoss`: cutting at the damage drops valid entries (or later segments), so the repair needs the flag. */
  | { kind: 'bridge-or-rebuild'; allowEntryLoss: boolean }
  | { kind: 'rebuild' }
  | { kind: 'replace-member'; members: number }
  /** `why`: no keyspace left (no db, a WAL not from index 1), or a db whose consistent index cannot be read. */
  | { kind: 'restore-backup'; why: 'no-keyspace' | 'db-unreadable' }
  | { kind: 'newer-etcd'; clusterVersion: string }
  /** Nothing chooses between two histories for the operator: compare them, keep one by hand. */
  | { kind: 'choose-history'; walFromStart: boolean }
  /** Start etcd, free space (NOSPACE) or find the corruption (CORRUPT), then disarm the alarm. */
  | { kind: 'disarm'; alarms: ('NOSPACE' | 'CORRUPT' | 'unreadable')[] };

/** What a db holds for a rebuild: keys, nothing (absent, empty, no revision: a first start cut short), or a tree it cannot read whole. */
export type DbHolds = 'keys' | 'nothing' | 'unreadable';

export interface Verdict {
  status: Status;
  exitCode: 0 | 1 | 2 | 6 | 75;
  reason: VerdictReason;
  next: NextStep;
}

const EXIT: Record<Status, Verdict['exitCode']> = { healthy: ExitCode.healthy, repairable: ExitCode.repairable, 'needs-rebuild': ExitCode.needsRebuild, alarm: ExitCode.alarm, 'in-use': ExitCode.locked };

function v(status: Status, reason: VerdictReason, next: NextStep): Verdict {
  return { status, exitCode: EXIT[status], reason, next };
}

export interface VerdictInput {
  layout: Layout;
  wal: WalAnalysis | undefined;
  main: BootPrediction | undefined;
  findings: Finding[];
  /** The db's consistent index (undefined: no db, or unreadable). */
  consistentIndex: bigint | undefined;
  /** Voters and members known for the cluster. */
  members: number;
  /** A process holding the dir's locks right now. */
  holder: { pid: number | undefined; command: string | undefined; file: string } | undefined;
  /** The WAL holds every entry from index 1 (first segment named for index 0, nothing purged). */
  walFromStart: boolean;
  /** Structural damage in the db that the deciding line's bbolt tolerates (3.4's older bbolt). */
  dbDamaged: boolean;
  /** What the deciding line does with the db and the .snap files set aside: the log replayed from its start into a new db. */
  withoutDb?: () => BootPrediction | undefined;
  /** What it does with the .snap files newer than the db's consistent index set aside. */
  withoutNewerSnaps?: () => BootPrediction | undefined;
  /** The log's applied writes that the db does not hold. */
  mismatch: { mismatches: number; keys: string[] } | undefined;
  /** The alarms etcd keeps raised once started (alarm-raised findings). */
  alarms: Finding[];
  /** With no WAL: what the db holds for a rebuild. */
  dbHolds?: DbHolds;
  /** Peers committed past this log's end (`--peer-dir`). */
  behind?: { lastIndex: bigint; commit: bigint; peer: string } | undefined;
  rel: (abs: string) => string;
}

/** Where truncating at the first damage would leave the log: the damaged segment and the last entry before it. */
export function truncationPoint(wal: WalAnalysis): { damaged: SegmentInfo | undefined; lastIndex: bigint | undefined } {
  let lastIndex: bigint | undefined;
  for (const s of wal.segments) {
    if (s.lastEntry) lastIndex = s.lastEntry.index;
    if (s.end.kind !== 'eof' && s.end.kind !== 'zero-length') return { damaged: s, lastIndex };
  }
  return { damaged: undefined, lastIndex };
}

/** Entries the scan found past the end of a clean log that the db never applied: appending there erases them. */
function entriesPastEnd(seg: SegmentInfo, consistentIndex: bigint | undefined): boolean {
  const s = seg.salvage;
  return s.entries > 0 && s.lastIndex !== undefined && (consistentIndex === undefined || s.lastIndex > consistentIndex);
}

export function decideVerdict(i: VerdictInput): Verdict {
  const { layout, wal, main, findings } = i;
  const isDir = layout.kind === 'data-dir' || layout.kind === 'member-dir';
  if (i.holder) return v('in-use', { code: 'in-use', ...i.holder }, { kind: 'wait', pid: i.holder.pid });
  if (!wal && isDir) return v('needs-rebuild', { code: 'no-wal' }, { kind: 'wal-dir-or-rebuild', db: i.dbHolds ?? 'keys' });
  if (!wal || layout.kind === 'snap-file' || layout.kind === 'db-file' || layout.kind === 'wal-file') {
    const problems = findings.filter((f) => f.severity !== 'info');
    if (problems.length === 0) return v('healthy', { code: 'file', problems: 0, first: undefined }, { kind: 'none' });
    return v('repairable', { code: 'file', problems: problems.length, first: problems[0] }, { kind: 'inspect-dir' });
  }

  if (i.behind) return v('needs-rebuild', { code: 'behind-cluster', ...i.behind }, { kind: 'replace-member', members: Math.max(i.members, 2) });
  if (i.mismatch && i.mismatch.mismatches > 0) {
    return v('needs-rebuild', { code: 'two-histories', ...i.mismatch }, { kind: 'choose-history', walFromStart: i.walFromStart });
  }

  const cut = truncationPoint(wal);
  const damage = cut.damaged ? { segment: i.rel(cut.damaged.path), offset: cut.damaged.end.offset } : undefined;
  const single = i.members <= 1;
  const lastSeg = wal.segments[wal.segments.length - 1]!;
  const dbAheadOfCut = i.consistentIndex !== undefined && cut.damaged !== undefined && cut.lastIndex !== undefined && i.consistentIndex > cut.lastIndex;
  const aheadHazard = main?.hazards.find((h): h is Extract<Hazard, { code: 'db-ahead-of-wal' }> => h.code === 'db-ahead-of-wal');
  // Setting the db aside makes etcd replay the log from index 1 into a new db: records a zero
  // length word hides are then gone, whatever the old db held (or could not be read to tell),
  // unless a length word written back brings them (chained ones behind an intact record).
  // Which loses least then: with the db unusable (or absent), replaying the log and giving up the
  // hidden records (a rebuild from that db would lose its damaged pages too); with an intact db
  // older than the .snap files, a rebuild from it (the records kept in its unapplied file).
  const lostAfter = (after: BootPrediction | undefined, what: 'db' | 'snaps', aside: 'db-aside' | 'snaps-aside'): Verdict | undefined => {
    const hidden = after?.hazards.find((h): h is Extract<Hazard, { code: 'records-hidden' }> => h.code === 'records-hidden');
    if (!hidden || !(hidden.unchained || !hidden.behindIntact)) return undefined;
    const reason: VerdictReason = { code: 'records-hidden', hazard: hidden, afterSetAside: what };
    return what === 'db' ? v('repairable', reason, { kind: 'repair', flags: ['--allow-entry-loss'], what: aside }) : v('needs-rebuild', reason, { kind: 'rebuild' });
  };
  const dbAside = (reason: VerdictReason): Verdict => lostAfter(i.withoutDb?.(), 'db', 'db-aside') ?? v('repairable', reason, { kind: 'repair', flags: [], what: 'db-aside' });

  if (main?.outcome === 'fails' && main.failure) {
    const f = main.failure;
    switch (f.code) {
      case 'commit-out-of-range':
        if (!cut.damaged) return v('repairable', { code: 'etcd-fails', failure: f }, { kind: 'repair', flags: [], what: 'commit' });
        break;
      case 'snap-db-missing':
        // 3.7 takes its snapshot from the WAL's last snapshot record, not from a .snap file: no
        // file set aside changes that, and without the db it needs a `.snap.db` it does not have.
        if (!cut.damaged && main.version === '3.7') {
          return v('needs-rebuild', { code: 'etcd-fails', failure: f }, !f.dbAbsent && i.consistentIndex !== undefined ? { kind: 'rebuild' } : { kind: 'restore-backup', why: f.dbAbsent ? 'no-keyspace' : 'db-unreadable' });
        }
        // A db whose consistent index cannot be read (its meta bucket lost, a power cut's mix of
        // pages) says nothing of which .snap files are newer: only replaying the whole log into a
        // new db is sure (seen: repair found nothing to set aside and said etcd would start).
        if (!cut.damaged && !f.dbAbsent && i.consistentIndex === undefined) {
          return i.walFromStart ? dbAside({ code: 'etcd-fails', failure: f }) : v('needs-rebuild', { code: 'etcd-fails', failure: f }, { kind: 'restore-backup', why: 'db-unreadable' });
        }
        // The loaded .snap is newer than the db: with the .snap files set aside etcd opens the WAL
        // from its start (no db: it rebuilds the keyspace from the log) or at an older .snap.
        if (!cut.damaged && (i.walFromStart || !f.dbAbsent)) {
          return lostAfter(f.dbAbsent ? i.withoutDb?.() : i.withoutNewerSnaps?.(), f.dbAbsent ? 'db' : 'snaps', 'snaps-aside') ?? v('repairable', { code: 'etcd-fails', failure: f }, { kind: 'repair', flags: [], what: 'snaps-aside' });
        }
        if (!cut.damaged) return v('needs-rebuild', { code: 'etcd-fails', failure: f }, { kind: 'restore-backup', why: 'no-keyspace' });
        break;
      case 'db-open':
      case 'db-restore':
        if (!cut.damaged && i.walFromStart) return dbAside({ code: 'etcd-fails', failure: f });
        return v('needs-rebuild', { code: 'etcd-fails', failure: f }, { kind: 'rebuild' });
      case 'conf-change-refused':
        // The db's members are ahead of the index etcd reads from it. Replaying the log into a new
        // db loses nothing when the index the db holds (read by a walk) is within the log.
        if (!cut.damaged && i.walFromStart && !(i.consistentIndex !== undefined && main.lastIndex !== undefined && i.consistentIndex > main.lastIndex)) return dbAside({ code: 'etcd-fails', failure: f });
        return v('needs-rebuild', { code: 'etcd-fails', failure: f }, { kind: 'rebuild' });
      case 'apply-fails': {
        const applied = i.consistentIndex !== undefined && f.entry.index <= i.consistentIndex;
        return v('repairable', { code: 'etcd-fails', failure: f }, { kind: 'repair', flags: applied ? [] : ['--allow-entry-loss'], what: 'rewrite-entries' });
      }
      case 'downgrade':
        return v('needs-rebuild', { code: 'etcd-fails', failure: f }, { kind: 'newer-etcd', clusterVersion: f.clusterVersion });
      case 'no-wal':
        return v('needs-rebuild', { code: 'no-wal' }, { kind: 'wal-dir-or-rebuild', db: i.dbHolds ?? 'keys' });
      case 'wal-not-found':
      case 'wal-seq-gap':
      case 'wal-slice-bounds':
      case 'wal-snapshot-not-found':
      case 'wal-snapshot-mismatch':
      case 'wal-metadata-conflict':
        if (!cut.damaged) return v('needs-rebuild', { code: 'etcd-fails', failure: f }, { kind: 'rebuild' });
        break;
      default:
        break;
    }
  }
  // The db's index is not what it applied: etcd would apply again what the db holds, and which of
  // the entries above that index the db holds is not known. When the log runs from index 1 to the
  // db's term and etcd replays all of it into a new db without a problem, setting the db aside
  // rebuilds exactly what etcd applied. A db whose term the log never reached holds writes the log
  // lost: a rebuild keeps the db's keys (the log's entries above its index kept aside).
  const notWhatItApplied = findings.find((f) => f.code === 'db-term-mismatch' || f.code === 'db-holds-next-write');
  if (notWhatItApplied && !cut.damaged) {
    const dbAhead = findings.some((f) => f.code === 'db-term-ahead');
    const replay = !dbAhead && i.walFromStart ? i.withoutDb?.() : undefined;
    if (replay?.outcome === 'starts' && replay.hazards.length === 0) return v('repairable', { code: 'finding', finding: notWhatItApplied }, { kind: 'repair', flags: [], what: 'db-aside' });
    return v('needs-rebuild', { code: 'finding', finding: notWhatItApplied }, { kind: 'rebuild' });
  }
  if (aheadHazard || dbAheadOfCut) {
    const ci = aheadHazard?.consistentIndex ?? i.consistentIndex!;
    return v('needs-rebuild', { code: 'db-ahead', damage, lastIndex: aheadHazard?.lastIndex ?? cut.lastIndex, consistentIndex: ci }, single ? { kind: 'bridge-or-rebuild', allowEntryLoss: cut.damaged !== undefined ? (wal.pastCut?.entries ?? 0) > 0 || cut.damaged !== lastSeg : entriesPastEnd(lastSeg, i.consistentIndex) } : { kind: 'replace-member', members: i.members });
  }
  if (cut.damaged && damage) {
    const lost = cut.damaged.salvage.chained > 0 || cut.damaged !== lastSeg;
    return v('repairable', { code: 'wal-damaged', ...damage, lostRecords: lost }, { kind: 'repair', flags: lost ? ['--allow-entry-loss'] : [], what: 'cut' });
  }
  if (main?.outcome === 'fails' && main.failure) return v('needs-rebuild', { code: 'etcd-fails', failure: main.failure }, { kind: 'rebuild' });
  if (main?.outcome === 'never-healthy' && main.stall) {
    return v('needs-rebuild', { code: 'etcd-stalls', stall: main.stall }, single ? { kind: 'rebuild' } : { kind: 'replace-member', members: i.members });
  }
  const hidden = main?.hazards.find((h): h is Extract<Hazard, { code: 'records-hidden' }> => h.code === 'records-hidden');
  // Unchained: nothing proves those records intact, so no repair writes them back; a rebuild keeps
  // the db and writes every entry above it, these too, to its unapplied file for a human.
  // The record behind the zero word destroyed too: no length word to write back (repair refuses).
  if (hidden) return hidden.unchained || !hidden.behindIntact ? v('needs-rebuild', { code: 'records-hidden', hazard: hidden }, { kind: 'rebuild' }) : v('repairable', { code: 'records-hidden', hazard: hidden }, { kind: 'repair', flags: [], what: 'recover-hidden' });
  if (i.dbDamaged) {
    const first = findings.find((f) => f.code === 'db-damaged');
    if (first) return i.walFromStart ? dbAside({ code: 'finding', finding: first }) : v('needs-rebuild', { code: 'finding', finding: first }, { kind: 'rebuild' });
  }
  const unreadable = i.alarms.find((f) => f.code === 'alarm-raised' && f.alarm === 'unreadable');
  if (unreadable) return v('needs-rebuild', { code: 'finding', finding: unreadable }, { kind: 'rebuild' });
  const errors = findings.filter((f) => f.severity === 'error' && f.code !== 'alarm-raised');
  const leftovers = findings.filter((f) => f.code === 'snap-file-broken' || f.code === 'empty-segment');
  const first = errors[0] ?? leftovers[0];
  if (first) return v('repairable', { code: 'finding', finding: first }, { kind: 'repair', flags: [], what: 'leftovers' });
  const alarms = i.alarms.filter((f): f is Extract<Finding, { code: 'alarm-raised' }> => f.code === 'alarm-raised');
  if (alarms.length > 0) return v('alarm', { code: 'alarm', alarms }, { kind: 'disarm', alarms: [...new Set(alarms.map((a) => a.alarm))] });
  return v('healthy', { code: 'starts', members: i.members, dbRebuiltFromWal: main?.db.kind === 'new' }, { kind: 'none' });
}
