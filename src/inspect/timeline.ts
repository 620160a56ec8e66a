/**
 * A timeline of one WAL, in one streaming pass: where each term began (leader elections),
 * membership changes, compactions, snapshot records, and counts of writes per term (and per
 * Kubernetes resource when keys under /registry/ appear). Memory is bounded: counts, and event
 * lists capped at MAX_EVENTS each.
 */
import { type SegmentInput, walkWal } from '../format/wal/walk.js';
import { describeEntry } from '../format/payload/payload.js';
import type { EntryPayloadJson } from '../format/payload/payload.js';
import { k8sOps } from '../format/payload/k8s.js';

export const MAX_EVENTS = 1000;

export interface TermJson {
  /** decimal string */
  term: string;
  /** index of the first entry of this term in the log (decimal string) */
  firstIndex: string;
  lastIndex: string;
  entries: number;
  puts: number;
  deletes: number;
  txns: number;
}

export interface ConfChangeEventJson {
  index: string;
  term: string;
  /** ConfChangeAddNode, ConfChangeRemoveNode, ConfChangeUpdateNode, ConfChangeAddLearnerNode */
  type: string;
  nodeIdHex: string;
  /** member name from the change's context, when etcd put one there */
  name?: string;
}

export interface CompactionEventJson {
  index: string;
  term: string;
  revision: string;
}

export interface SnapshotEventJson {
  /** WAL segment number (0-based, name order) and byte offset of the record */
  segment: number;
  offset: number;
  index: string;
  term: string;
}

export interface K8sResourceCountJson {
  resource: string;
  puts: number;
  deletes: number;
}

export interface TimelineJson {
  segments: number;
  entries: number;
  firstIndex?: string;
  lastIndex?: string;
  terms: TermJson[];
  confChanges: ConfChangeEventJson[];
  compactions: CompactionEventJson[];
  snapshots: SnapshotEventJson[];
  /** per Kubernetes resource (keys under /registry/), sorted by resource; empty when none */
  k8s: K8sResourceCountJson[];
  /** lists that reached MAX_EVENTS and stopped growing (counts above stay exact) */
  truncated?: string[];
}

interface TermAcc {
  term: bigint;
  firstIndex: bigint;
  lastIndex: bigint;
  entries: number;
  puts: number;
  deletes: number;
  txns: number;
}

function memberName(ctx: unknown): string | undefined {
  if (ctx && typeof ctx === 'object' && !Array.isArray(ctx)) {
    const n = (ctx as Record<string, unknown>)['name'];
    if (typeof n === 'string' && n !== '') return n;
  }
  return undefined;
}

/** Builds the timeline of the WAL segments given (in name order). */
export function buildTimeline(segments: SegmentInput[], opts: { onProgress?: (done: number, total: number) => void } = {}): TimelineJson {
  const terms: TermAcc[] = [];
  const confChanges: ConfChangeEventJson[] = [];
  const compactions: CompactionEventJson[] = [];
  const snapshots: SnapshotEventJson[] = [];
  const k8s = new Map<string, K8sResourceCountJson>();
  const truncated = new Set<string>();
  let entries = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;

  const push = <T>(list: T[], name: string, v: T): void => {
    if (list.length < MAX_EVENTS) list.push(v);
    else truncated.add(name);
  };

  const walkOpts = opts.onProgress ? { onProgress: opts.onProgress } : {};
  for (const ev of walkWal(segments, walkOpts)) {
    if (ev.kind !== 'record') continue;
    const p = ev.payload;
    if (p.type === 'snapshot') {
      push(snapshots, 'snapshots', { segment: ev.segment, offset: ev.offset, index: p.snapshot.index.toString(), term: p.snapshot.term.toString() });
      continue;
    }
    if (p.type !== 'entry') continue;
    const e = p.entry;
    entries++;
    if (first === undefined) first = e.index;
    last = e.index;
    let t = terms[terms.length - 1];
    if (!t || t.term !== e.term) {
      // A term change; an entry of an older term after a newer one (an overwrite) starts a new row too.
      if (terms.length >= MAX_EVENTS) {
        truncated.add('terms');
        t = terms[terms.length - 1]!;
      } else {
        t = { term: e.term, firstIndex: e.index, lastIndex: e.index, entries: 0, puts: 0, deletes: 0, txns: 0 };
        terms.push(t);
      }
    }
    t.entries++;
    t.lastIndex = e.index;
    const d: EntryPayloadJson = describeEntry(e);
    const index = e.index.toString();
    const term = e.term.toString();
    if (d.kind === 'conf_change') {
      const name = memberName(d.context);
      push(confChanges, 'confChanges', { index, term, type: d.type, nodeIdHex: d.nodeIdHex, ...(name ? { name } : {}) });
    } else if (d.kind === 'conf_change_v2') {
      const name = memberName(d.context);
      for (const c of d.changes) push(confChanges, 'confChanges', { index, term, type: c.type, nodeIdHex: c.nodeIdHex, ...(name ? { name } : {}) });
    } else if (d.kind === 'v3') {
      const r = d.request;
      if (r.op === 'put') t.puts++;
      else if (r.op === 'delete_range') t.deletes++;
      else if (r.op === 'txn') t.txns++;
      else if (r.op === 'compaction') push(compactions, 'compactions', { index, term, revision: r.revision });
      if (r.op === 'put' || r.op === 'delete_range' || r.op === 'txn') {
        for (const op of k8sOps(d)) {
          let c = k8s.get(op.resource);
          if (!c) {
            if (k8s.size >= MAX_EVENTS) {
              truncated.add('k8s');
              continue;
            }
            c = { resource: op.resource, puts: 0, deletes: 0 };
            k8s.set(op.resource, c);
          }
          if (op.op === 'put') c.puts++;
          else c.deletes++;
        }
      }
    }
  }

  const out: TimelineJson = {
    segments: segments.length,
    entries,
    terms: terms.map((t) => ({
      term: t.term.toString(),
      firstIndex: t.firstIndex.toString(),
      lastIndex: t.lastIndex.toString(),
      entries: t.entries,
      puts: t.puts,
      deletes: t.deletes,
      txns: t.txns,
    })),
    confChanges,
    compactions,
    snapshots,
    k8s: [...k8s.values()].sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0)),
  };
  if (first !== undefined) out.firstIndex = first.toString();
  if (last !== undefined) out.lastIndex = last.toString();
  if (truncated.size) out.truncated = [...truncated].sort();
  return out;
}
