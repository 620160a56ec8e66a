// What repair says once the plan is printed (describePlan, in plan.ts), and its exit code, and
// what undo says: the outcomes themselves are data, returned by repair/run.ts and repair/undo.ts.
import type { UndoResult } from '../../io/backup.js';
import type { RepairOutcome } from '../../repair/run.js';
import { json } from './json.js';
import { planJson } from './plan.js';
import { verdictJson, verdictWords } from './verdict.js';

/** The lines after the plan (simple output), or the one --json object; `stderr` for a note beside them. */
export function renderRepair(r: RepairOutcome, asJson: boolean): { stdout: string; stderr: string } {
  if (r.outcome === 'declined') return { stdout: '', stderr: 'nothing changed\n' };
  if (asJson) return { stdout: json(repairJson(r)), stderr: '' };
  switch (r.outcome) {
    case 'undone': {
      const h = r.startsWithout;
      const why = h
        ? `etcd ${r.etcdVersion} would start without ${h.records} record(s) a zero length word at ${h.segment} byte ${h.offset} hides (${h.entries} entries${h.first !== undefined ? `, index ${h.first}..${h.last}` : ''}${h.committed > 0 ? `, ${h.committed} acknowledged as committed` : ''})`
        : r.reason !== null
          ? `the repaired dir would still not start (etcd ${r.etcdVersion}: ${r.reason})`
          : `the repaired dir would still need a rebuild (${verdictWords(r.analysisAfter).headline})`;
      return { stdout: `${why}; undone from ${r.backupDir}, nothing changed\n`, stderr: '' };
    }
    case 'applied':
      return {
        stdout:
          `applied ${r.applied.length} step(s); originals saved in ${r.backupDir}\n` +
          `undo with: wal-doctor undo ${r.backupDir}\n` +
          `now: ${r.verdictAfter.status} — ${verdictWords(r.analysisAfter).headline}\n`,
        stderr: '',
      };
    default:
      return { stdout: '', stderr: '' }; // the plan said it all
  }
}

/** `--json`: the plan, the outcome, and what the outcome leaves behind (`declined` prints nothing). */
function repairJson(r: Exclude<RepairOutcome, { outcome: 'declined' }>): Record<string, unknown> {
  switch (r.outcome) {
    case 'undone':
      return { plan: planJson(r.plan), outcome: r.outcome, backupDir: r.backupDir, reason: r.reason, startsWithout: r.startsWithout ? { segment: r.startsWithout.segment, offset: r.startsWithout.offset, records: r.startsWithout.records, entries: r.startsWithout.entries, firstIndex: r.startsWithout.first === undefined ? null : `${r.startsWithout.first}`, lastIndex: r.startsWithout.last === undefined ? null : `${r.startsWithout.last}`, committed: r.startsWithout.committed } : null, verdictAfter: verdictJson(r.analysisAfter) };
    case 'applied':
      return { plan: planJson(r.plan), outcome: r.outcome, backupDir: r.backupDir, applied: r.applied, verdictAfter: verdictJson(r.analysisAfter) };
    default:
      return { plan: planJson(r.plan), outcome: r.outcome };
  }
}

/** 0 repaired (or nothing to do, or the dry run), 1 declined, 2 undone, the refusal's code, or the verdict after. */
export function repairExitCode(r: RepairOutcome): number {
  switch (r.outcome) {
    case 'nothing-to-do':
    case 'dry-run':
      return 0;
    case 'refused':
      return r.plan.refusal?.exitCode ?? 2;
    case 'declined':
      return 1;
    case 'undone':
      return 2;
    case 'applied':
      return r.verdictAfter.exitCode;
  }
}

/** What `wal-doctor undo` did, file by file. */
export function renderUndo(r: UndoResult & { dataDir: string }): string {
  return (
    `restored ${r.restored.length} file(s), removed ${r.removed.length}, ${r.unchanged.length} already original, in ${r.dataDir}\n` +
    r.restored.map((f) => `  restored ${f}\n`).join('') +
    r.removed.map((f) => `  removed  ${f}\n`).join('')
  );
}
