/**
 * The rows of one segment for the records screen, in bounded memory: the analysis's record index
 * (inspect/record-index.ts, gathered in its one walk) gives each record's offset and whether it is
 * good, the damaged frame where good data ends, or a record found past the damage. A row is
 * decoded again only when it is shown, searched or filtered, so a segment of hundreds of
 * thousands of records costs ~9 bytes per record plus a small cache of decoded rows.
 */
import { type ByteSource, ReadWindow } from '../format/bytes.js';
import type { SegmentEnd } from '../format/wal/decoder.js';
import { RowKind, type SegmentIndex } from '../inspect/record-index.js';
import { FRAME_HEADER_BYTES, type FrameSize, decodeFrameSize } from '../format/wal/frame.js';
import { type RecordDecodeFailure, decodeRecord, recordFailureText, recordFieldSpans, recordTypeName } from '../format/wal/record.js';
import { hex16 } from '../format/wal/names.js';
import { type Payload, decodePayload } from '../format/wal/walk.js';
import { type EntryPayloadJson, describeEntry, summarizePayload } from '../format/payload/payload.js';
import { type K8sOpJson, k8sOps, maskSecretValues } from '../format/payload/k8s.js';

export { RowKind };
export type RowKindName = 'good' | 'damaged' | 'salvaged';
const KIND_NAMES: RowKindName[] = ['good', 'damaged', 'salvaged'];

export const ENTRY_TYPE_NAMES = ['Normal', 'ConfChange', 'ConfChgV2'] as const;

/** Frames larger than this are shown in part (the hex view and JSON never need more). */
const MAX_ROW_READ_BYTES = 16 << 20;
const CACHE_ROWS = 512;

export interface RowView {
  row: number;
  kind: RowKindName;
  offset: number;
  /** Position among the segment's good records (etcd's record number); undefined past damage. */
  recordNo: number | undefined;
  frame: FrameSize | undefined;
  /** `entry`, `state`, ... or `type-9`; `?` when the record did not decode. */
  type: string;
  index: bigint | undefined;
  term: bigint | undefined;
  entryType: string | undefined;
  /** `put`, `txn`, `noop`, ... for entries; the record type otherwise (what `f` filters on). */
  kindLabel: string;
  summary: string;
  payload: Payload | undefined;
  described: EntryPayloadJson | undefined;
  /** Writes to Kubernetes objects (keys under /registry/), values decoded; undefined when none. */
  k8s: K8sOpJson[] | undefined;
  failure: RecordDecodeFailure | undefined;
  crc: number | undefined;
}

/** One good-or-not record position per row (the analysis's record index); rows are decoded on demand (see `view`). */
export class SegmentRows {
  readonly count: number;
  private readonly offsets: Float64Array;
  private readonly kinds: Uint8Array;
  private readonly cache = new Map<number, RowView>();
  readonly end: SegmentEnd;
  /** Row of the frame where good data ends, or -1 when the segment ends cleanly. */
  readonly damagedRow: number;

  constructor(
    readonly source: ByteSource,
    index: SegmentIndex,
  ) {
    this.count = index.count;
    this.offsets = index.offsets;
    this.kinds = index.kinds;
    this.end = index.end;
    this.damagedRow = index.damagedRow;
    let salvaged = 0;
    for (let r = 0; r < this.count; r++) if (this.kinds[r] === RowKind.salvaged) salvaged++;
    this.salvagedCount = salvaged;
    this.goodCount = this.count - salvaged - (this.damagedRow >= 0 ? 1 : 0);
  }

  /** Good records: the segment's record count on every screen (the report counts the same). */
  readonly goodCount: number;
  /** Records found past the damage by scanning (etcd never reads them). */
  readonly salvagedCount: number;

  /** `213 records + 1 damaged + 215 past it`: the same count the segments screen shows, then the rest. */
  countText(): string {
    const n = (v: number) => v.toLocaleString('en-US');
    return `${n(this.goodCount)} records${this.damagedRow >= 0 ? ' + ! 1 damaged' : ''}${this.salvagedCount ? ` + ${n(this.salvagedCount)} past it` : ''}`;
  }

  offsetOf(row: number): number {
    return this.offsets[row] ?? 0;
  }

  kindOf(row: number): RowKindName {
    return KIND_NAMES[this.kinds[row] ?? 0] ?? 'good';
  }

  /** Rows that are not good records, from `from` on, wrapping around; -1 if none. */
  nextDamage(from: number): number {
    for (let k = 1; k <= this.count; k++) {
      const r = (from + k) % this.count;
      if (this.kinds[r] !== RowKind.good) return r;
    }
    return -1;
  }

  /** The frame's bytes as far as the file has them: length word, record, padding. */
  frameBytes(row: number): Uint8Array {
    const offset = this.offsetOf(row);
    const left = this.source.size - offset;
    if (left < FRAME_HEADER_BYTES) return this.source.read(offset, left).slice();
    const frame = decodeFrameSize(this.source.read(offset, FRAME_HEADER_BYTES), 0);
    const want = Math.min(left, FRAME_HEADER_BYTES + frame.recBytes + frame.padBytes, MAX_ROW_READ_BYTES);
    return this.source.read(offset, want).slice();
  }

  view(row: number): RowView {
    const hit = this.cache.get(row);
    if (hit) return hit;
    const v = this.decode(row);
    if (this.cache.size >= CACHE_ROWS) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(row, v);
    return v;
  }

  private decode(row: number): RowView {
    const kind = this.kindOf(row);
    const offset = this.offsetOf(row);
    const base: RowView = {
      row,
      kind,
      offset,
      recordNo: kind === 'salvaged' ? undefined : row,
      frame: undefined,
      type: '?',
      index: undefined,
      term: undefined,
      entryType: undefined,
      kindLabel: '?',
      summary: '',
      payload: undefined,
      described: undefined,
      k8s: undefined,
      failure: undefined,
      crc: undefined,
    };
    const bytes = this.frameBytes(row);
    if (bytes.length < FRAME_HEADER_BYTES) {
      base.summary = `only ${bytes.length} byte(s) left for the 8-byte length word`;
      return base;
    }
    const frame = decodeFrameSize(bytes, 0);
    base.frame = frame;
    const body = bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + frame.recBytes);
    if (body.length < frame.recBytes) {
      base.summary = `length word says ${frame.recBytes} bytes, the file has ${bytes.length - FRAME_HEADER_BYTES}`;
      return base;
    }
    const dec = decodeRecord(body);
    if (!dec.ok) {
      base.failure = dec.failure;
      base.summary = `record does not decode: ${recordFailureText(dec.failure)}`;
      return base;
    }
    base.crc = dec.record.crc;
    const payload = decodePayload(dec.record.type, dec.record.data);
    base.payload = payload;
    base.type = recordTypeName(dec.record.type) ?? `type-${dec.record.type}`;
    base.kindLabel = base.type;
    switch (payload.type) {
      case 'entry': {
        const e = payload.entry;
        base.index = e.index;
        base.term = e.term;
        base.entryType = ENTRY_TYPE_NAMES[e.type] ?? `type-${e.type}`;
        const d = describeEntry(e, { maxValueBytes: 512 });
        base.described = d;
        base.kindLabel = d.kind === 'v3' ? d.request.op : d.kind;
        base.summary = summarizePayload(d);
        if (d.kind === 'v3' && (d.request.op === 'put' || d.request.op === 'delete_range' || d.request.op === 'txn')) {
          // k8sOps reads the full values (d holds at most 512 bytes of each).
          const ops = k8sOps(describeEntry(e));
          if (ops.length) {
            base.k8s = ops;
            base.summary = `${k8sLabel(ops)} ${base.summary}`;
          }
        }
        break;
      }
      case 'state':
        base.term = payload.state.term;
        base.summary = `HardState term=${payload.state.term} vote=${hex16(payload.state.vote)} commit=${payload.state.commit}`;
        break;
      case 'metadata':
        base.summary = `member ${hex16(payload.metadata.nodeId)} cluster ${hex16(payload.metadata.clusterId)}`;
        break;
      case 'crc':
        base.summary = `running CRC 0x${hexCrc(dec.record.crc)}`;
        break;
      case 'snapshot':
        base.index = payload.snapshot.index;
        base.term = payload.snapshot.term;
        base.summary = `snapshot index=${payload.snapshot.index} term=${payload.snapshot.term}`;
        break;
      case 'unknown':
        base.summary = `unknown record type ${payload.recordType}`;
        break;
      case 'undecodable':
        base.summary = `payload does not decode: ${payload.error}`;
        break;
    }
    return base;
  }

  /**
   * Whether a row matches a search: an entry index or a byte offset (decimal or 0x hex), or text
   * in the record's bytes (keys, values) or its one-line summary (`PUT`, `HardState`, ...). A
   * text with a `/` (a key) is looked for in the raw bytes only, which needs no decoding: a
   * search through 200,000 records then takes a fraction of a second instead of seconds.
   */
  matches(row: number, query: string): boolean {
    const q = query.trim();
    if (q === '') return false;
    if (/^0x[0-9a-f]+$/i.test(q)) return this.offsetOf(row) === Number.parseInt(q.slice(2), 16);
    if (/^\d+$/.test(q)) {
      if (this.offsetOf(row) === Number(q)) return true;
      const v = this.view(row);
      if (v.type === 'entry' && v.index === BigInt(q)) return true;
      return v.summary.includes(q);
    }
    if (this.rawIncludes(row, q)) return true;
    return !q.includes('/') && this.view(row).summary.includes(q);
  }

  private scan: ReadWindow | undefined;
  private needle: { text: string; bytes: Buffer } | undefined;

  /** Whether the frame's bytes contain `text` (UTF-8), read through one sequential window. */
  private rawIncludes(row: number, text: string): boolean {
    if (this.needle?.text !== text) this.needle = { text, bytes: Buffer.from(text, 'utf8') };
    this.scan ??= new ReadWindow(this.source);
    const offset = this.offsetOf(row);
    const left = this.source.size - offset;
    if (left < FRAME_HEADER_BYTES) return false;
    const frame = decodeFrameSize(this.scan.bytes(offset, FRAME_HEADER_BYTES), 0);
    const body = this.scan.bytes(offset + FRAME_HEADER_BYTES, Math.min(frame.recBytes, left - FRAME_HEADER_BYTES, MAX_ROW_READ_BYTES));
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(this.needle.bytes);
  }

  /** Next row after `from` (wrapping) that matches, or -1. `within` restricts to a filtered list. */
  find(query: string, from: number, within?: Int32Array): number {
    const n = within ? within.length : this.count;
    for (let k = 1; k <= n; k++) {
      const i = (from + k) % n;
      const row = within ? within[i]! : i;
      if (this.matches(row, query)) return i;
    }
    return -1;
  }

  /** Rows whose request kind, record type or entry type is `type` (case-insensitive). */
  filter(type: string): Int32Array {
    const t = type.trim().toLowerCase();
    const out: number[] = [];
    for (let r = 0; r < this.count; r++) {
      const v = this.view(r);
      if (v.kindLabel.toLowerCase() === t || v.type === t || v.entryType?.toLowerCase() === t || (t === 'damaged' && v.kind !== 'good')) out.push(r);
    }
    return Int32Array.from(out);
  }
}

export function hexCrc(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}

/** Byte classes of a frame for the hex view. */
export type ByteClass = 'length' | 'type' | 'crc' | 'data' | 'pad' | 'bad';

export interface FrameLayout {
  classes: ByteClass[];
  /** One line per field: where it is and what it holds. */
  legend: string[];
}

/**
 * Where each field of a frame sits: the 8-byte length word, the record's `type`, `crc` and `data`
 * fields (positions from the WAL record decoder's recordFieldSpans), the padding; and which bytes are damaged:
 * the stored CRC of a record whose CRC does not match, the bytes from where a record stops
 * decoding, a length word that runs past the file, or padding/sectors that should not be zero.
 */
export function frameLayout(bytes: Uint8Array, end: SegmentEnd | undefined): FrameLayout {
  const classes: ByteClass[] = new Array<ByteClass>(bytes.length).fill('data');
  const legend: string[] = [];
  const mark = (from: number, to: number, c: ByteClass) => {
    for (let i = Math.max(0, from); i < Math.min(to, bytes.length); i++) classes[i] = c;
  };
  if (bytes.length < FRAME_HEADER_BYTES) {
    mark(0, bytes.length, 'bad');
    legend.push(`bytes 0..${bytes.length - 1}: a length word cut short (${bytes.length} of 8 bytes)`);
    return { classes, legend };
  }
  const frame = decodeFrameSize(bytes, 0);
  mark(0, 8, 'length');
  legend.push(`length word 0..7: N=${frame.recBytes} P=${frame.padBytes}${frame.wellFormed ? '' : ' (not as etcd writes it)'}`);
  const recEnd = FRAME_HEADER_BYTES + frame.recBytes;
  if (end?.kind === 'oversized' || recEnd > bytes.length) {
    mark(0, 8, 'bad');
    legend.push(`damaged: the record would end at byte ${recEnd}, past the ${bytes.length} bytes there are`);
    return { classes, legend };
  }
  // Fields as far as they read; the decoder's own failure (below) says where the rest goes wrong.
  for (const f of recordFieldSpans(bytes.subarray(FRAME_HEADER_BYTES, recEnd))) {
    const [from, to] = [8 + f.start, 8 + f.end];
    if (f.field === 'type' || f.field === 'crc') {
      mark(from, to, f.field);
      legend.push(`${f.field} ${from}..${to - 1}`);
    } else if (f.field === 'data') {
      const len = f.end - f.valueStart;
      legend.push(`data ${8 + f.valueStart}..${8 + f.valueStart + len - 1} (${len} bytes)`);
    }
  }
  if (frame.padBytes > 0) {
    mark(recEnd, recEnd + frame.padBytes, 'pad');
    legend.push(`padding ${recEnd}..${recEnd + frame.padBytes - 1}`);
  }
  if (end?.kind === 'crc-mismatch') {
    for (let i = 0; i < classes.length; i++) if (classes[i] === 'crc') classes[i] = 'bad';
    legend.push(`damaged: stored crc 0x${hexCrc(end.stored)}, computed 0x${hexCrc(end.computed)} over the data`);
    if (end.zeroSector) legend.push('a 512-byte sector of it is all zeros: etcd calls it a torn write');
  } else if (end?.kind === 'decode-error') {
    mark(8 + end.failure.at, recEnd, 'bad');
    legend.push(`damaged: ${recordFailureText(end.failure)} at record byte ${end.failure.at} (frame byte ${8 + end.failure.at})`);
  } else if (end?.kind === 'crc-link-mismatch') {
    for (let i = 0; i < classes.length; i++) if (classes[i] === 'crc') classes[i] = 'bad';
    legend.push(`damaged: crc record holds 0x${hexCrc(end.stored)}, the previous segment ended at 0x${hexCrc(end.running)}`);
  }
  return { classes, legend };
}

export interface HexLine {
  /** File offset of the line's first byte. */
  offset: number;
  bytes: { hex: string; cls: ByteClass }[];
  ascii: string;
}

/** 16 bytes a line; `fileOffset` is where bytes[0] sits in the segment. */
export function hexLines(bytes: Uint8Array, classes: ByteClass[], fileOffset: number, maxLines: number): HexLine[] {
  const out: HexLine[] = [];
  for (let i = 0; i < bytes.length && out.length < maxLines; i += 16) {
    const chunk = bytes.subarray(i, i + 16);
    out.push({
      offset: fileOffset + i,
      bytes: [...chunk].map((b, k) => ({ hex: b.toString(16).padStart(2, '0'), cls: classes[i + k] ?? 'data' })),
      ascii: [...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join(''),
    });
  }
  return out;
}

/** `[Pod ns/name]` (the first object an entry writes, `+2` more when a txn writes others). */
export function k8sLabel(ops: K8sOpJson[]): string {
  const o = ops[0]!;
  const what = o.object?.kind ?? o.resource;
  const where = o.namespace !== undefined ? `${o.namespace}/${o.name ?? ''}` : (o.name ?? '');
  return `[${o.op === 'delete_range' ? 'delete ' : ''}${what}${where ? ` ${where}` : ''}${ops.length > 1 ? ` +${ops.length - 1}` : ''}]`;
}

/** The decoded record as JSON lines (bigints as decimal strings, bytes as base64). */
export function recordJson(v: RowView): string[] {
  const obj: Record<string, unknown> = { offset: v.offset, recordNo: v.recordNo ?? null, state: v.kind, recordType: v.type };
  if (v.crc !== undefined) obj['crc'] = `0x${hexCrc(v.crc)}`;
  if (v.failure) obj['error'] = recordFailureText(v.failure);
  const p = v.payload;
  if (p?.type === 'entry') {
    obj['index'] = `${p.entry.index}`;
    obj['term'] = `${p.entry.term}`;
    obj['entryType'] = v.entryType;
    // As export does: a plaintext Kubernetes Secret's value is not shown in the JSON (the hex view is the raw frame).
    const described = v.described ? structuredClone(v.described) : undefined;
    const masked = described ? maskSecretValues(described) : 0;
    obj['payload'] = described;
    if (masked) obj['masked'] = `${masked} Kubernetes Secret value(s) stored without encryption at rest`;
    if (v.k8s) obj['k8s'] = v.k8s;
  } else if (p && p.type !== 'crc') {
    obj['payload'] = p;
  }
  const text = JSON.stringify(
    obj,
    (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x),
    2,
  );
  return text.split('\n');
}
