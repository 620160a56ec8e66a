/**
 * The human `diff` report (`-w simple`, the default, or `-w table` with etcdctl's boxed tables), and
 * the words of diff's problems and headline (for --json too): the comparison itself is data, made by
 * diff/diff.ts.
 */
import { boxTable } from './table.js';
import type { DiffProblem, DiffResult } from '../../diff/diff.js';
import type { DiffReport } from '../../diff/schema.js';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** "a", "a and b", "a, b and c". */
const list = (xs: string[]) => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

/** A problem in one sentence (`text` in --json). */
export function diffProblemText(p: DiffProblem): string {
  const one = p.members.length === 1;
  switch (p.code) {
    case 'behind':
      return `${list(p.members)} ${one ? 'is' : 'are'} behind: ${one ? 'its' : 'their'} log is a prefix of the others' (stopped, or cut off); started, ${one ? 'it catches' : 'they catch'} up from the leader`;
    case 'gap':
      return `${list(p.members)} lack${one ? 's' : ''} entries in the middle of ${one ? 'its' : 'their'} log (a gap raft never leaves: a segment lost?)`;
    case 'uncommitted-tail':
      return `${list(p.members)} hold${one ? 's' : ''} an uncommitted tail from index ${p.fromIndex} (an older term's entries raft replaces when ${one ? 'it rejoins' : 'they rejoin'}: nothing acknowledged is lost)`;
    case 'same-term-data':
      return `${p.entries} entr${p.entries === 1 ? 'y has' : 'ies have'} the same term but different bytes on ${list(p.members)} (raft never writes that: CORRUPTION)`;
    case 'committed-differs':
      return `${p.entries} committed entr${p.entries === 1 ? 'y differs' : 'ies differ'} between members (every holder's HardState commits it)`;
    case 'kv-hash':
      return `the KV hashes at revision ${p.revision} differ${p.members.length ? ` (${list(p.members)} differ${one ? 's' : ''} from the rest)` : ''}: the keyspaces are not the same`;
  }
}

/** The verdict in one line: the status and what makes it (or what the members agree on). */
export function diffHeadline(r: DiffResult): string {
  if (r.status === 'consistent') {
    const c = r.log.comparedIndexes;
    return `consistent: ${r.members.length} members agree on every entry they share${c ? ` (index ${c.first}..${c.last})` : ''}${r.kv.equal ? ` and on the KV hash at revision ${r.kv.revision}` : ''}`;
  }
  return `${r.status}: ${r.problems.filter((p) => p.kind === r.status).map(diffProblemText).join('; ')}`;
}

/** The --json report: the result with each problem's `text` and the headline. */
export function diffReport(r: DiffResult): DiffReport {
  return { ...r, problems: r.problems.map((p) => ({ kind: p.kind, members: p.members, text: diffProblemText(p) })), headline: diffHeadline(r) };
}

export function renderDiff(r: DiffResult, o: { color?: boolean; style?: 'simple' | 'table' } = {}): string {
  const out: string[] = [];
  const names = r.members.map((m) => m.path);
  const w = Math.max(6, ...names.map((n) => n.length));
  out.push(`wal-doctor diff  ${names.join('  ')}`, '');
  out.push('Members');
  const logs = r.members.map((m) => {
    const l = m.wal;
    return l.firstIndex === null ? 'empty' : `${l.firstIndex}..${l.lastIndex} (last term ${l.lastTerm})${l.overwritten ? `, ${l.overwritten} overwritten` : ''}`;
  });
  const lw = Math.max(23, ...logs.map((x) => x.length));
  const hsOf = (m: DiffResult['members'][number]) => (m.wal.hardState ? `term ${m.wal.hardState.term}, commit ${m.wal.hardState.commit}` : 'none');
  const snapsOf = (m: DiffResult['members'][number]) => m.wal.snapshotRecords.map((s) => `${s.index}@${s.term}`).join(' ') || 'none';
  if (o.style === 'table') {
    out.push(boxTable(['member', 'id', 'log (index, term)', 'hardstate (term, commit)', 'snapshots'], r.members.map((m, i) => [m.path, m.memberId ?? '?', logs[i]!, hsOf(m), snapsOf(m)])).trimEnd());
    out.push('');
    out.push(`DB  (KV hash as etcdctl endpoint hashkv --rev=${r.kv.revision ?? '?'})`);
    out.push(
      boxTable(
        ['member', 'consistent index', 'revision', 'compacted at', 'kv hash'],
        r.members.map((m) => [m.path, m.db?.consistentIndex ?? '-', m.db?.revision ?? '-', m.db?.compactRevision ?? '-', m.db?.hashKV ? `${m.db.hashKV.hash}` : '-']),
      ).trimEnd(),
    );
  } else {
  out.push(`  ${pad('member', w)}  id                ${pad('log (index, term)', lw)}  HardState (term, commit)  snapshots`);
  for (const [i, m] of r.members.entries()) {
    const l = m.wal;
    const log = logs[i]!;
    out.push(`  ${pad(m.path, w)}  ${m.memberId ?? '?'.repeat(16)}  ${pad(log, lw)}  ${pad(hsOf(m), 24)}  ${snapsOf(m)}${l.endsInDamage ? `  (read up to damage in ${l.endsInDamage.segment} at byte ${l.endsInDamage.offset})` : ''}`);
  }
  out.push('');
  out.push(`DB  (KV hash as etcdctl endpoint hashkv --rev=${r.kv.revision ?? '?'})`);
  out.push(`  ${pad('member', w)}  consistent index  revision  compacted at  KV hash`);
  for (const m of r.members) {
    const d = m.db;
    if (!d) {
      out.push(`  ${pad(m.path, w)}  no db`);
      continue;
    }
    const h = d.hashKV ? `${d.hashKV.hash}${d.hashKV.compacted ? ' (revision compacted: etcd answers from a stored hash)' : ''}` : '-';
    out.push(`  ${pad(m.path, w)}  ${pad(d.consistentIndex ?? '-', 16)}  ${pad(d.revision ?? '-', 8)}  ${pad(d.compactRevision ?? '-', 12)}  ${h}`);
  }
  }
  out.push('');
  out.push('Log');
  const L = r.log;
  out.push(`  compared entry by entry: ${L.comparedIndexes ? `index ${L.comparedIndexes.first}..${L.comparedIndexes.last} (held by every member)` : 'no index held by every member'}`);
  const d = L.firstDivergence;
  if (d) {
    const kind = d.kind === 'term' ? 'different terms (raft replaced an uncommitted tail on some members)' : d.kind === 'data' ? 'same term, different data: CORRUPTION (raft never does this)' : 'some members lack this entry';
    out.push(`  first divergence at index ${d.index}: ${kind}${d.committed && d.kind !== 'missing' ? '; COMMITTED on every holder' : ''}`);
    for (const e of d.entries) out.push(`    ${pad(e.member, w)}  term ${e.term}  ${e.summary}  (${e.segment} at byte ${e.offset})`);
    for (const m of d.lacking) out.push(`    ${pad(m, w)}  no entry`);
  }
  const c = L.conflicts;
  if (c.term + c.data > 0) out.push(`  conflicting entries: ${c.term + c.data} (index ${c.first}..${c.last}): ${c.term} of different terms, ${c.data} same term with different data; ${c.committed} committed on every holder`);
  for (const l of L.lacking) {
    const dmg = r.members.find((m) => m.path === l.member)?.wal.endsInDamage;
    const split = r.problems.some((p) => p.kind === 'split' && p.members.includes(l.member));
    const why = l.where === 'after-last' ? (dmg ? `its readable log ends before: damage in ${dmg.segment} at byte ${dmg.offset}` : split ? 'its log ends before, after its older-term tail' : 'its log ends before: behind') : l.where === 'gap' ? 'a gap in its log' : 'older than its first WAL entry (purged or in its snapshot): not a divergence';
    out.push(`  ${l.member} lacks index ${l.from}..${l.to} (${why})`);
  }
  if (L.keys.length) {
    out.push(`  keys involved (${L.keys.length}${L.keysTruncated ? '+' : ''}):`);
    let line = '   ';
    for (const k of L.keys.slice(0, 12)) {
      if (line.length > 4 && line.length + k.length > 98) {
        out.push(line);
        line = '   ';
      }
      line += ` ${k}`;
    }
    out.push(L.keys.length > 12 ? `${line} ... (--json lists up to 200)` : line);
  }
  if (r.hardStateDiffers) out.push('  HardState (term, commit) differs between members');
  if (r.snapshotsDiffer) out.push('  snapshots (WAL snapshot records or .snap files) differ between members');
  if (r.problems.length) {
    out.push('');
    out.push('Problems');
    for (const p of r.problems) out.push(`  ${p.kind.toUpperCase().padEnd(7)} ${diffProblemText(p)}`);
  }
  out.push('');
  const label = r.status.toUpperCase();
  out.push(`${o.color ? `\x1b[${r.status === 'consistent' ? 32 : r.status === 'behind' ? 33 : 31}m${label}\x1b[0m` : label} (exit ${r.exitCode}) — ${diffHeadline(r)}`);
  return out.join('\n') + '\n';
}
