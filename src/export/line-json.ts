/**
 * One export line as JSON text: what `JSON.stringify(line)` gives, byte for byte, in about half
 * its time (on a Kubernetes txn entry, ~1.1 KB of JSON, V8's generic serializer was a third of an
 * export). The shapes export writes most — the line itself, a v3 payload, put / range /
 * delete_range / txn ops, compares, keys and values — are written field by field; everything else
 * (other payloads and requests, hardState, snapshot, metadata, k8s) goes through JSON.stringify.
 *
 * It writes the fields of each object in the order the schema declares them (ndjson-schema.ts,
 * payload-schema.ts), which is the order the builders (lineOf, describeEntry, maskSecretValues)
 * set them in: JSON.stringify follows insertion order, so that is what makes the two agree.
 * test/export/line-json.test.ts holds both: random lines generated from the zod schemas (every
 * field, every string JSON must escape) and every line of every fixture against JSON.stringify.
 * Strings are written as they are unless they hold a character JSON.stringify escapes (`"`, `\`,
 * U+0000–U+001F, a surrogate): those go through JSON.stringify itself. A field whose schema pattern
 * allows none of those (decimal and hex numbers, base64, enum names, the crc) is written without
 * the test (`plain`): on a Kubernetes export that test was a tenth of the CPU time. The test makes
 * its random lines match those patterns and checks every line against the schema.
 */
import type { ExportLine } from './ndjson-schema.js';
import type { BytesJson, CompareJson, EntryPayloadJson, KvOpJson } from '../format/payload/payload-schema.js';

// What JSON.stringify escapes: '"', '\\', control characters, and lone surrogates (any surrogate
// sends the string the slow way; a pair is then kept, as JSON.stringify keeps it).
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

function str(s: string): string {
  return ESCAPED.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** A string whose schema pattern has nothing JSON escapes (decString, hexId, base64String, enumString, ...). */
function plain(s: string): string {
  return '"' + s + '"';
}

/** A number as JSON.stringify writes it (NaN and the infinities as null). */
function num(n: number): string {
  return Number.isFinite(n) ? '' + n : 'null';
}

function bytes(b: BytesJson): string {
  let s = b.encoding === 'utf8' ? '{"encoding":"utf8","text":' + str(b.text) : '{"encoding":"base64","base64":' + plain(b.base64);
  s += ',"bytes":' + num(b.bytes);
  if (b.truncated !== undefined) s += ',"truncated":' + b.truncated;
  if (b.masked !== undefined) s += ',"masked":' + b.masked;
  return s + '}';
}

function compare(c: CompareJson): string {
  let s = '{"result":' + plain(c.result) + ',"target":' + plain(c.target) + ',"key":' + bytes(c.key);
  if (c.rangeEnd !== undefined) s += ',"rangeEnd":' + bytes(c.rangeEnd);
  if (c.version !== undefined) s += ',"version":' + plain(c.version);
  if (c.createRevision !== undefined) s += ',"createRevision":' + plain(c.createRevision);
  if (c.modRevision !== undefined) s += ',"modRevision":' + plain(c.modRevision);
  if (c.value !== undefined) s += ',"value":' + bytes(c.value);
  if (c.lease !== undefined) s += ',"lease":' + plain(c.lease);
  if (c.leaseHex !== undefined) s += ',"leaseHex":' + plain(c.leaseHex);
  return s + '}';
}

function list<T>(items: T[], one: (x: T) => string): string {
  let s = '[';
  for (let i = 0; i < items.length; i++) s += (i === 0 ? '' : ',') + one(items[i]!);
  return s + ']';
}

function kvOp(o: KvOpJson): string {
  let s: string;
  switch (o.op) {
    case 'put':
      s = '{"op":"put","key":' + bytes(o.key) + ',"value":' + bytes(o.value);
      if (o.lease !== undefined) s += ',"lease":' + plain(o.lease);
      if (o.leaseHex !== undefined) s += ',"leaseHex":' + plain(o.leaseHex);
      if (o.prevKv !== undefined) s += ',"prevKv":' + o.prevKv;
      if (o.ignoreValue !== undefined) s += ',"ignoreValue":' + o.ignoreValue;
      if (o.ignoreLease !== undefined) s += ',"ignoreLease":' + o.ignoreLease;
      return s + '}';
    case 'range':
      s = '{"op":"range","key":' + bytes(o.key);
      if (o.rangeEnd !== undefined) s += ',"rangeEnd":' + bytes(o.rangeEnd);
      if (o.limit !== undefined) s += ',"limit":' + plain(o.limit);
      if (o.revision !== undefined) s += ',"revision":' + plain(o.revision);
      if (o.sortOrder !== undefined) s += ',"sortOrder":' + plain(o.sortOrder);
      if (o.sortTarget !== undefined) s += ',"sortTarget":' + plain(o.sortTarget);
      if (o.serializable !== undefined) s += ',"serializable":' + o.serializable;
      if (o.keysOnly !== undefined) s += ',"keysOnly":' + o.keysOnly;
      if (o.countOnly !== undefined) s += ',"countOnly":' + o.countOnly;
      if (o.minModRevision !== undefined) s += ',"minModRevision":' + plain(o.minModRevision);
      if (o.maxModRevision !== undefined) s += ',"maxModRevision":' + plain(o.maxModRevision);
      if (o.minCreateRevision !== undefined) s += ',"minCreateRevision":' + plain(o.minCreateRevision);
      if (o.maxCreateRevision !== undefined) s += ',"maxCreateRevision":' + plain(o.maxCreateRevision);
      return s + '}';
    case 'delete_range':
      s = '{"op":"delete_range","key":' + bytes(o.key);
      if (o.rangeEnd !== undefined) s += ',"rangeEnd":' + bytes(o.rangeEnd);
      if (o.prevKv !== undefined) s += ',"prevKv":' + o.prevKv;
      return s + '}';
    case 'txn':
      return '{"op":"txn","compare":' + list(o.compare, compare) + ',"success":' + list(o.success, kvOp) + ',"failure":' + list(o.failure, kvOp) + '}';
    case 'none':
      return '{"op":"none"}';
  }
}

function payload(p: EntryPayloadJson): string {
  if (p.kind !== 'v3') return JSON.stringify(p);
  let s = '{"kind":"v3"';
  if (p.requestId !== undefined) s += ',"requestId":' + plain(p.requestId);
  if (p.requestIdHex !== undefined) s += ',"requestIdHex":' + plain(p.requestIdHex);
  if (p.username !== undefined) s += ',"username":' + str(p.username);
  if (p.authRevision !== undefined) s += ',"authRevision":' + plain(p.authRevision);
  const r = p.request;
  const request = r.op === 'put' || r.op === 'range' || r.op === 'delete_range' || r.op === 'txn' || r.op === 'none' ? kvOp(r as KvOpJson) : JSON.stringify(r);
  return s + ',"request":' + request + '}';
}

/** `JSON.stringify(line)`, faster (see the header for what it relies on). */
export function exportLineJson(l: ExportLine): string {
  let s = '{"segment":' + str(l.segment) + ',"offset":' + num(l.offset) + ',"recordNo":' + (l.recordNo === null ? 'null' : num(l.recordNo));
  s += ',"recordType":' + plain(l.recordType) + ',"crc":' + plain(l.crc);
  if (l.damaged !== undefined) s += ',"damaged":' + l.damaged;
  if (l.chained !== undefined) s += ',"chained":' + l.chained;
  if (l.index !== undefined) s += ',"index":' + plain(l.index);
  if (l.term !== undefined) s += ',"term":' + plain(l.term);
  if (l.entryType !== undefined) s += ',"entryType":' + plain(l.entryType);
  if (l.dataBytes !== undefined) s += ',"dataBytes":' + num(l.dataBytes);
  if (l.payload !== undefined) s += ',"payload":' + payload(l.payload);
  if (l.summary !== undefined) s += ',"summary":' + str(l.summary);
  if (l.hardState !== undefined) s += ',"hardState":' + JSON.stringify(l.hardState);
  if (l.snapshot !== undefined) s += ',"snapshot":' + JSON.stringify(l.snapshot);
  if (l.metadata !== undefined) s += ',"metadata":' + JSON.stringify(l.metadata);
  if (l.recordTypeValue !== undefined) s += ',"recordTypeValue":' + num(l.recordTypeValue);
  if (l.error !== undefined) s += ',"error":' + str(l.error);
  if (l.k8s !== undefined) s += ',"k8s":' + JSON.stringify(l.k8s);
  return s + '}';
}
