/**
 * Human renderings of a Report: the full one for `inspect`, a few lines for `verify`.
 * Text only; colour is optional and off when NO_COLOR is set or stdout is not a TTY.
 */
import type { Analysis } from '../../inspect/analyze.js';
import type { Report } from '../../inspect/report.js';
import { PUBLISH_TIMEOUT_S } from '../../inspect/predict.js';
import { findingMessage } from './findings.js';
import { alignedTable, boxTable, humanizeBytes } from './table.js';
import { VERSION_DETAIL, verdictWords } from './verdict.js';

export interface RenderOptions {
  color: boolean;
  /** `simple`: aligned columns (the default); `table`: etcdctl's boxed tables (`-w table`). */
  style?: 'simple' | 'table';
}

const ROLE_LABEL: Record<string, string> = {
  segment: 'WAL segment',
  'wal-tmp': 'preallocated next segment (.tmp)',
  'wal-broken': "etcd's .broken copy",
  'wal-tmp-dir': 'leftover wal.tmp dir',
  'wal-broken-dir': 'WAL dir set aside by etcd',
  snap: 'raft snapshot',
  'snap-broken': 'broken .snap set aside by etcd',
  'snap-db': 'received backend snapshot',
  db: 'bbolt backend',
  'db-tmp': 'leftover defrag temp file',
  'snap-tmp': 'leftover incoming snapshot temp file',
  touch: 'writability probe',
  unknown: 'unknown',
};

function painter(color: boolean) {
  const wrap = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { bold: wrap('1'), red: wrap('31'), yellow: wrap('33'), green: wrap('32'), dim: wrap('2') };
}

/** A section's table: aligned (the header shown only when `showHeader`) or boxed for `-w table`. */
function tableFor(o: RenderOptions) {
  return (header: string[], rows: string[][], showHeader = true): string =>
    o.style === 'table' ? boxTable(header, rows.map((r) => r.map(stripAnsi))) : alignedTable(showHeader ? [header, ...rows] : rows);
}

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** The snapshot-status hash as etcdutl's table and simple output print it: lower-case hex. */
export function hashHex(h: number): string {
  return (h >>> 0).toString(16);
}

function fmtBytes(n: number): string {
  return n.toLocaleString('en-US');
}

export function renderReport(a: Analysis, o: RenderOptions): string {
  const r = a.report;
  const p = painter(o.color);
  const table = tableFor(o);
  // The one line an operator needs first: the verdict (repeated with the next step at the end).
  let out = verdictLine(a, o) + '\n\n';
  out += `${p.bold('wal-doctor inspect')} ${r.path}  (${r.kind})\n`;
  out += `written by etcd ${r.writtenBy.version}${r.writtenBy.evidence.length ? ` — ${r.writtenBy.evidence.join('; ')}` : ''}\n\n`;

  out += p.bold('Layout') + '\n';
  out += table(['path', 'size', 'role'], r.layout.map((f) => [f.path + (f.isDir ? '/' : ''), f.isDir ? '' : fmtBytes(f.size), ROLE_LABEL[f.role] ?? f.role]), false);
  out += '\n';

  if (r.wal) {
    const w = r.wal;
    out += `${p.bold('WAL')}  member ${w.memberId ?? '?'}  cluster ${w.clusterId ?? '?'}\n`;
    const header = ['seq', 'start', 'size', 'records ent/state/snap/meta/crc', 'entries (term)', 'crc chain', 'ends'];
    const rows: string[][] = [];
    const past: string[] = [];
    for (const s of w.segments) {
      const c = s.records;
      const extra = c.unknown + c.undecodable > 0 ? ` +${c.unknown + c.undecodable}?` : '';
      const ents = s.firstEntry && s.lastEntry ? `${s.firstEntry.index}..${s.lastEntry.index} (${s.firstEntry.term === s.lastEntry.term ? s.lastEntry.term : `${s.firstEntry.term}-${s.lastEntry.term}`})` : '-';
      const ending = s.ending === 'zero-filled' ? `zero-filled after byte ${fmtBytes(s.goodBytes)}` : s.ending === 'exact' ? `at its last record (${fmtBytes(s.goodBytes)})` : `${s.ending} at byte ${fmtBytes(s.goodBytes)}`;
      const bad = !['zero-filled', 'exact', 'garbage-after-end'].includes(s.ending);
      rows.push([s.seq ?? '?', s.startIndex ?? '?', fmtBytes(s.size), `${c.entry}/${c.state}/${c.snapshot}/${c.metadata}/${c.crc}${extra}`, ents, s.crcChain, bad ? p.red(ending) : ending]);
      if (s.salvage.records > 0) {
        past.push(`  segment ${s.seq ?? s.name}: past byte ${fmtBytes(s.goodBytes)}, ${s.salvage.records} record(s) found, ${s.salvage.chained} with a valid CRC chain${s.salvage.entries ? `, ${s.salvage.entries} entries ${s.salvage.firstIndex}..${s.salvage.lastIndex}` : ''}\n`);
      }
    }
    out += table(header, rows);
    out += past.join('');
    out += w.hardState
      ? `  last HardState: term ${w.hardState.term}, vote ${w.hardState.vote === '0' ? 'none' : w.hardState.vote_hex}, commit ${w.hardState.commit} (${w.hardState.segment} at byte ${fmtBytes(w.hardState.offset)})\n`
      : '  no HardState record\n';
    out += `  entries: ${w.entries.count}${w.entries.firstIndex ? `, index ${w.entries.firstIndex}..${w.entries.lastIndex}, last term ${w.entries.lastTerm}` : ''}${w.goodUntil ? ` (good data ends in ${w.goodUntil.segment} at byte ${fmtBytes(w.goodUntil.offset)})` : ''}\n`;
    const snaps = w.snapshotRecords;
    if (snaps.length > 0) {
      const last = snaps[snaps.length - 1]!;
      out += `  snapshot records: ${snaps.length}, newest index ${last.index} term ${last.term}${last.confState ? ' with conf_state' : ''}\n`;
    }
    out += '\n';
  }

  if (r.snapFiles.length > 0) {
    out += p.bold('Snapshots (.snap)') + '\n';
    out += table(
      ['name', 'term / index', 'size', 'status', 'wal record'],
      r.snapFiles.map((s) => [s.name, `term ${s.term} index ${s.index}`, fmtBytes(s.size), s.status === 'ok' ? 'ok' : p.red(s.error ?? s.status), r.wal === null ? '' : s.matchesWalRecord ? 'matches a WAL record' : 'no WAL record']),
      false,
    );
    out += '\n';
  }

  if (r.db) {
    const d = r.db;
    out += `${p.bold('DB')}  ${d.path}  ${fmtBytes(d.size)} bytes\n`;
    out += `  consistent index ${d.consistentIndex ?? '-'}, term ${d.term ?? '- (3.4 does not record it)'}, revision ${d.revision ?? '-'}, compacted at ${d.compactRevision ?? '-'}\n`;
    out += `  cluster version ${d.clusterVersion ?? '-'}${d.storageVersion ? `, storage version ${d.storageVersion}` : ''}${d.voters.length ? `, voters ${d.voters.join(', ')}` : ''}\n`;
    if (d.snapshotSave !== 'none') out += `  etcdctl snapshot save file: SHA-256 trailer ${d.snapshotSave === 'sha256-ok' ? 'matches' : p.red('DOES NOT MATCH')}\n`;
    if (d.status) {
      const st = d.status;
      if (o.style === 'table') {
        // Exactly etcdutl snapshot status -w table (3.4's etcdctl, 3.5/3.6's etcdutl without VERSION).
        out += boxTable(['hash', 'revision', 'total keys', 'total size'], [[hashHex(st.hash), `${st.revision}`, `${st.totalKey}`, humanizeBytes(st.totalSize)]]);
      } else out += `  snapshot status: hash ${hashHex(st.hash)}, revision ${st.revision}, total keys ${st.totalKey}, total size ${fmtBytes(st.totalSize)} (${humanizeBytes(st.totalSize)})`;
      if (!st.integrityOk) out += (o.style === 'table' ? '  ' : '') + p.red(' (bbolt integrity check fails: etcdutl would refuse it)');
      if (o.style !== 'table' || !st.integrityOk) out += '\n';
    }
    if (d.problems > 0) out += `  ${p.red(`${d.problems} structural problem(s)`)}\n`;
    out += '\n';
  }

  if (r.etcd.length > 0) {
    out += p.bold('What etcd will do at boot') + '\n';
    for (const e of r.etcd) {
      if (isDowngrade(e)) {
        out += p.dim(`  etcd ${e.version}: cannot run this dir (its cluster version ${r.db?.clusterVersion ?? ''} is newer)`) + '\n';
        continue;
      }
      const head = e.outcome === 'starts' ? p.green('starts') : e.outcome === 'self-repairs' ? p.yellow('repairs the WAL itself, then starts') : e.outcome === 'never-healthy' ? p.red(`starts, ${e.stall?.['code'] === 'db-ahead' ? 'serves late' : 'never serves'}`) : p.red('fails');
      const why = e.outcome === 'fails' && e.log && e.log !== e.error ? `${e.log}: ${e.error}` : e.error;
      out += `  etcd ${e.version}: ${head}${why ? ` — ${why}` : ''}${e.stall ? ` — ${String(e.stall['code'])}` : ''}\n`;
      out += p.dim(`    ${VERSION_DETAIL[e.version] ?? e.version}`) + '\n';
      if (e.repair) {
        out += `    truncates ${e.repair.segment} at byte ${fmtBytes(e.repair.truncateAt)}, copies it to ${e.repair.brokenCopy}`;
        out += e.repair.validRecordsDropped ? p.red(`; throws away ${e.repair.validRecordsDropped} valid record(s)`) : '';
        out += '\n';
      }
      if (e.outcome !== 'fails' && e.lastIndex !== null) out += `    raft restarts at last index ${e.lastIndex}, commit ${e.commit}${e.snapshot ? `, from snapshot ${e.snapshot.name}` : ''}\n`;
      if (e.snapsRenamedBroken.length) out += `    renames ${e.snapsRenamedBroken.join(', ')} to .broken\n`;
    }
    out += '\n';
  }

  out += p.bold('Findings') + '\n';
  if (r.findings.length === 0) out += '  none\n';
  for (const f of r.findings) {
    const sev = f.severity === 'error' ? p.red('ERROR  ') : f.severity === 'warning' ? p.yellow('WARNING') : p.dim('info   ');
    out += `  ${sev} ${findingMessage(f)}\n`;
  }
  out += '\n';
  out += renderVerdict(a, o);
  return out;
}

const STATUS_LABEL: Record<Report['verdict']['status'], string> = { healthy: 'HEALTHY', repairable: 'REPAIRABLE', 'needs-rebuild': 'NEEDS REBUILD', alarm: 'ALARM', 'in-use': 'IN USE' };

function statusLabel(a: Analysis, o: RenderOptions, text: string): string {
  const p = painter(o.color);
  const s = a.report.verdict.status;
  return s === 'healthy' ? p.green(text) : s === 'repairable' ? p.yellow(text) : p.red(text);
}

/** `Verdict: REPAIRABLE (exit 1) — <headline>`: the first line of inspect, and before the next step at its end. */
function verdictLine(a: Analysis, o: RenderOptions): string {
  const v = a.report.verdict;
  return `${painter(o.color).bold('Verdict:')} ${statusLabel(a, o, STATUS_LABEL[v.status])} (exit ${v.exitCode}) — ${verdictWords(a).headline}`;
}

function renderVerdict(a: Analysis, o: RenderOptions): string {
  return `${verdictLine(a, o)}\n${painter(o.color).bold('Next step:')} ${verdictWords(a).nextStep}\n`;
}

/** verify: the verdict, the first errors, and what etcd will do. */
export function renderVerify(a: Analysis, o: RenderOptions = { color: false }): string {
  const r = a.report;
  const w = verdictWords(a);
  const errors = r.findings.filter((f) => f.severity === 'error');
  let out = `${statusLabel(a, o, r.verdict.status)} (exit ${r.verdict.exitCode}): ${w.headline}\n`;
  for (const f of errors.slice(0, 5)) out += `  ${findingMessage(f)}\n`;
  if (errors.length > 5) out += `  ... ${errors.length - 5} more (wal-doctor inspect shows all)\n`;
  const boots = r.etcd.filter((x) => !isDowngrade(x));
  // A stall that ends: how long /health stays false.
  const late = (e: (typeof boots)[number]): string => (e.stall?.['code'] === 'db-ahead' ? `serves after about ${Number(e.stall['timeouts']) * PUBLISH_TIMEOUT_S} s` : '');
  if (o.style === 'table') out += boxTable(['etcd', 'outcome', 'error'], boots.map((e) => [e.version, e.outcome, e.error ?? late(e)]));
  else for (const e of boots) out += `  etcd ${e.version}: ${e.outcome}${e.error ? ` (${e.error})` : late(e) ? ` (${late(e)})` : ''}\n`;
  out += `next: ${w.nextStep}\n`;
  return out;
}

/** etcd older than the dir's cluster version refuses any dir; not a finding about damage. */
function isDowngrade(e: Report['etcd'][number]): boolean {
  return e.failure?.code === 'downgrade';
}
