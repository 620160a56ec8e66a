import { UsageError } from '../../errors.js';
import { inspectPath } from '../../inspect/analyze.js';
import { type AnalysisFlags, analysisOptions } from '../options.js';
import { isTTY, letInkDraw, noColorAsked } from '../output.js';
import { progressFor } from '../render/progress.js';

/** `wal-doctor explore`: the analysis with its record index, then the terminal UI on it. */
export async function exploreAction(path: string, o: Omit<AnalysisFlags, 'json'>): Promise<void> {
  if (!isTTY.stdout() || !isTTY.stdin()) {
    throw new UsageError(
      `explore needs a terminal (stdin and stdout a TTY); for a report use \`wal-doctor inspect ${path}\`, for the records \`wal-doctor export ${path}\``,
    );
  }
  const progress = progressFor({ json: false });
  const analysis = inspectPath(path, { ...(await analysisOptions(o)), ...progress.options, indexRecords: true });
  progress.done();
  letInkDraw(); // before ink is first imported: it reads CI then
  const { runExplore } = await import('../../tui/explore.js');
  await runExplore(analysis, { color: !noColorAsked() });
}
