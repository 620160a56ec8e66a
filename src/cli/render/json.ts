/** JSON output: bigints never reach here (reports carry them as strings), but guard anyway. */
export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}
