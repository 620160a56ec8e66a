import { basename } from 'node:path';
import type { DoctorCommand } from '../program.js';
import { UsageError } from '../../errors.js';
import { inspectPath } from '../../inspect/analyze.js';
import { buildTimeline } from '../../inspect/timeline.js';
import { FileSource } from '../../io/file-source.js';
import { locate } from '../../io/layout.js';
import { type AnalysisFlags, type FormatFlags, addFormatOptions, analysisOptions, collect, outputFormat } from '../options.js';
import { out, useColor } from '../output.js';
import { renderReport } from '../render/report.js';
import { json } from '../render/json.js';
import { reportForJson } from '../render/verdict.js';
import { progressFor } from '../render/progress.js';
import { renderTimeline } from '../render/timeline.js';

export function registerInspect(program: DoctorCommand): void {
  const cmd = program
    .command('inspect')
    .description('full report on a data dir, member dir, wal dir, .wal, .snap or db file; the verdict is its first line')
    .argument('<path>', 'what to inspect');
  addFormatOptions(cmd)
    .option('--peer-dir <dir>', 'a data dir of one of this member\'s peers (repeat for each): is this member behind what the cluster committed?', collect)
    .option('--wal-dir <dir>', 'WAL directory kept outside the data dir (etcd --wal-dir)')
    .option('--etcd-version <v>', 'judge for this etcd release line: 3.4, 3.5, 3.6 or 3.7 (default: the one that wrote the dir)')
    .option('--timeline', 'instead of the report: term changes (elections), conf changes, compactions, snapshot records, writes per term and per Kubernetes resource, in one pass over the WAL')
    .addHelpText(
      'after',
      `
Examples:
  wal-doctor inspect /var/lib/etcd                  data dir: verdict, layout, WAL, db, boot prediction
  wal-doctor inspect -w table member/snap/db        a db or snapshot file: etcdutl snapshot status's table
  wal-doctor inspect -w json /var/lib/etcd | jq .verdict
  wal-doctor inspect --timeline /var/lib/etcd       elections, conf changes, compactions, writes per term

Exit codes: 0 healthy, 1 repairable, 2 needs rebuild, 64 usage, 66 not found, 74 I/O, 75 in use.`,
    )
    .action(async (path: string, o: AnalysisFlags & FormatFlags & { timeline?: boolean }) => {
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
    });
}
