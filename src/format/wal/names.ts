/**
 * Segment names. etcd names a WAL segment `%016x-%016x.wal`: the sequence number, then the raft
 * index the first entry in it is expected to have (a hint, never re-validated). It scans names with
 * that pattern after checking the `.wal` suffix and ignores other files. `.snap` files are
 * `<term>-<index>.snap`, received backends `<index>.snap.db`.
 */

const WAL_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const SNAP_DB_NAME = /^([0-9a-f]{16})\.snap\.db$/;

export interface WalName {
  seq: bigint;
  index: bigint;
}

export function parseWalName(name: string): WalName | undefined {
  const m = WAL_NAME.exec(name);
  if (!m) return undefined;
  return { seq: BigInt('0x' + m[1]), index: BigInt('0x' + m[2]) };
}

export function walName(seq: bigint, index: bigint): string {
  return `${hex16(seq)}-${hex16(index)}.wal`;
}

export interface SnapName {
  term: bigint;
  index: bigint;
}

export function parseSnapName(name: string): SnapName | undefined {
  const m = SNAP_NAME.exec(name);
  if (!m) return undefined;
  return { term: BigInt('0x' + m[1]), index: BigInt('0x' + m[2]) };
}

export function snapName(term: bigint, index: bigint): string {
  return `${hex16(term)}-${hex16(index)}.snap`;
}

export function parseSnapDbName(name: string): bigint | undefined {
  const m = SNAP_DB_NAME.exec(name);
  return m ? BigInt('0x' + m[1]) : undefined;
}

/** 16-digit lower-case hex, the way etcd prints member IDs, cluster IDs and names files. */
export function hex16(v: bigint): string {
  // int64 IDs (leases) may arrive negative: print their two's-complement bits, as etcd does.
  return BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

/**
 * Where a reader wanting only entries at `index` or above may start in the sorted segment `names`:
 * the last segment whose name's index is at most `index`. etcd cuts a segment after the entry before
 * the next one's name index, so every entry in the segments before that one lies below `index`
 * (or was overwritten by raft later in the log, never committed). 0 — read everything — unless
 * every name parses and the names form the sequence etcd writes: sequence numbers one apart and
 * name indexes never decreasing.
 */
export function firstSegmentFrom(names: readonly string[], index: bigint): number {
  let first = 0;
  let prev: WalName | undefined;
  for (let i = 0; i < names.length; i++) {
    const n = parseWalName(names[i]!);
    if (!n || (prev && (n.seq !== prev.seq + 1n || n.index < prev.index))) return 0;
    if (n.index <= index) first = i;
    prev = n;
  }
  return first;
}
