import { UsageError } from '../../errors.js';
import { verdictWords } from '../render/verdict.js';
import { inspectPath } from '../../inspect/analyze.js';
import { acquireRepairLock, assertNotHeld, lockEtcdFiles, type EtcdFileLocks } from '../../io/locks.js';
import { gatherRepairFacts } from '../../repair/facts.js';
import { planRepair } from '../../repair/plan.js';
import { describePlan } from '../render/plan.js';
import { json } from '../render/json.js';
import { ask, err, isTTY, out } from '../output.js';
import type { DoctorCommand } from '../program.js';
import { progressFor } from '../render/progress.js';
import { type FormatFlags, addFormatOptions, outputFormat } from '../options.js';

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
      o.json = outputFormat(o, ['simple', 'json']) === 'json';
      if (o.auto && o.bridge) throw new UsageError('--auto never bridges: run repair --bridge by hand after reading its plan');
      // Our lock first (another wal-doctor), then the locks etcd itself takes (the db's flock, the
      // WAL's OFD locks): held until we are done, so a running etcd makes this fail and a starting
      // one waits at its db open. Then the /proc look for anything else writing there.
      const lock = o.dryRun ? undefined : await acquireRepairLock(dataDir);
      let etcdLocks: EtcdFileLocks | undefined;
      try {
        if (!o.dryRun) {
          etcdLocks = await lockEtcdFiles(dataDir);
          assertNotHeld(dataDir, etcdLocks.holderOptions);
        }
        const progress = progressFor(o);
        const analysis = inspectPath(dataDir, { ...progress.options, checkHolders: o.dryRun === true });
        progress.done();
        const plan = planRepair(analysis, gatherRepairFacts(analysis), {
          allowEntryLoss: o.allowEntryLoss ?? false,
          bridge: o.bridge ?? false,
          auto: o.auto ?? false,
        });
        const say = (extra: Record<string, unknown>) => {
          if (o.json) out(json({ plan, ...extra }));
        };
        if (!o.json) out(describePlan(plan));
        if (plan.noop) {
          say({ outcome: 'nothing-to-do' });
          return 0;
        }
        if (plan.refusal) {
          say({ outcome: 'refused' });
          return plan.refusal.exitCode;
        }
        if (o.dryRun) {
          say({ outcome: 'dry-run' });
          return 0;
        }
        if (!o.yes && !o.auto) {
          if (!isTTY.stdin()) throw new UsageError('not applying without confirmation: pass --yes (or --auto) when stdin is not a terminal');
          const answer = await ask('apply this plan? a backup is made first [y/N] ');
          if (!/^y(es)?$/i.test(answer.trim())) {
            err('nothing changed\n');
            return 1;
          }
        }
        assertNotHeld(dataDir, etcdLocks?.holderOptions ?? {});
        lock?.assertHeld();
        const beforeRename = etcdLocks ? (fd: number, tmp: string) => etcdLocks!.adopt(fd, tmp) : undefined;
        // The writer (and its zod manifest schema) is loaded only when something is written.
        const { applyPlan } = await import('../../repair/apply.js');
        const { undo } = await import('../../io/backup.js');
        const result = applyPlan(plan, { ...(o.backupDir !== undefined ? { backupDir: o.backupDir } : {}), beforeRename });
        const checking = progressFor(o);
        const afterAnalysis = inspectPath(dataDir, { ...checking.options, checkHolders: false });
        const after = afterAnalysis.report;
        checking.done();
        const decider = after.etcd.find((e) => e.version === after.verdict.etcdVersion);
        if (decider?.outcome === 'fails') {
          // The plan was sound by every rule we know, yet etcd would still refuse the result: put
          // everything back rather than leave a dir worse off than we found it.
          undo(result.backupDir, { beforeRename });
          if (o.json) say({ outcome: 'undone', backupDir: result.backupDir, reason: decider.error, verdictAfter: after.verdict });
          else out(`the repaired dir would still not start (etcd ${decider.version}: ${decider.error}); undone from ${result.backupDir}, nothing changed\n`);
          return 2;
        }
        if (o.json) say({ outcome: 'applied', backupDir: result.backupDir, applied: result.applied, verdictAfter: after.verdict });
        else {
          out(`applied ${result.applied.length} step(s); originals saved in ${result.backupDir}\n`);
          out(`undo with: wal-doctor undo ${result.backupDir}\n`);
          out(`now: ${after.verdict.status} — ${verdictWords(afterAnalysis).headline}\n`);
        }
        return after.verdict.exitCode;
      } finally {
        await etcdLocks?.release();
        await lock?.release();
      }
    });
}
