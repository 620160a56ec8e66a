import type { DoctorCommand } from '../program.js';
import type { AnalysisFlags } from '../options.js';

/** `wal-doctor explore`: its flags and help; what it does is in explore-action.ts, loaded when it runs. */
export function registerExplore(program: DoctorCommand): void {
  program
    .command('explore')
    .description('interactive terminal UI: overview, segments, records, one record in hex and JSON')
    .argument('<path>', 'data dir (or member dir, wal dir, .wal file)')
    .option('--wal-dir <dir>', 'WAL directory kept outside the data dir')
    .option('--etcd-version <v>', 'judge for this etcd release line: 3.4, 3.5, 3.6 or 3.7')
    .action(async (path: string, o: Omit<AnalysisFlags, 'json'>) => (await import('./explore-action.js')).exploreAction(path, o));
}
