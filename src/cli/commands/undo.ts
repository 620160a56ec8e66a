import type { DoctorCommand } from '../program.js';
import { type FormatFlags, addFormatOptions, outputFormat } from '../options.js';
import { out } from '../output.js';
import { json } from '../render/json.js';
import { renderUndo } from '../render/repair.js';

export function registerUndo(program: DoctorCommand): void {
  const cmd = program
    .command('undo')
    .description('put back, byte for byte, every file a repair changed, from its backup dir')
    .argument('<backup-dir>', 'the backup dir a repair printed');
  addFormatOptions(cmd, ['simple', 'json'])
    .action(async (backupDir: string, o: FormatFlags) => {
      const asJson = outputFormat(o, ['simple', 'json']) === 'json';
      // Loaded only here: the backup's zod manifest schema is not needed to start.
      const { undoRepair } = await import('../../repair/undo.js');
      const r = await undoRepair(backupDir);
      out(asJson ? json(r) : renderUndo(r));
    });
}
