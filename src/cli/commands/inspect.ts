import { basename } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { inspectPath } from '../../inspect/analyze.js';
import { buildTimeline } from '../../inspect/timeline.js';
import { FileSource } from '../../io/file-source.js';
import { locate } from '../../io/layout.js';
import { type AnalysisFlags, analysisOptions, collect } from '../options.js';
import { renderReport } from '../render/report.js';
import { writeJson } from '../render/json.js';
import { reportForJson } from '../render/verdict.js';
import { progressFor } from '../render/progress.js';
import { renderTimeline } from '../render/timeline.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('full report on a data dir, member dir, wal dir, .wal, .snap or db file')
    .argument('<path>', 'what to inspect')
    .option('--json', 'print the report as one JSON object (see `wal-doctor schema`)')
    .option('--peer-dir <dir>', 'a data dir of one of this member\'s peers (repeat for each): is this member behind what the cluster committed?', collect)
    .option('--wal-dir <dir>', 'WAL directory kept outside the data dir (etcd --wal-dir)')
    .option('--etcd-version <v>', 'judge for this etcd release line: 3.4, 3.5 or 3.6 (default: the one that wrote the dir)')
    .option('--timeline', 'instead of the report: term changes (elections), conf changes, compactions, snapshot records, writes per term and per Kubernetes resource, in one pass over the WAL')
    .action(async (path: string, o: AnalysisFlags & { timeline?: boolean }) => {
      if (o.timeline) {
        const layout = locate(path, o.walDir ? { walDir: o.walDir } : {});
        if (layout.segments.length === 0) throw new UsageError(`${layout.root}: no WAL segment (--timeline reads *.wal files)`);
        const segments = layout.segments.map((p) => ({ name: basename(p), source: new FileSource(p) }));
        const progress = progressFor(o);
        const timeline = buildTimeline(segments, progress.options);
        progress.done();
        if (o.json) writeJson(timeline);
        else process.stdout.write(renderTimeline(timeline));
        return;
      }
      const progress = progressFor(o);
      const analysis = inspectPath(path, { ...(await analysisOptions(o)), ...progress.options });
      progress.done();
      if (o.json) writeJson(reportForJson(analysis));
      else process.stdout.write(renderReport(analysis, { color: useColor() }));
      process.exitCode = analysis.report.verdict.exitCode;
    });
}

export function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env['NO_COLOR'];
}
