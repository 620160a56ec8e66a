import { UsageError } from '../../errors.js';
import { runRepair } from '../../repair/run.js';
import { type FormatFlags, addFormatOptions, outputFormat } from '../options.js';
import { ask, err, isTTY, out } from '../output.js';
import type { DoctorCommand } from '../program.js';
import { describePlan } from '../render/plan.js';
import { progressFor } from '../render/progress.js';
import { renderRepair, repairExitCode } from '../render/repair.js';

interface RepairFlags extends FormatFlags {
  dryRun?: boolean;
  yes?: boolean;
  auto?: boolean;
  allowEntryLoss?: boolean;
  bridge?: boolean;
  backupDir?: string;
}

export function registerRepair(program: DoctorCommand): void {
  const cmd = program
    .command('repair')
    .description('cut the WAL after its last good record so etcd starts again; backs up first, undo with `wal-doctor undo`')
    .argument('<data-dir>', 'the etcd data dir (or its member/ dir); etcd must not be running on it')
    .option('-n, --dry-run', 'print the plan and change nothing')
    .option('-y, --yes', 'apply without asking (needed when stdin is not a terminal)')
    .option('--auto', 'for ExecStartPre / init containers: apply only repairs that lose nothing etcd acknowledged, else change nothing and fail')
    .option('--allow-entry-loss', 'accept dropping valid entries that follow the damage (later segments are moved to the backup)')
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

Exit codes: 0 repaired (or nothing to do), 1 declined at the question, 2 refused (needs a human),
64 usage, 66 not found, 74 I/O, 75 etcd (or another repair) holds the dir.`,
    )
    .action(async (dataDir: string, o: RepairFlags) => {
      const asJson = outputFormat(o, ['simple', 'json']) === 'json';
      if (o.auto && o.bridge) throw new UsageError('--auto never bridges: run repair --bridge by hand after reading its plan');
      const outcome = await runRepair(
        dataDir,
        {
          ...(o.dryRun !== undefined ? { dryRun: o.dryRun } : {}),
          ...(o.auto !== undefined ? { auto: o.auto } : {}),
          ...(o.allowEntryLoss !== undefined ? { allowEntryLoss: o.allowEntryLoss } : {}),
          ...(o.bridge !== undefined ? { bridge: o.bridge } : {}),
          ...(o.backupDir !== undefined ? { backupDir: o.backupDir } : {}),
        },
        {
          onPlan: (plan) => {
            if (!asJson) out(describePlan(plan));
          },
          ...(o.yes || o.auto ? {} : { confirm }),
          progress: () => {
            const bar = progressFor({ json: asJson });
            return { ...bar.options, done: () => bar.done() };
          },
        },
      );
      const said = renderRepair(outcome, asJson);
      out(said.stdout);
      err(said.stderr);
      return repairExitCode(outcome);
    });
}

/** The question before the first write: only a person at a terminal can answer it. */
async function confirm(): Promise<boolean> {
  if (!isTTY.stdin()) throw new UsageError('not applying without confirmation: pass --yes (or --auto) when stdin is not a terminal');
  const answer = await ask('apply this plan? a backup is made first [y/N] ');
  return /^y(es)?$/i.test(answer.trim());
}
