/**
 * Tables in the two shapes operators know: aligned columns (the default text) and the boxed table
 * etcdctl and etcdutl draw for `-w table` (tablewriter: upper-case centred headers, cells
 * right-aligned, one space of padding, `+---+` borders).
 */

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function alignedTable(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** etcdctl's `-w table`: the header upper-cased and centred, every cell right-aligned. */
export function boxTable(header: string[], rows: string[][]): string {
  const head = header.map((h) => h.toUpperCase());
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const centre = (s: string, w: number) => {
    const gap = w - s.length;
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + s + ' '.repeat(gap - left);
  };
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [rule, line(head.map((h, i) => centre(h, widths[i]!))), rule, ...rows.map((r) => line(widths.map((w, i) => (r[i] ?? '').padStart(w)))), rule].join('\n') + '\n';
}

/** Bytes as go-humanize's `Bytes` prints them (SI units: `152 kB`), which etcdutl's tables use. */
export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : val.toFixed(0)} ${units[e]}`;
}
