import type { Command } from 'commander';
import { inspectPath } from '../../inspect/analyze.js';
import { type AnalysisFlags, analysisOptions } from '../options.js';
import { renderReport } from '../render/report.js';
import { writeJson } from '../render/json.js';
import { progressFor } from '../render/progress.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('full report on a data dir, member dir, wal dir, .wal, .snap or db file')
    .argument('<path>', 'what to inspect')
    .option('--json', 'print the report as one JSON object (see `wal-doctor schema`)')
    .option('--wal-dir <dir>', 'WAL directory kept outside the data dir (etcd --wal-dir)')
    .option('--etcd-version <v>', 'judge for this etcd release line: 3.4, 3.5 or 3.6 (default: the one that wrote the dir)')
    .action(async (path: string, o: AnalysisFlags) => {
      const progress = progressFor(o);
      const { report } = inspectPath(path, { ...(await analysisOptions(o)), ...progress.options });
      progress.done();
      if (o.json) writeJson(report);
      else process.stdout.write(renderReport(report, { color: useColor() }));
      process.exitCode = report.verdict.exitCode;
    });
}

export function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env['NO_COLOR'];
}
