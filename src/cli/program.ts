/**
 * The command tree: every command, its options, its help (with examples and the exit codes) and
 * `--version`. Built without parsing, so the man page and the shell completion are generated from
 * the same tree the user runs (`npm run man`, `wal-doctor completion bash`). It holds no command's
 * action: each imports its `<verb>-action.ts` when it runs, so `--help` loads none of the library.
 */
import { Command } from 'commander';
import { TOOL_VERSION } from '../version.js';
import { registerCompletion } from './commands/completion.js';
import { registerDiff } from './commands/diff.js';
import { registerExplore } from './commands/explore.js';
import { registerExport } from './commands/export.js';
import { registerInspect } from './commands/inspect.js';
import { registerRebuild } from './commands/rebuild.js';
import { registerRepair } from './commands/repair.js';
import { registerUndo } from './commands/undo.js';
import { registerSchema } from './commands/schema.js';
import { registerVerify } from './commands/verify.js';
import { PROGRAM_EXAMPLES, exitCodeHelp, versionText } from './help.js';

// main.ts loads commander through this module, and tells commander's errors by this class.
export { CommanderError } from 'commander';

export interface ProgramOptions {
  /** Fixed help width (the man page); otherwise the terminal's. */
  helpWidth?: number;
  /** Where help goes (the man page generator collects it); otherwise stdout. */
  writeOut?: (s: string) => void;
  /** Gets the exit code the command that ran returned (main.ts makes it the process's). */
  onExitCode?: (code: number) => void;
}

/**
 * A command whose action returns its exit code (nothing is 0) instead of setting the process's:
 * the code goes to `onExitCode`, and the commands stay free of `process`.
 */
export class DoctorCommand extends Command {
  constructor(
    name: string | undefined,
    private readonly onExitCode: (code: number) => void,
  ) {
    super(name);
  }

  override createCommand(name?: string): DoctorCommand {
    return new DoctorCommand(name, this.onExitCode);
  }

  // commander passes the arguments, the options and the command (any[] is its own signature).
  override action(fn: (...args: any[]) => Promise<number | void> | number | void): this {
    return super.action(async (...args: unknown[]) => {
      this.onExitCode((await fn(...args)) ?? 0);
    });
  }
}

export function buildProgram(opts: ProgramOptions = {}): DoctorCommand {
  const program = new DoctorCommand(undefined, opts.onExitCode ?? (() => {}));
  program
    .name('wal-doctor')
    .description('Examine and repair etcd data directories after crashes (WAL segments, .snap files, the bbolt db).')
    .version(versionText(TOOL_VERSION), '-V, --version', 'print the version and the etcd releases it was checked against')
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(str),
      ...(opts.helpWidth !== undefined ? { getOutHelpWidth: () => opts.helpWidth!, getErrHelpWidth: () => opts.helpWidth! } : {}),
      ...(opts.writeOut ? { writeOut: opts.writeOut } : {}),
    })
    .showHelpAfterError('(run wal-doctor --help for usage)')
    .addHelpText('after', `\n${PROGRAM_EXAMPLES}\n\n${exitCodeHelp()}`);

  registerInspect(program);
  registerVerify(program);
  registerExport(program);
  registerExplore(program);
  registerRepair(program);
  registerUndo(program);
  registerRebuild(program);
  registerDiff(program);
  registerSchema(program);
  registerCompletion(program);
  return program;
}
