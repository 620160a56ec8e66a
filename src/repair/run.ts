/**
 * A repair from start to end, as `wal-doctor repair` runs it: hold the dir, analyse, plan, ask,
 * back up and apply, analyse again, and put everything back when etcd would still refuse the
 * result. The caller chooses the words (cli/render/repair.ts) and the question (`confirm`); this
 * returns what happened.
 */
import { inspectPath, type Analysis } from '../inspect/analyze.js';
import type { Hazard } from '../inspect/predict.js';
import type { Report } from '../inspect/report.js';
import { gatherRepairFacts } from './facts.js';
import { withDataDirHeld } from './hold.js';
import { planRepair, type RepairOptions, type RepairPlan } from './plan.js';

export interface RunRepairOptions extends Partial<RepairOptions> {
  /** Plan only: no lock is taken and nothing is written. */
  dryRun?: boolean;
  /** Where the backup goes (default: beside the data dir, named with a timestamp). */
  backupDir?: string;
}

/** A progress bar for one analysis: its callback, and `done` when the analysis ends. */
export interface AnalysisProgress {
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  done(): void;
}

export interface RepairHooks {
  /** The plan, as soon as it is made: before the question and before anything is written. */
  onPlan?(plan: RepairPlan): void;
  /** Asked before the first write; false changes nothing. Without it, a plan that can be applied is. */
  confirm?(plan: RepairPlan): Promise<boolean>;
  /** Called once for each analysis (before and after the repair). */
  progress?(): AnalysisProgress;
}

type HiddenRecords = Extract<Hazard, { code: 'records-hidden' }>;

export type RepairOutcome =
  /** The dir is healthy: etcd starts as is. */
  | { outcome: 'nothing-to-do'; plan: RepairPlan }
  /** The plan must not be applied as asked (`plan.refusal` says why). */
  | { outcome: 'refused'; plan: RepairPlan }
  | { outcome: 'dry-run'; plan: RepairPlan }
  /** `confirm` said no. */
  | { outcome: 'declined'; plan: RepairPlan }
  /**
   * Applied, yet etcd `etcdVersion` would still fail (`reason`), or the dir would still need a
   * rebuild (`verdictAfter`; `startsWithout`: etcd would start without records a zero length word
   * hides): every file was put back from `backupDir`.
   */
  | { outcome: 'undone'; plan: RepairPlan; backupDir: string; etcdVersion: string; reason: string | null; startsWithout?: HiddenRecords; verdictAfter: Report['verdict']; analysisAfter: Analysis }
  | { outcome: 'applied'; plan: RepairPlan; backupDir: string; applied: string[]; verdictAfter: Report['verdict']; analysisAfter: Analysis };

/**
 * Repair `dataDir`. Throws (LockedError, UsageError from `confirm`, I/O errors) only before the
 * first write or when a write fails; everything else is an outcome.
 */
export async function runRepair(dataDir: string, options: RunRepairOptions = {}, hooks: RepairHooks = {}): Promise<RepairOutcome> {
  const planned = (checkHolders: boolean): RepairPlan => {
    const analysis = analyse(dataDir, checkHolders, hooks);
    const plan = planRepair(analysis, gatherRepairFacts(analysis), {
      allowEntryLoss: options.allowEntryLoss ?? false,
      bridge: options.bridge ?? false,
      auto: options.auto ?? false,
    });
    hooks.onPlan?.(plan);
    return plan;
  };
  const settled = (plan: RepairPlan): RepairOutcome | undefined =>
    plan.noop ? { outcome: 'nothing-to-do', plan } : plan.refusal ? { outcome: 'refused', plan } : undefined;

  // A dry run takes no lock, so it looks for a process holding the dir itself.
  if (options.dryRun) {
    const plan = planned(true);
    return settled(plan) ?? { outcome: 'dry-run', plan };
  }
  return withDataDirHeld(dataDir, async (held) => {
    const plan = planned(false);
    const done = settled(plan);
    if (done) return done;
    if (hooks.confirm && !(await hooks.confirm(plan))) return { outcome: 'declined', plan };
    held.recheck();
    // The writer (and its zod manifest schema) is loaded only when something is written.
    const { applyPlan } = await import('./apply.js');
    const { undo } = await import('../io/backup.js');
    const beforeRename = held.beforeRename;
    const result = applyPlan(plan, { ...(options.backupDir !== undefined ? { backupDir: options.backupDir } : {}), beforeRename });
    const analysisAfter = analyse(dataDir, false, hooks);
    const after = analysisAfter.report;
    const decider = after.etcd.find((e) => e.version === after.verdict.etcdVersion);
    if (decider?.outcome === 'fails') {
      // The plan was sound by every rule we know, yet etcd would still refuse the result: put
      // everything back rather than leave a dir worse off than we found it.
      undo(result.backupDir, { beforeRename });
      return { outcome: 'undone', plan, backupDir: result.backupDir, etcdVersion: decider.version, reason: decider.error, verdictAfter: after.verdict, analysisAfter };
    }
    // Nor one a rebuild is left to fix: etcd starting and silently dropping writes the plan did
    // not give up (records a zero length word hides, that the dir's first state kept from view:
    // etcd failed before reading that far, or the db set aside held them), or a log the db is
    // ahead of. A repair is applied only to make etcd start and serve.
    if (after.verdict.status === 'needs-rebuild') {
      undo(result.backupDir, { beforeRename });
      const reason = analysisAfter.verdict.reason;
      return { outcome: 'undone', plan, backupDir: result.backupDir, etcdVersion: after.verdict.etcdVersion, reason: null, ...(reason.code === 'records-hidden' ? { startsWithout: reason.hazard } : {}), verdictAfter: after.verdict, analysisAfter };
    }
    return { outcome: 'applied', plan, backupDir: result.backupDir, applied: result.applied, verdictAfter: after.verdict, analysisAfter };
  });
}

function analyse(dataDir: string, checkHolders: boolean, hooks: RepairHooks): Analysis {
  const progress = hooks.progress?.();
  const analysis = inspectPath(dataDir, { ...(progress?.onProgress ? { onProgress: progress.onProgress } : {}), checkHolders });
  progress?.done();
  return analysis;
}
