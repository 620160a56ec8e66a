import type { Command } from 'commander';
import { exportJsonSchema } from '../../export/ndjson.js';
import { reportJsonSchema } from '../../inspect/report.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the --json report of inspect/verify (or of an export line)')
    .option('--export', 'the schema of one `wal-doctor export` line instead')
    .action((o: { export?: boolean }) => {
      process.stdout.write(JSON.stringify(o.export ? exportJsonSchema() : reportJsonSchema(), null, 2) + '\n');
    });
}
