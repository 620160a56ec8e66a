/**
 * The verdict in words: a one-line headline from the typed reason, and the next step as a command
 * line. Shared by inspect, verify, repair's after-check, `--json` and the terminal UI.
 */
import type { Analysis } from '../../inspect/analyze.js';
import { failureText, stallHead, stallText } from '../../inspect/etcd-texts.js';
import type { BootFailure } from '../../inspect/predict.js';
import type { ReconcileSkip, Report } from '../../inspect/report.js';
import type { NextStep, Verdict, VerdictReason } from '../../inspect/verdict.js';
import { findingJson, findingMessage } from './findings.js';

export interface VerdictWords {
  headline: string;
  nextStep: string;
}

/** Which releases each prediction was checked against. */
export const VERSION_DETAIL: Record<string, string> = {
  '3.4': '3.4.8 and later (checked against 3.4.23)',
  '3.5': '3.5.7 and later (checked against 3.5.30)',
  '3.6': '3.6 (checked against 3.6.16)',
  '3.7': '3.7 (checked against 3.7.3)',
};

function failureWords(f: BootFailure, v: string, dir: string): string {
  const says = failureText(f, v as '3.5', dir);
  const what = says.log && says.log !== says.error && !['panic', 'fatal error: fault'].includes(says.log) ? `${says.log}: ${says.error}` : says.error;
  switch (f.code) {
    case 'db-open':
      return `etcd ${v} cannot open member/snap/db (${what})`;
    case 'db-restore':
      return `etcd ${v} opens member/snap/db but dies reading it back (${what})`;
    case 'apply-fails':
      return `etcd ${v} panics applying entry ${f.entry.index}${f.problem.kind === 'unknown-type' ? ` (entry type ${f.problem.entryType})` : ''} (${what})`;
    case 'snap-db-missing':
      return `etcd ${v} will not start: it loads ${f.snapshot.name}, newer than ${f.dbAbsent ? 'the missing db' : 'the db'} (${what})`;
    default:
      return `etcd ${v} will not start: ${what}`;
  }
}

export function reasonWords(r: VerdictReason, a: Analysis): string {
  const v = a.report.verdict.etcdVersion;
  const main = a.predictions.find((p) => p.version === v);
  const dir = a.report.path;
  switch (r.code) {
    case 'starts': {
      const quorum = r.members > 1 ? ` (as one of ${r.members} members it serves once ${Math.floor(r.members / 2) + 1} of them run)` : '';
      return `etcd ${v} will start as is${quorum}${r.dbRebuiltFromWal ? '; member/snap/db is missing and etcd rebuilds it from the WAL' : ''}`;
    }
    case 'in-use':
      return `etcd is running on this dir now: ${r.file} is held by ${r.command ?? 'a process'}${r.pid !== undefined ? ` (pid ${r.pid})` : ''}; nothing here is safe to act on until it stops`;
    case 'file':
      return r.first ? findingMessage(r.first) + (r.problems > 1 ? ` (and ${r.problems - 1} more)` : '') : 'no damage found in this file';
    case 'no-wal':
      return 'no WAL segment: etcd would start a brand-new, empty member on this dir';
    case 'wal-damaged': {
      const how = !main ? '' : main.outcome === 'fails' && main.failure ? `; ${failureWords(main.failure, v, dir)}` : main.outcome === 'self-repairs' ? `; etcd ${v} would repair this itself, truncating ${main.repair?.segment} at byte ${main.repair?.truncateAt}` : `; etcd ${v} starts`;
      return `WAL damaged at ${r.segment} at byte ${r.offset}${how}`;
    }
    case 'db-ahead':
      return `${r.damage ? `WAL damaged at ${r.damage.segment} byte ${r.damage.offset}; ` : ''}the usable log ends at index ${r.lastIndex ?? '?'} but the db has applied up to ${r.consistentIndex}: truncating alone would lose writes`;
    case 'etcd-fails':
      return failureWords(r.failure, v, dir);
    case 'etcd-stalls':
      return `etcd ${v} starts but ${stallHead(r.stall)}: ${stallText(r.stall)}`;
    case 'records-hidden': {
      const hides = `a zero length word at ${r.hazard.segment} byte ${r.hazard.offset} hides ${r.hazard.records} ${r.hazard.unchained ? 'record(s) whose CRC chain cannot be checked (the record before them is destroyed), the log\'s next entries' : 'valid record(s)'} (${r.hazard.entries} entries${r.hazard.first !== undefined ? `, index ${r.hazard.first}..${r.hazard.last}` : ''}${r.hazard.committed > 0 ? `, ${r.hazard.committed} acknowledged as committed` : ''})`;
      if (r.afterSetAside && main?.failure) {
        const aside = r.afterSetAside === 'db' ? `with its db and .snap files set aside etcd ${v} would replay the log into a new db` : `with the .snap files newer than the db set aside etcd ${v} would replay the log from an older point`;
        return `${failureWords(main.failure, v, dir)}; ${aside}, but ${hides}: it would start without them`;
      }
      return `${hides}: etcd ${v} starts without them`;
    }
    case 'behind-cluster':
      return `this member's log ends at index ${r.lastIndex} but its peers committed ${r.commit}: a copy put back from a backup while the cluster ran on makes raft panic (tocommit(${r.commit}) is out of range [lastIndex(${r.lastIndex})]); only a member that was merely stopped catches up by itself`;
    case 'two-histories':
      return `the db and the WAL tell two histories: ${r.mismatches} key(s) the log wrote at indexes the db has applied hold something else in the db (${r.keys.slice(0, 3).join(', ')}${r.keys.length > 3 ? ', ...' : ''}); etcd ${v} would start and serve the db's`;
    case 'alarm': {
      const names = [...new Set(r.alarms.map((x) => x.alarm))].join(' and ');
      const by = r.alarms.map((x) => `${x.alarm} by ${x.memberId}${x.index !== null ? ` (WAL entry ${x.index})` : ''}`).join(', ');
      return `etcd ${v} will start and serve reads, but the ${names} alarm stays raised (${by}): it refuses every write until the alarm is disarmed`;
    }
    case 'finding':
      return findingMessage(r.finding);
  }
}

export function nextStepWords(n: NextStep, dir: string): string {
  switch (n.kind) {
    case 'none':
      return 'nothing to do';
    case 'wait':
      return `stop etcd${n.pid !== undefined ? ` (pid ${n.pid})` : ''} first, then run wal-doctor verify ${dir} again`;
    case 'inspect-dir':
      return 'judge the whole data dir: wal-doctor inspect <data-dir>';
    case 'wal-dir-or-rebuild': {
      const otherwise =
        n.db === 'nothing' ? 'otherwise nothing here is worth keeping (no WAL, no key in the db: a first start cut short, as a power cut during bootstrap leaves): move the dir aside and start etcd again (a member of a cluster: etcdctl member remove it, member add it back, start it with --initial-cluster-state existing)'
        : n.db === 'unreadable' ? 'otherwise restore from a backup (etcdutl snapshot restore) or re-add this member: the db cannot be read whole (wal-doctor inspect names the damage; wal-doctor rebuild --salvage keeps what it can read)'
        : `otherwise rebuild from the db: wal-doctor rebuild --from ${dir} --out <new-dir>`;
      return `if etcd runs with --wal-dir, pass the same: wal-doctor inspect --wal-dir <dir> ${dir}; ${otherwise}`;
    }
    case 'repair': {
      const cmd = ['wal-doctor repair', ...n.flags, dir].join(' ');
      const what: Record<typeof n.what, string> = {
        cut: n.flags.includes('--allow-entry-loss') ? `valid records after the damage are lost; wal-doctor repair --dry-run ${dir} lists them` : `truncates after the last good record; wal-doctor repair --dry-run ${dir} shows the plan`,
        commit: 'appends a HardState that commits only what the log holds',
        'snaps-aside': 'sets the .snap files newer than the db aside, so etcd starts from an older one or replays the WAL',
        'db-aside': 'sets the damaged db (and the .snap files) aside: etcd rebuilds the keyspace by replaying the WAL from index 1',
        'recover-hidden': 'restores the zeroed length word so etcd reads the records after it',
        'rewrite-entries': 'replaces the entries etcd cannot apply with empty entries at the same index and term',
        leftovers: `wal-doctor repair --dry-run ${dir} shows what it would do`,
      };
      // (db-aside and snaps-aside take the flag only when the log they replay stops at a zero length word)
      const lost = n.flags.includes('--allow-entry-loss') && (n.what === 'db-aside' || n.what === 'snaps-aside') ? `; the records a zero length word hides are cut from the log and lost (wal-doctor repair --dry-run ${dir} lists them)` : '';
      return `${cmd}  (${what[n.what]}${lost})`;
    }
    case 'bridge-or-rebuild':
      return `wal-doctor repair ${n.allowEntryLoss ? '--allow-entry-loss ' : ''}--bridge ${dir} (single member: keeps everything the db holds); or rebuild from the db: wal-doctor rebuild --from ${dir} --out <new-dir>`;
    case 'rebuild':
      return `rebuild a data dir from the db: wal-doctor rebuild --from ${dir} --out <new-dir> (see wal-doctor rebuild --help)`;
    case 'replace-member':
      return `this member is one of ${n.members}: remove it from the cluster and add it back (etcdctl member remove, then member add and start it on an empty data dir) so it syncs from the leader; or rebuild: wal-doctor rebuild --from ${dir} --out <new-dir>`;
    case 'restore-backup':
      return n.why === 'db-unreadable'
        ? `the db's consistent index cannot be read (wal-doctor inspect names the damage), so nothing here can be rebuilt or replayed safely: restore the latest backup with etcdutl snapshot restore, or re-add this member if it has peers`
        : `nothing here holds the keyspace any more (no db, and the WAL does not start at index 1): restore the latest backup with etcdutl snapshot restore`;
    case 'choose-history':
      return `nothing here picks one history for you: see both with wal-doctor export ${dir} (the log's writes) and etcdctl get on a copy (the db's); to keep the db's, rebuild from it: wal-doctor rebuild --from ${dir} --out <new-dir>${n.walFromStart ? `; to keep the log's, move member/snap/db (and member/snap/*.snap) out of the way: etcd replays the WAL from index 1` : ''}`;
    case 'disarm': {
      const space = n.alarms.includes('NOSPACE')
        ? 'free space first (etcdctl compact <current revision>; etcdctl defrag; or raise --quota-backend-bytes, default 2 GiB), then'
        : 'find which member diverged first (wal-doctor diff on the members\' dirs; etcdctl endpoint hashkv), then';
      return `start etcd (reads are served; writes are refused), ${space} etcdctl alarm disarm; etcdctl alarm list shows what is raised`;
    }
    case 'newer-etcd':
      return `run etcd ${n.clusterVersion.split('.').slice(0, 2).join('.')} or newer on this dir (it was last run by a cluster at version ${n.clusterVersion})`;
  }
}

export function verdictWords(a: Analysis, verdict: Verdict = a.verdict): VerdictWords {
  return { headline: reasonWords(verdict.reason, a), nextStep: nextStepWords(verdict.next, a.report.path) };
}

/** The report's typed verdict as JSON, the finding its reason names (if any) with its words as every finding has. */
export function verdictJson(a: Analysis): Report['verdict'] {
  const v = a.report.verdict;
  const r = a.verdict.reason;
  const reason = r.code === 'file' && r.first ? { ...v.reason, first: findingJson(r.first) } : r.code === 'finding' ? { ...v.reason, finding: findingJson(r.finding) } : v.reason;
  return { ...v, reason };
}

/** The report as `--json` prints it: the typed findings and verdict plus their words. */
export function reportForJson(a: Analysis): unknown {
  const r = a.report.reconciliation;
  // `skipped` in words where it always was, before the typed reason.
  const reconciliation = r && { keys: r.keys, checked: r.checked, ambiguous: r.ambiguous, truncated: r.truncated, skipped: r.skippedBecause ? reconcileSkipWords(r.skippedBecause) : null, skippedBecause: r.skippedBecause, mismatches: r.mismatches, first: r.first };
  return { ...a.report, reconciliation, findings: a.report.findings.map(findingJson), verdict: { ...verdictJson(a), ...verdictWords(a) } };
}

/** Why the WAL/db comparison was not made, in words. */
export function reconcileSkipWords(s: ReconcileSkip): string {
  switch (s.code) {
    case 'overwritten':
      return 'new leaders rewrote indexes the db had applied more than 64 times: what the db should hold is not worked out';
    case 'log-ends-below-applied':
      return `the log reads only up to index ${s.readTo} (damage or a zeroed length word), below the db's consistent index ${s.consistentIndex}: later writes to the same keys are not known`;
    case 'bridged':
      return `the log holds an empty entry inside a term at index ${s.index} (a bridge over entries a repair could not keep): the writes they carried are in the db only`;
  }
}
