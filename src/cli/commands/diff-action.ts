import { UsageError } from '../../errors.js';
import { diffDirs } from '../../diff/diff.js';
import { diffReport, renderDiff } from '../render/diff.js';
import { json } from '../render/json.js';
import { type FormatFlags, outputFormat } from '../options.js';
import { out, useColor } from '../output.js';

/** `wal-doctor diff`: the members' data dirs compared; the worst problem's exit code. */
export async function diffAction(first: string, rest: string[], o: FormatFlags & { revision?: string }): Promise<number> {
  const format = outputFormat(o);
  if (o.revision !== undefined && !/^[1-9]\d*$/.test(o.revision)) throw new UsageError(`--revision: expected a positive integer, got '${o.revision}'`);
  const report = diffDirs([first, ...rest], o.revision !== undefined ? { revision: BigInt(o.revision) } : {});
  if (format === 'json') {
    // zod only for --json: the report is checked against its published schema before it is printed.
    const { DiffReport } = await import('../../diff/schema.js');
    out(json(DiffReport.parse(diffReport(report))));
  } else out(renderDiff(report, { color: useColor(), style: format }));
  return report.exitCode;
}
