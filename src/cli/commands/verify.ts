import type { Command } from 'commander';
import { inspectPath } from '../../inspect/analyze.js';
import { type AnalysisFlags, analysisOptions, collect } from '../options.js';
import { renderVerify } from '../render/report.js';
import { writeJson } from '../render/json.js';
import { reportForJson } from '../render/verdict.js';
import { progressFor } from '../render/progress.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('same analysis as inspect, terse, for scripts; exit 0 healthy, 1 repairable, 2 needs rebuild')
    .argument('<path>', 'data dir (or member dir, wal dir, .wal, .snap, db)')
    .option('--json', 'print the report as one JSON object')
    .option('--peer-dir <dir>', 'a data dir of one of this member\'s peers (repeat for each): is this member behind what the cluster committed?', collect)
    .option('--wal-dir <dir>', 'WAL directory kept outside the data dir')
    .option('--etcd-version <v>', 'judge for this etcd release line: 3.4, 3.5 or 3.6')
    .action(async (path: string, o: AnalysisFlags) => {
      const progress = progressFor(o);
      const analysis = inspectPath(path, { ...(await analysisOptions(o)), ...progress.options });
      progress.done();
      if (o.json) writeJson(reportForJson(analysis));
      else process.stdout.write(renderVerify(analysis));
      process.exitCode = analysis.report.verdict.exitCode;
    });
}
