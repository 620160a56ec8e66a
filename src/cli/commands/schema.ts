import type { Command } from 'commander';
import { reportJsonSchema } from '../../inspect/report.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the --json report of inspect and verify')
    .action(() => {
      process.stdout.write(JSON.stringify(reportJsonSchema(), null, 2) + '\n');
    });
}
