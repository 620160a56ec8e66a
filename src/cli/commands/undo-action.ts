import { undoRepair } from '../../repair/undo.js';
import { type FormatFlags, outputFormat } from '../options.js';
import { out } from '../output.js';
import { json } from '../render/json.js';
import { renderUndo } from '../render/repair.js';

/** `wal-doctor undo`: every file a repair changed, put back from its backup dir. */
export async function undoAction(backupDir: string, o: FormatFlags): Promise<void> {
  const asJson = outputFormat(o, ['simple', 'json']) === 'json';
  const r = await undoRepair(backupDir);
  out(asJson ? json(r) : renderUndo(r));
}
