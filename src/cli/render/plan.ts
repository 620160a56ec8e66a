// The repair plan as the terminal shows it (what repair and --dry-run print); the plan itself is
// data, built by repair/plan.ts.
import type { AppendSpec, RepairPlan } from '../../repair/plan.js';

/** A one-screen rendering of the plan (what --dry-run prints). */
export function describePlan(p: RepairPlan): string {
  let out = '';
  if (p.noop) return `nothing to repair in ${p.dataDir}: etcd will start as is\n`;
  if (p.actions.length === 0 && p.refusal) return `repair plan for ${p.dataDir}: none\n  REFUSED: ${p.refusal.reason}\n`;
  out += `repair plan for ${p.dataDir}\n`;
  const appended = (x: AppendSpec | null) => (x ? `; then${x.entries ? ` empty entries ${x.entries.firstIndex}..${x.entries.lastIndex} (term ${x.entries.term}) and` : ''} a HardState {term ${x.hardState.term}, commit ${x.hardState.commit}}` : '');
  for (const [i, a] of p.actions.entries()) {
    const n = `${i + 1}.`;
    switch (a.kind) {
      case 'truncate-segment':
        out += `  ${n} ${a.file}: keep bytes 0..${a.keepBytes - 1}, zero bytes ${a.keepBytes}..${a.zeroFillTo - 1} (${a.originalSize - a.keepBytes} bytes of damaged data go; the size stays ${a.zeroFillTo})\n     why: ${a.reason}\n`;
        break;
      case 'set-aside':
        out += `  ${n} ${a.file}: move into the backup\n     why: ${a.reason}\n`;
        break;
      case 'append-records':
        out += `  ${n} ${a.file}: append at byte ${a.atOffset}${a.entries ? ` empty entries ${a.entries.firstIndex}..${a.entries.lastIndex} (term ${a.entries.term}) and` : ''} a HardState {term ${a.hardState.term}, commit ${a.hardState.commit}}, zeros after\n     why: ${a.reason}\n`;
        break;
      case 'rewrite-segment':
        out += `  ${n} ${a.file}: from byte ${a.from}, ${a.fill ? `empty entries ${a.fill.first}..${a.fill.last} (term ${a.fill.term}) in place of bytes ${a.from}..${a.resumeAt - 1}, then ` : ''}the records up to byte ${a.keepTo} re-chained${a.substitute.length ? `, entries ${a.substitute.map((x) => x.index).join(', ')} replaced by empty ones` : ''}${appended(a.append)}; zeros after\n     why: ${a.reason}\n`;
        break;
      case 'rechain-segment':
        out += `  ${n} ${a.file}: every record re-chained${appended(a.append)}\n     why: ${a.reason}\n`;
        break;
      case 'restore-length-word':
        out += `  ${n} ${a.file}: write the length word back at byte ${a.offset} (${a.recBytes} bytes + ${a.padBytes} padding)\n     why: ${a.reason}\n`;
        break;
      case 'rename-segment':
        out += `  ${n} ${a.file}: rename to ${a.to.slice(a.to.lastIndexOf('/') + 1)}\n     why: ${a.reason}\n`;
        break;
    }
  }
  const d = p.dropped;
  if (d.records > 0 || d.entries > 0) {
    out += `  entries dropped: ${d.entries}${d.firstIndex ? ` (index ${d.firstIndex}..${d.lastIndex})` : ''}, in ${d.records} record(s) after the damage\n`;
    if (d.keys.length) out += `  keys they touched (${d.keysTotal}): ${d.keys.slice(0, 8).join(', ')}${d.keysTotal > 8 ? ', ...' : ''}\n`;
  }
  if (p.bridged.entries > 0) out += `  entries bridged (empty; the db holds their writes): ${p.bridged.entries} (index ${p.bridged.firstIndex}..${p.bridged.lastIndex})\n`;
  out += `  afterwards: last index ${p.after.lastIndex ?? '-'}, commit ${p.after.commit ?? '-'}, term ${p.after.term ?? '-'}\n`;
  for (const w of p.warnings) out += `  note: ${w}\n`;
  if (p.refusal) out += `  REFUSED: ${p.refusal.reason}\n`;
  return out;
}
