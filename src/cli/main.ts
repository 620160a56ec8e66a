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
import { spawn } from 'node:child_process';
import { DoctorError, ExitCode } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { versionText } from './help.js';

// EPIPE on stdout (e.g. `| head`) is a normal end, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

/**
 * The read-only commands that walk a whole data dir (verify, inspect, export, diff) run, when the
 * dirs named hold LEAN_FROM_BYTES or more of WAL and db, in a child node whose young generation has
 * 4 MB semi-spaces instead of V8's 16. Their objects die young by the million, and V8 keeps the
 * larger young generation, and the garbage it promotes, resident: verify on a 1M-key dir peaked at
 * 172 MB and now at ~127 MB, for the same CPU (measured in the bench). Node takes the flag only at
 * start-up, hence a child: it inherits stdio (a terminal stays a terminal), the parent passes
 * SIGINT, SIGTERM and SIGHUP on and ends as the child did. Small dirs, where a second start-up
 * would weigh, run here; so does everything in the single-file executable (its binary takes no
 * node flags), a child already started this way, and a node the flag was given to.
 */
const LEAN_COMMANDS = new Set(['verify', 'inspect', 'export', 'diff']);
const LEAN_FLAG = '--max-semi-space-size=4';
// (WAL_DOCTOR_LEAN_FROM_BYTES sets another threshold: the tests run the child on small fixtures)
const LEAN_FROM_BYTES = Number(process.env['WAL_DOCTOR_LEAN_FROM_BYTES'] ?? 256 * 1024 * 1024);
const LEAN_ENV = 'WAL_DOCTOR_LEAN_CHILD';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for -V/--version (program.ts declares the flag, for --help and the man page).
  process.stdout.write(`${versionText(TOOL_VERSION)}\n`);
} else {
  void start(process.argv);
}

async function start(argv: string[]): Promise<void> {
  let lean = false;
  try {
    lean = await leanWanted(argv.slice(2));
  } catch (e) {
    // could not tell how large the dirs are: run here, and let the command report what it finds
    if (process.env['WAL_DOCTOR_DEBUG']) process.stderr.write(`wal-doctor: running in this process (${e instanceof Error ? e.message : String(e)})\n`);
  }
  if (lean) await runLean(argv.slice(2));
  else await run(argv);
}

async function leanWanted(args: string[]): Promise<boolean> {
  const command = args.find((a) => !a.startsWith('-'));
  if (command === undefined || !LEAN_COMMANDS.has(command)) return false;
  if (args.includes('--help') || args.includes('-h')) return false;
  if (process.env[LEAN_ENV] !== undefined || process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) return false;
  if (process.argv[1] === undefined) return false;
  try {
    if ((await import('node:sea')).isSea()) return false;
  } catch (e) {
    // no node:sea (before Node 20.12): not a single executable
    if ((e as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_BUILTIN_MODULE') throw e;
  }
  const { bytesNamed } = await import('../io/layout.js');
  return bytesNamed(args.slice(args.indexOf(command) + 1)) >= LEAN_FROM_BYTES;
}

function runLean(args: string[]): Promise<void> {
  return new Promise((resolve) => {
    if (process.env['WAL_DOCTOR_DEBUG']) process.stderr.write(`wal-doctor: running in a child node with ${LEAN_FLAG}\n`);
    const child = spawn(process.execPath, [...process.execArgv, LEAN_FLAG, process.argv[1]!, ...args], { stdio: 'inherit', env: { ...process.env, [LEAN_ENV]: '1' } });
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const forward = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    for (const sig of signals) process.on(sig, forward);
    const done = (): void => {
      for (const sig of signals) process.off(sig, forward);
    };
    child.on('error', (e) => {
      // node could not be started again: do the work here instead
      done();
      if (process.env['WAL_DOCTOR_DEBUG']) process.stderr.write(`wal-doctor: running in this process (${e.message})\n`);
      void run(process.argv).then(resolve);
    });
    child.on('exit', (code, signal) => {
      done();
      if (signal) process.kill(process.pid, signal); // end as the child did
      else process.exitCode = code ?? 70;
      resolve();
    });
  });
}

async function run(argv: string[]): Promise<void> {
  let program: typeof import('./program.js');
  try {
    program = await import('./program.js');
  } catch (e) {
    // an install that lost a file or a dependency: one line, as for any other failure
    process.exitCode = exitCodeFor(e, undefined);
    return;
  }
  const { buildProgram, CommanderError } = program;
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

function exitCodeFor(e: unknown, commanderError: typeof CommanderError | undefined): number {
  if (commanderError !== undefined && e instanceof commanderError) {
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
