/**
 * Texts the help, the man page and `--version` share: the etcd releases every claim was checked
 * against, the exit codes, and examples. Kept here so `wal-doctor --help`, `docs/wal-doctor.1`
 * (generated from the help by `npm run man`) and the README say the same.
 */
import { ExitCode } from '../errors.js';

/** The etcd releases the fixtures were written and booted with (scripts/etcd-bin.sh). */
export const ETCD_CHECKED = ['3.4.23', '3.5.30', '3.6.16', '3.7.3'] as const;

/** The exit codes, as a table for --help and the man page. */
export const EXIT_CODES: readonly (readonly [number, string])[] = [
  [ExitCode.healthy, 'healthy: etcd starts as is (diff: the members are consistent)'],
  [ExitCode.repairable, 'repairable: `wal-doctor repair` (a cut after the last good record) fixes it'],
  [ExitCode.needsRebuild, 'needs rebuild: truncating alone would lose data (rebuild, or repair --bridge on one member)'],
  [3, 'diff: a member is behind (stopped, its log a prefix of the others\'): it catches up when started'],
  [4, 'diff: a member holds an uncommitted tail raft replaces when it rejoins (split)'],
  [5, 'diff: committed entries or KV hashes differ (corruption): replace the odd member'],
  [ExitCode.alarm, 'alarm: etcd starts and serves reads but refuses writes (NOSPACE or CORRUPT raised): start it, then free space and disarm'],
  [ExitCode.usage, 'usage error (bad flag or argument)'],
  [ExitCode.notFound, 'path not found, or not an etcd data dir / file'],
  [70, 'internal error (a bug; WAL_DOCTOR_DEBUG=1 prints the stack)'],
  [ExitCode.io, 'I/O error (permission denied, read failure)'],
  [ExitCode.locked, 'in use: a running etcd (or another repair) holds the dir: do not start etcd, do not repair'],
];

export function exitCodeHelp(): string {
  return ['Exit codes:', ...EXIT_CODES.map(([c, s]) => `  ${String(c).padStart(3)}  ${s}`)].join('\n');
}

export const PROGRAM_EXAMPLES = `Examples:
  wal-doctor inspect /var/lib/etcd            full report; the verdict is the first line
  wal-doctor verify /var/lib/etcd; echo $?    terse, for scripts: the exit code is the verdict
  wal-doctor verify -w json /var/lib/etcd     the same as JSON (also -o json, --json)
  wal-doctor repair --dry-run /var/lib/etcd   the plan, nothing changed
  wal-doctor repair --auto /var/lib/etcd      before etcd starts (systemd ExecStartPre, initContainer)
  wal-doctor export --k8s /var/lib/etcd | jq -c .summary
  wal-doctor diff /backup/a /backup/b /backup/c
  wal-doctor completion bash > /etc/bash_completion.d/wal-doctor

Output: -w simple (default: text), -w table (boxed tables, as etcdctl -w table),
-w json (one object; --json and -o json say the same). Colour only on a terminal,
never with NO_COLOR set.`;

export function versionText(tool: string): string {
  return `wal-doctor ${tool}\nchecked against etcd ${ETCD_CHECKED.join(', ')}\nnode ${process.version}`;
}
