/**
 * The bytes a repair appends to a segment: empty normal entries (a bridge) and a HardState,
 * framed and chained exactly as etcd writes them (gogoproto encoding, CRC-32C chain continued
 * from the last good record). Pure: the plan says what, this says which bytes.
 */
import { encodeEntry, encodeHardState } from '../format/proto/messages.js';
import { RecordEncoder } from '../format/wal/encoder.js';
import { RecordType } from '../format/wal/record.js';
import type { RepairAction } from './plan.js';

/** Largest bridge we write in one go (about 24 bytes a frame: 24 MB); a larger gap is a rebuild. */
export const MAX_BRIDGE_ENTRIES = 1_000_000n;

export function appendBytes(a: Extract<RepairAction, { kind: 'append-records' }>): Uint8Array {
  const enc = new RecordEncoder(a.crc);
  const parts: Uint8Array[] = [];
  if (a.entries) {
    const first = BigInt(a.entries.firstIndex);
    const last = BigInt(a.entries.lastIndex);
    const term = BigInt(a.entries.term);
    if (last - first + 1n > MAX_BRIDGE_ENTRIES) throw new RangeError(`bridge of ${last - first + 1n} entries is larger than ${MAX_BRIDGE_ENTRIES}`);
    for (let i = first; i <= last; i++) parts.push(enc.record(RecordType.entry, encodeEntry({ type: 0, term, index: i })));
  }
  const hs = a.hardState;
  parts.push(enc.record(RecordType.state, encodeHardState({ term: BigInt(hs.term), vote: BigInt(hs.vote), commit: BigInt(hs.commit) })));
  return Buffer.concat(parts);
}
