import { basename } from 'node:path';
import { UsageError } from '../../errors.js';
import { inspectPath } from '../../inspect/analyze.js';
import { buildTimeline } from '../../inspect/timeline.js';
import { FileSource } from '../../io/file-source.js';
import { locate } from '../../io/layout.js';
import { analysisOptions, outputFormat } from '../options.js';
import { out, useColor } from '../output.js';
import { renderReport } from '../render/report.js';
import { json } from '../render/json.js';
import { reportForJson } from '../render/verdict.js';
import { progressFor } from '../render/progress.js';
import { renderTimeline } from '../render/timeline.js';
import type { InspectFlags } from './inspect.js';

/** `wal-doctor inspect`: the report (or with --timeline the WAL's timeline); the verdict's exit code. */
export async function inspectAction(path: string, o: InspectFlags): Promise<number> {
  const format = outputFormat(o, o.timeline ? ['simple', 'json'] : undefined);
  if (o.timeline) {
    const layout = locate(path, o.walDir ? { walDir: o.walDir } : {});
    if (layout.segments.length === 0) throw new UsageError(`${layout.root}: no WAL segment (--timeline reads *.wal files)`);
    const segments = layout.segments.map((p) => ({ name: basename(p), source: new FileSource(p) }));
    const progress = progressFor({ json: format === 'json' });
    const timeline = buildTimeline(segments, progress.options);
    progress.done();
    out(format === 'json' ? json(timeline) : renderTimeline(timeline));
    return 0;
  }
  const progress = progressFor({ json: format === 'json' });
  const analysis = inspectPath(path, { ...(await analysisOptions(o)), ...progress.options });
  progress.done();
  out(format === 'json' ? json(reportForJson(analysis)) : renderReport(analysis, { color: useColor(), style: format }));
  return analysis.report.verdict.exitCode;
}
