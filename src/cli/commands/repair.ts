import { type FormatFlags, addFormatOptions } from '../options.js';
import type { DoctorCommand } from '../program.js';

export interface RepairFlags extends FormatFlags {
  dryRun?: boolean;
  yes?: boolean;
  auto?: boolean;
  allowEntryLoss?: boolean;
  bridge?: boolean;
  backupDir?: string;
}

/** `wal-doctor repair`: its flags and help; what it does is in repair-action.ts, loaded when it runs. */
export function registerRepair(program: DoctorCommand): void {
  const cmd = program
    .command('repair')
    .description('cut the WAL after its last good record so etcd starts again; backs up first, undo with `wal-doctor undo`')
    .argument('<data-dir>', 'the etcd data dir (or its member/ dir); etcd must not be running on it')
    .option('-n, --dry-run', 'print the plan and change nothing')
    .option('-y, --yes', 'apply without asking (needed when stdin is not a terminal)')
    .option('--auto', 'for ExecStartPre / init containers: apply only repairs that lose nothing etcd acknowledged, else change nothing and fail')
    .option('--allow-entry-loss', 'accept dropping valid entries: those after the damage (later segments are moved to the backup), and those a zero length word hides that nothing brings back (cut from the log)')
    .option('--bridge', 'single member: append empty entries up to the db consistent index so new writes are not skipped')
    .option('--backup-dir <dir>', 'where to put the backup (default: beside the data dir, named with a timestamp)');
  addFormatOptions(cmd, ['simple', 'json'])
    .addHelpText(
      'after',
      `
Examples:
  wal-doctor repair --dry-run /var/lib/etcd      the plan; nothing changes
  wal-doctor repair /var/lib/etcd                 the plan, a question, a backup, then the cut
  wal-doctor repair --auto /var/lib/etcd          unattended: only repairs that lose nothing acknowledged
  wal-doctor undo /var/lib/etcd.wal-doctor-backup-<time>

Exit codes: 0 repaired (or nothing to do in the files), 1 declined at the question, 2 refused (needs
a human) or undone (the result would still not start, or still need a rebuild), 6 repaired but an alarm stays raised (writes refused until disarmed), 64 usage, 66 not found, 74 I/O, 75 etcd (or another repair) holds the dir.`,
    )
    .action(async (dataDir: string, o: RepairFlags) => (await import('./repair-action.js')).repairAction(dataDir, o));
}
