import type { DoctorCommand } from '../program.js';
import { type FormatFlags, addFormatOptions } from '../options.js';

/** `wal-doctor undo`: its flags and help; what it does is in undo-action.ts, loaded when it runs. */
export function registerUndo(program: DoctorCommand): void {
  const cmd = program
    .command('undo')
    .description('put back, byte for byte, every file a repair changed, from its backup dir')
    .argument('<backup-dir>', 'the backup dir a repair printed');
  addFormatOptions(cmd, ['simple', 'json'])
    .action(async (backupDir: string, o: FormatFlags) => (await import('./undo-action.js')).undoAction(backupDir, o));
}
