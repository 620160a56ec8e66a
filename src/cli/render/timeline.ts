/** Human rendering of `inspect --timeline` (see src/inspect/timeline.ts). */
import type { TimelineJson } from '../../inspect/timeline.js';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function renderTimeline(t: TimelineJson): string {
  const out: string[] = [];
  const range = t.firstIndex !== undefined ? `, indexes ${t.firstIndex}..${t.lastIndex}` : '';
  out.push(`WAL timeline: ${plural(t.segments, 'segment')}, ${plural(t.entries, 'entry', 'entries')}${range}`);
  out.push('');
  out.push(`Terms (${t.terms.length}):`);
  if (t.terms.length === 0) out.push('  (no entries)');
  t.terms.forEach((r, i) => {
    const prev = t.terms[i - 1];
    // raft replaced the previous term's entries from here on (a leader's uncommitted tail)
    const over = prev && BigInt(r.firstIndex) <= BigInt(prev.lastIndex) ? `  (overwrites term ${prev.term} from index ${r.firstIndex})` : '';
    out.push(
      `  term ${r.term.padStart(4)}  began at index ${r.firstIndex.padEnd(8)} to ${r.lastIndex.padEnd(8)} ` +
        `${plural(r.entries, 'entry', 'entries')}: ${plural(r.puts, 'put')}, ${plural(r.deletes, 'delete')}, ${plural(r.txns, 'txn')}${over}`,
    );
  });
  out.push('');
  out.push(`Conf changes (${t.confChanges.length}):`);
  if (t.confChanges.length === 0) out.push('  (none)');
  for (const c of t.confChanges) {
    out.push(`  index ${c.index} (term ${c.term})  ${c.type} ${c.nodeIdHex}${c.name ? ` (${c.name})` : ''}`);
  }
  out.push('');
  out.push(`Compactions (${t.compactions.length}):`);
  if (t.compactions.length === 0) out.push('  (none)');
  for (const c of t.compactions) out.push(`  index ${c.index} (term ${c.term})  compact to revision ${c.revision}`);
  out.push('');
  out.push(`Snapshot records (${t.snapshots.length}):`);
  if (t.snapshots.length === 0) out.push('  (none)');
  for (const s of t.snapshots) out.push(`  segment ${s.segment} offset ${s.offset}  snapshot at index ${s.index} (term ${s.term})`);
  if (t.k8s.length) {
    out.push('');
    out.push(`Kubernetes writes per resource (${t.k8s.length}):`);
    const w = Math.max(...t.k8s.map((k) => k.resource.length));
    for (const k of t.k8s) out.push(`  ${k.resource.padEnd(w)}  ${plural(k.puts, 'put')}, ${plural(k.deletes, 'delete')}`);
  }
  if (t.truncated?.length) {
    out.push('');
    out.push(`(lists cut at their first entries: ${t.truncated.join(', ')})`);
  }
  return out.join('\n') + '\n';
}
