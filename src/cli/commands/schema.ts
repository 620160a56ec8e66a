import type { DoctorCommand } from '../program.js';
import { out } from '../output.js';

export function registerSchema(program: DoctorCommand): void {
  program
    .command('schema')
    .description('print the JSON Schema of the --json report of inspect/verify (or of an export line)')
    .option('--export', 'the schema of one `wal-doctor export` line instead')
    .action(async (o: { export?: boolean }) => {
      // zod is loaded only here (and for flags that need validating), not on every start.
      const schema = o.export ? (await import('../../export/ndjson-schema.js')).exportJsonSchema() : (await import('../../inspect/report.js')).reportJsonSchema();
      out(JSON.stringify(schema, null, 2) + '\n');
    });
}
