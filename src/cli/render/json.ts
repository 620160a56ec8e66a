/** JSON output, two-space indented, one trailing newline: bigints never reach here (reports carry them as strings), but guard anyway. */
export function json(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}
