import type { Command } from 'commander';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the --json report of inspect/verify (or of an export line)')
    .option('--export', 'the schema of one `wal-doctor export` line instead')
    .action(async (o: { export?: boolean }) => {
      // zod is loaded only here (and for flags that need validating), not on every start.
      const schema = o.export ? (await import('../../export/ndjson-schema.js')).exportJsonSchema() : (await import('../../inspect/report.js')).reportJsonSchema();
      process.stdout.write(JSON.stringify(schema, null, 2) + '\n');
    });
}
