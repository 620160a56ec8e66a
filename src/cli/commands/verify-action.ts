import { inspectPath } from '../../inspect/analyze.js';
import { type AnalysisFlags, type FormatFlags, analysisOptions, outputFormat } from '../options.js';
import { out, useColor } from '../output.js';
import { renderVerify } from '../render/report.js';
import { json } from '../render/json.js';
import { reportForJson } from '../render/verdict.js';
import { progressFor } from '../render/progress.js';

/** `wal-doctor verify`: the analysis, tersely; the verdict's exit code. */
export async function verifyAction(path: string, o: AnalysisFlags & FormatFlags): Promise<number> {
  const format = outputFormat(o);
  const progress = progressFor({ json: format === 'json' });
  const analysis = inspectPath(path, { ...(await analysisOptions(o)), ...progress.options });
  progress.done();
  out(format === 'json' ? json(reportForJson(analysis)) : renderVerify(analysis, { color: useColor(), style: format }));
  return analysis.report.verdict.exitCode;
}
