/**
 * The overview screen's lines, from the shared Report: what the dir is, the verdict, every damage,
 * HardState, snapshots, the db's index, what etcd will do. Pure, so tests can read it as text.
 */
import type { Report } from '../inspect/report.js';
import { findingMessage } from '../cli/render/findings.js';
import type { VerdictWords } from '../cli/render/verdict.js';
import type { Tone } from './theme.js';

export interface Line {
  text: string;
  tone?: Tone;
  /** Fold rather than cut when wider than the screen (damage, next step). */
  wrap?: boolean;
}

const n = (v: number) => v.toLocaleString('en-US');

/** Long lines folded at spaces to `width`, continuation lines indented under the first. */
export function wrapLines(lines: Line[], width: number): Line[] {
  const out: Line[] = [];
  for (const l of lines) {
    if (!l.wrap || l.text.length <= width) {
      out.push(l);
      continue;
    }
    const indent = ' '.repeat(Math.min(12, l.text.length - l.text.trimStart().length + 4));
    let rest = l.text;
    let first = true;
    while (rest.length > 0) {
      const room = first ? width : width - indent.length;
      let cut = rest.length <= room ? rest.length : rest.lastIndexOf(' ', room);
      if (cut <= 0) cut = room;
      const piece = rest.slice(0, cut).trimEnd();
      out.push({ ...l, text: first ? piece : indent + piece });
      rest = rest.slice(cut).trimStart();
      first = false;
    }
  }
  return out;
}

export function overviewLines(report: Report, words: VerdictWords): Line[] {
  const out: Line[] = [];
  const push = (text: string, tone?: Tone, wrap = false) => out.push({ text, ...(tone === undefined ? {} : { tone }), ...(wrap ? { wrap } : {}) });
  const v = report.verdict;
  const verdictTone: Tone = v.status === 'healthy' ? 'ok' : v.status === 'repairable' ? 'warning' : 'error';
  // The verdict and the next step first and in full (folded, never cut): at 80x24 they are what
  // must be on the first screen. Then the facts, one line each, and every damage.
  push(`Verdict: ${v.status.toUpperCase().replace('-', ' ')} (exit ${v.exitCode}) — ${words.headline}`, verdictTone, true);
  push(`Next step: ${words.nextStep}`, 'head', true);
  push(`${report.kind}, written by etcd ${report.writtenBy.version}`, 'dim');

  const wal = report.wal;
  push('WAL', 'head');
  if (!wal) push('  no WAL segments');
  else {
    const damaged = wal.segments.filter((s) => s.end !== 'eof' && s.end !== 'zero-length').length;
    push(`  member ${wal.memberId ?? '?'}  cluster ${wal.clusterId ?? '?'}`);
    push(`  ${wal.segments.length} segment(s), ${damaged} damaged — Enter lists them`);
    const e = wal.entries;
    push(`  entries ${n(e.count)}${e.firstIndex !== null ? `, index ${e.firstIndex}..${e.lastIndex}, last term ${e.lastTerm}` : ''}`);
    const hs = wal.hardState;
    const seg = (name: string) => {
      const i = wal.segments.findIndex((x) => name.endsWith(x.name));
      return i < 0 ? name : `segment ${i}`;
    };
    push(hs ? `  HardState term ${hs.term} vote ${hs.vote_hex} commit ${hs.commit} (${seg(hs.segment)}, byte ${n(hs.offset)})` : '  HardState: none');
    if (wal.goodUntil) push(`  good data ends at byte ${n(wal.goodUntil.offset)} of ${seg(wal.goodUntil.segment)}`, 'error');
  }

  push('Snapshots', 'head');
  if (report.snapFiles.length === 0) push('  .snap files: none');
  for (const s of report.snapFiles) push(`  ${s.name}  index ${s.index} term ${s.term}  ${s.status}${s.error ? `: ${s.error}` : ''}`, s.status === 'ok' ? undefined : 'warning');
  if (wal) {
    const newest = wal.snapshotRecords[wal.snapshotRecords.length - 1];
    push(`  WAL snapshot records: ${wal.snapshotRecords.length}${newest ? `, newest index ${newest.index} term ${newest.term}` : ''}`);
  }

  push('DB', 'head');
  const db = report.db;
  if (!db) push('  no db');
  else push(`  consistent index ${db.consistentIndex ?? '?'}, term ${db.term ?? '?'}, revision ${db.revision ?? '?'}, compacted at ${db.compactRevision ?? '?'}`);

  const problems = report.findings.filter((f) => f.severity !== 'info');
  push(`Damage (${problems.length === 0 ? 'none' : `${problems.filter((f) => f.severity === 'error').length} error(s), ${problems.filter((f) => f.severity === 'warning').length} warning(s)`})`, 'head');
  for (const f of problems) push(`  ${f.severity === 'error' ? 'ERROR  ' : 'WARNING'} ${findingMessage(f)}`, f.severity === 'error' ? 'error' : 'warning', true);

  push('etcd at boot', 'head');
  for (const p of report.etcd) push(`  etcd ${p.version}: ${p.outcome}${p.error ? ` — ${p.error}` : ''}`, p.outcome === 'fails' ? 'error' : p.outcome === 'self-repairs' ? 'warning' : 'ok', true);

  push('Layout', 'head');
  for (const f of report.layout) push(`  ${f.path.padEnd(50)} ${f.isDir ? '(dir)' : n(f.size).padStart(12)}  ${f.role}`);
  return out;
}
