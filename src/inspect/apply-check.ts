/**
 * Whether etcd can apply an entry, as each release line's apply loop decides it:
 *
 *  - every line: the entry type must be EntryNormal (0) or EntryConfChange (1); anything else,
 *    EntryConfChangeV2 included, panics `unknown entry type`; a conf change's data must unmarshal
 *    as a ConfChange (`pbutil.MustUnmarshal` panics otherwise); empty data is raft's no-op;
 *  - 3.4 / 3.5 (applyEntryNormal): the data must unmarshal as an InternalRaftRequest or, failing
 *    that, as a v2 Request;
 *  - 3.6: the same, and a v2 request (bare, or in InternalRaftRequest.v2) must be a PUT of a member's
 *    attributes or of the cluster version — anything else (3.4 proposed a QGET for every /health)
 *    panics `detected disallowed v2 WAL for stage --v2-deprecation=write-only`;
 *  - 3.7 (apply.Apply): the data must unmarshal as an InternalRaftRequest (protobuf-go, field 2
 *    reserved: a bare v2 Request no longer parses), and carry an ID or a header; a conf change is
 *    protobuf-go's too.
 */
import { type FieldSelection, checkEtcdUnmarshal, etcdAppliesEntryDataInEachRelease, fieldSelection, unmarshalFailureText, type ProtoObject } from '../format/proto/unmarshal.js';
import type { Entry } from '../format/wal/walk.js';
import type { EtcdVersion } from './predict.js';

export type ApplyProblem =
  | { kind: 'unknown-type'; entryType: number }
  | { kind: 'undecodable'; as: 'normal' | 'conf-change'; error: string }
  | { kind: 'v2-disallowed'; method: string; path: string }
  | { kind: 'no-header' };

export type ApplyProblems = Partial<Record<EtcdVersion, ApplyProblem>>;

/** `/0/members/<hex id>/attributes` (as a substring: etcd's regexp is not anchored) or `/0/version`. */
const MEMBER_ATTRIBUTES = /\/0\/members\/[0-9A-Fa-f]{1,16}\/attributes/;

function v2Allowed(r: ProtoObject): { method: string; path: string } | undefined {
  const method = typeof r['method'] === 'string' ? r['method'] : '';
  const path = typeof r['path'] === 'string' ? r['path'] : '';
  if (method === 'PUT' && (MEMBER_ATTRIBUTES.test(path) || path === '/0/version')) return undefined;
  return { method, path };
}

const IRR = 'etcdserverpb.InternalRaftRequest';
/** The fields of an InternalRaftRequest read below (3.7's header check: `id`, `header`; `alarm` for the listener). */
const JUDGED = ['id', 'header', 'v2', 'clusterVersionSet', 'alarm'];
let judgedOnly: FieldSelection | undefined;
/** A listener's selection with the fields read below added, made once per selection. */
const widened = new WeakMap<FieldSelection, FieldSelection>();

/** What to build of each request: what is read below, and what the listener asks for. */
function selectionFor(listen: EntryListener | undefined): FieldSelection | undefined {
  if (!listen?.request) return (judgedOnly ??= fieldSelection({ [IRR]: JUDGED }));
  const asked = listen.requestFields;
  if (asked === undefined) return undefined; // built whole
  let sel = widened.get(asked);
  if (sel === undefined) {
    const top = asked.fields[IRR];
    sel = top === undefined ? asked : fieldSelection({ ...asked.fields, [IRR]: [...top, ...JUDGED] });
    widened.set(asked, sel);
  }
  return sel;
}

/** What the walk wants to hear about the entries it judges, once decoded. */
export interface EntryListener {
  /** The cluster version an entry sets (v2 PUT /0/version, or IRR cluster_version_set). */
  clusterVersion?(version: string): void;
  /** An alarm request (etcdserverpb.AlarmRequest: action, memberId, alarm) the entry carries. */
  alarm?(request: ProtoObject): void;
  /** A normal entry's InternalRaftRequest, decoded with 3.6's rules: the fields `requestFields`
   *  selects (and those judged here), or every field when it is unset. */
  request?(request: ProtoObject): void;
  /** A normal entry with data that 3.6's rules read as no request at all (undecodable). */
  unread?(): void;
  requestFields?: FieldSelection;
}

/** What each release line makes of applying this entry; empty when all apply it. */
export function applyProblems(e: Entry, listen?: EntryListener): ApplyProblems {
  if (e.type !== 0 && e.type !== 1) {
    const p: ApplyProblem = { kind: 'unknown-type', entryType: e.type };
    return { '3.4': p, '3.5': p, '3.6': p, '3.7': p };
  }
  const data = e.data;
  if (data === undefined || data.length === 0) return {};
  if (e.type === 1) {
    const out: ApplyProblems = {};
    const cc = checkEtcdUnmarshal('raftpb.ConfChange', data);
    if (!cc.ok) {
      const p: ApplyProblem = { kind: 'undecodable', as: 'conf-change', error: unmarshalFailureText(cc.failure) };
      out['3.4'] = out['3.5'] = out['3.6'] = p;
    }
    const cc37 = checkEtcdUnmarshal('raftpb.ConfChange', data, { release: '3.7' });
    if (!cc37.ok) out['3.7'] = { kind: 'undecodable', as: 'conf-change', error: unmarshalFailureText(cc37.failure) };
    return out;
  }
  const out: ApplyProblems = {};
  const { '3.5': r35, '3.6': r36, '3.7': r37 } = etcdAppliesEntryDataInEachRelease(data, { select: selectionFor(listen) });
  if (listen && (r36.as === 'internal-raft-request' || r36.as === 'v2-request')) {
    const req = r36.request;
    const set = req['clusterVersionSet'] as ProtoObject | undefined;
    const v2 = (r36.as === 'v2-request' ? req : req['v2']) as ProtoObject | undefined;
    if (set && typeof set['ver'] === 'string') listen.clusterVersion?.(set['ver']);
    else if (v2 && v2['method'] === 'PUT' && v2['path'] === '/0/version' && typeof v2['val'] === 'string') listen.clusterVersion?.(v2['val']);
    const alarm = req['alarm'] as ProtoObject | undefined;
    if (alarm) listen.alarm?.(alarm);
    if (r36.as === 'internal-raft-request') listen.request?.(req);
  } else listen?.unread?.();
  if (r35.as === 'panic') {
    const p: ApplyProblem = { kind: 'undecodable', as: 'normal', error: r35.panic.slice('unmarshal should never fail ('.length, -1) };
    out['3.4'] = p;
    out['3.5'] = p;
  }
  if (r36.as === 'panic') out['3.6'] = { kind: 'undecodable', as: 'normal', error: r36.panic.slice('unmarshal should never fail ('.length, -1) };
  else if (r36.as === 'v2-request' || (r36.as === 'internal-raft-request' && r36.request['v2'] !== undefined)) {
    const v2 = r36.as === 'v2-request' ? r36.request : (r36.request['v2'] as ProtoObject);
    const bad = v2Allowed(v2);
    if (bad) out['3.6'] = { kind: 'v2-disallowed', ...bad };
  }
  if (r37.as === 'panic') out['3.7'] = { kind: 'undecodable', as: 'normal', error: unmarshalFailureText(r37.irrFailure) };
  else if (r37.as === 'no-header') out['3.7'] = { kind: 'no-header' };
  return out;
}
