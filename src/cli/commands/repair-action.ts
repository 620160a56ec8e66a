import { UsageError } from '../../errors.js';
import { runRepair } from '../../repair/run.js';
import { outputFormat } from '../options.js';
import { ask, err, isTTY, out } from '../output.js';
import { describePlan } from '../render/plan.js';
import { progressFor } from '../render/progress.js';
import { renderRepair, repairExitCode } from '../render/repair.js';
import type { RepairFlags } from './repair.js';

/** `wal-doctor repair`: the plan, the question, the backup and the cut (repair/run.ts); the outcome's exit code. */
export async function repairAction(dataDir: string, o: RepairFlags): Promise<number> {
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
}

/** The question before the first write: only a person at a terminal can answer it. */
async function confirm(): Promise<boolean> {
  if (!isTTY.stdin()) throw new UsageError('not applying without confirmation: pass --yes (or --auto) when stdin is not a terminal');
  const answer = await ask('apply this plan? a backup is made first [y/N] ');
  return /^y(es)?$/i.test(answer.trim());
}
