import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { inspectPath } from '../../inspect/analyze.js';
import { type AnalysisFlags, analysisOptions } from '../options.js';
import { progressFor } from '../render/progress.js';

export function registerExplore(program: Command): void {
  program
    .command('explore')
    .description('interactive terminal UI: overview, segments, records, one record in hex and JSON')
    .argument('<path>', 'data dir (or member dir, wal dir, .wal file)')
    .option('--wal-dir <dir>', 'WAL directory kept outside the data dir')
    .option('--etcd-version <v>', 'judge for this etcd release line: 3.4, 3.5, 3.6 or 3.7')
    .action(async (path: string, o: Omit<AnalysisFlags, 'json'>) => {
      if (!process.stdout.isTTY || !process.stdin.isTTY) {
        throw new UsageError(
          `explore needs a terminal (stdin and stdout a TTY); for a report use \`wal-doctor inspect ${path}\`, for the records \`wal-doctor export ${path}\``,
        );
      }
      const progress = progressFor({ json: false });
      const analysis = inspectPath(path, { ...(await analysisOptions(o)), ...progress.options, indexRecords: true });
      progress.done();
      // ink renders nothing until exit when it believes it runs in CI (it reads CI /
      // CONTINUOUS_INTEGRATION once, when first imported). We only get here with a terminal on both
      // ends, so a person is looking: tell ink so before loading it.
      for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) if (k in process.env) process.env[k] = 'false';
      const { runExplore } = await import('../../tui/explore.js');
      await runExplore(analysis, { color: !process.env['NO_COLOR'] });
    });
}
