import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { diffDirs } from '../../diff/diff.js';
import { renderDiff } from '../../diff/render.js';
import { writeJson } from '../render/json.js';

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare members\' data dirs: first divergent raft index, entries one lacks, HardState/snapshots, KV hash per member; exit 0 consistent, 1 divergent')
    .argument('<data-dir>', 'a member\'s data dir')
    .argument('<data-dir...>', 'the other members\' data dirs')
    .option('--revision <rev>', 'revision for the KV hashes (default: the highest revision every member\'s db has)')
    .option('--json', 'print the report as one JSON object')
    .action(async (first: string, rest: string[], o: { revision?: string; json?: boolean }) => {
      if (o.revision !== undefined && !/^[1-9]\d*$/.test(o.revision)) throw new UsageError(`--revision: expected a positive integer, got '${o.revision}'`);
      const report = diffDirs([first, ...rest], o.revision !== undefined ? { revision: BigInt(o.revision) } : {});
      if (o.json) {
        // zod only for --json: the report is checked against its published schema before it is printed.
        const { DiffReport } = await import('../../diff/schema.js');
        writeJson(DiffReport.parse(report));
      } else process.stdout.write(renderDiff(report));
      process.exitCode = report.exitCode;
    });
}
