/**
 * The command line: commander parses, one command file per verb runs and returns its exit code,
 * and this is the one place that sets the process's exit code, turning errors into a single line
 * on stderr (no stack traces for users).
 * No top-level await: the single-file build (scripts/sea.mjs) bundles this as CommonJS.
 *
 * Start-up is kept to what the arguments need: a bare `--version` is answered before commander
 * and the command tree load, and the tree itself holds only the commands' flags and help, each
 * command's action (and the library behind it) being imported when that command runs.
 */
import type { CommanderError } from 'commander';
import { DoctorError, ExitCode } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { versionText } from './help.js';

// EPIPE on stdout (e.g. `| head`) is a normal end, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for -V/--version (program.ts declares the flag, for --help and the man page).
  process.stdout.write(`${versionText(TOOL_VERSION)}\n`);
} else {
  void run(process.argv);
}

async function run(argv: string[]): Promise<void> {
  const { buildProgram, CommanderError } = await import('./program.js');
  try {
    await buildProgram({
      onExitCode: (code) => {
        process.exitCode = code;
      },
    }).parseAsync(argv);
  } catch (e) {
    process.exitCode = exitCodeFor(e, CommanderError);
  }
}

function exitCodeFor(e: unknown, commanderError: typeof CommanderError): number {
  if (e instanceof commanderError) {
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
