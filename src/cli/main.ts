/**
 * The command line: commander parses, one command file per verb runs, and this is the one place
 * that turns errors into a single line on stderr and an exit code (no stack traces for users).
 */
import { Command, CommanderError } from 'commander';
import { DoctorError, ExitCode } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { registerDiff } from './commands/diff.js';
import { registerExplore } from './commands/explore.js';
import { registerExport } from './commands/export.js';
import { registerInspect } from './commands/inspect.js';
import { registerRebuild } from './commands/rebuild.js';
import { registerRepair } from './commands/repair.js';
import { registerUndo } from './commands/undo.js';
import { registerSchema } from './commands/schema.js';
import { registerVerify } from './commands/verify.js';

const program = new Command();
program
  .name('wal-doctor')
  .description('Examine and repair etcd data directories after crashes (WAL segments, .snap files, the bbolt db).')
  .version(TOOL_VERSION)
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str) })
  .showHelpAfterError('(run wal-doctor --help for usage)');

registerInspect(program);
registerVerify(program);
registerExport(program);
registerExplore(program);
registerRepair(program);
registerUndo(program);
registerRebuild(program);
registerDiff(program);
registerSchema(program);

// EPIPE on stdout (e.g. `| head`) is a normal end, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = exitCodeFor(e);
}

function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return ExitCode.usage; // commander already printed its one-line message
  }
  if (e instanceof DoctorError) {
    process.stderr.write(`wal-doctor: ${e.message}\n`);
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    process.stderr.write(`wal-doctor: ${err.message}\n`);
    return ExitCode.io;
  }
  // A bug: say so in one line, with the stack only when asked for.
  process.stderr.write(`wal-doctor: internal error: ${err instanceof Error ? err.message : String(e)} (set WAL_DOCTOR_DEBUG=1 for a stack trace)\n`);
  if (process.env['WAL_DOCTOR_DEBUG']) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  return 70;
}
