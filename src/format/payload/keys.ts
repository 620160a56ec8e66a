/** Which keys an entry's request touches (for --key-prefix and for repair plans). */
import type { BytesJson, EntryPayloadJson } from './payload.js';
import type { KvOpJson } from './payload-schema.js';

export interface KeyRange {
  key: Uint8Array;
  /** Exclusive end; undefined = just `key`; a single 0x00 byte = every key >= key. */
  end: Uint8Array | undefined;
}

export function bytesOf(b: BytesJson): Uint8Array {
  return b.encoding === 'utf8' ? Buffer.from(b.text, 'utf8') : Buffer.from(b.base64, 'base64');
}

function opRanges(op: KvOpJson, out: KeyRange[]): void {
  switch (op.op) {
    case 'put':
      out.push({ key: bytesOf(op.key), end: undefined });
      break;
    case 'delete_range':
    case 'range':
      out.push({ key: bytesOf(op.key), end: op.rangeEnd ? bytesOf(op.rangeEnd) : undefined });
      break;
    case 'txn':
      for (const c of op.compare) out.push({ key: bytesOf(c.key), end: c.rangeEnd ? bytesOf(c.rangeEnd) : undefined });
      for (const o of [...op.success, ...op.failure]) opRanges(o, out);
      break;
  }
}

/** The key ranges a payload reads or writes (v3 KV requests and v2 paths). */
export function keyRanges(p: EntryPayloadJson): KeyRange[] {
  const out: KeyRange[] = [];
  if (p.kind === 'v3') {
    const r = p.request;
    if (r.op === 'put' || r.op === 'delete_range' || r.op === 'range' || r.op === 'txn') opRanges(r as KvOpJson, out);
    else if (r.op === 'v2') out.push({ key: Buffer.from(r.request.path, 'utf8'), end: undefined });
  } else if (p.kind === 'v2') {
    out.push({ key: Buffer.from(p.request.path, 'utf8'), end: undefined });
  }
  return out;
}

/** The first key after every key that starts with `prefix` (etcd's prefix range end). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined; // all 0xff: no end
}

/** Whether a key range overlaps the keys starting with `prefix`. */
export function rangeTouchesPrefix(r: KeyRange, prefix: Uint8Array): boolean {
  const startsWith = (k: Uint8Array) => k.length >= prefix.length && Buffer.compare(k.subarray(0, prefix.length), prefix) === 0;
  if (r.end === undefined) return startsWith(r.key);
  // [key, end) ∩ [prefix, prefixEnd) ≠ ∅
  const pEnd = prefixEnd(prefix);
  const toInfinity = r.end.length === 1 && r.end[0] === 0;
  const startsBeforePrefixEnd = pEnd === undefined || Buffer.compare(r.key, pEnd) < 0;
  const endsAfterPrefix = toInfinity || Buffer.compare(r.end, prefix) > 0;
  return startsBeforePrefixEnd && endsAfterPrefix;
}
