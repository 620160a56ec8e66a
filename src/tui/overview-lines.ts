/**
 * The overview screen's lines, from the shared Report: what the dir is, the verdict, every damage,
 * HardState, snapshots, the db's index, what etcd will do. Pure, so tests can read it as text.
 */
import type { Report } from '../inspect/report.js';
import type { Tone } from './theme.js';

export interface Line {
  text: string;
  tone?: Tone;
}

const n = (v: number) => v.toLocaleString('en-US');

export function overviewLines(report: Report): Line[] {
  const out: Line[] = [];
  const push = (text: string, tone?: Tone) => out.push(tone === undefined ? { text } : { text, tone });
  const v = report.verdict;
  const verdictTone: Tone = v.status === 'healthy' ? 'ok' : v.status === 'repairable' ? 'warning' : 'error';
  push(`Verdict: ${v.status.toUpperCase().replace('-', ' ')} (exit ${v.exitCode}) — ${v.headline}`, verdictTone);
  push(`Next step: ${v.nextStep}`);
  push(`${report.kind}, written by etcd ${report.writtenBy.version}`, 'dim');

  const problems = report.findings.filter((f) => f.severity !== 'info');
  push(`Damage (${problems.length === 0 ? 'none' : `${problems.filter((f) => f.severity === 'error').length} error(s), ${problems.filter((f) => f.severity === 'warning').length} warning(s)`})`, 'head');
  for (const f of problems) push(`  ${f.severity === 'error' ? 'ERROR  ' : 'WARNING'} ${f.message}`, f.severity === 'error' ? 'error' : 'warning');

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
    push(hs ? `  HardState term ${hs.term} vote ${hs.vote_hex} commit ${hs.commit} (${hs.segment} at byte ${n(hs.offset)})` : '  HardState: none');
    if (wal.goodUntil) push(`  good data ends in ${wal.goodUntil.segment} at byte ${n(wal.goodUntil.offset)}`, 'error');
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
  else {
    push(`  ${db.path}  ${n(db.size)} bytes`);
    push(`  consistent index ${db.consistentIndex ?? '?'}, term ${db.term ?? '?'}, revision ${db.revision ?? '?'}, compacted at ${db.compactRevision ?? '?'}`);
  }

  push('etcd at boot', 'head');
  for (const p of report.etcd) push(`  etcd ${p.version}: ${p.outcome}${p.error ? ` — ${p.error}` : ''}`, p.outcome === 'fails' ? 'error' : p.outcome === 'self-repairs' ? 'warning' : 'ok');

  push('Layout', 'head');
  for (const f of report.layout) push(`  ${f.path.padEnd(50)} ${f.isDir ? '(dir)' : n(f.size).padStart(12)}  ${f.role}`);
  return out;
}
