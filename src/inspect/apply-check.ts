/**
 * Whether etcd can apply an entry, as its apply loop decides it (server.go applyEntries and
 * applyEntryNormal): the entry type must be EntryNormal (0) or EntryConfChange (1) — anything else,
 * EntryConfChangeV2 included, panics `unknown entry type`; a normal entry's data must unmarshal as
 * an InternalRaftRequest or, failing that, as a v2 Request (`pbutil.MustUnmarshal` panics
 * otherwise); a conf change's data must unmarshal as a ConfChange. Empty data is raft's no-op.
 */
import { decodeMessage } from '../format/proto/messages.js';
import type { Entry } from '../format/wal/walk.js';
import type { BadEntry } from './predict.js';

function unmarshalError(typeName: string, data: Uint8Array): string | undefined {
  try {
    decodeMessage(typeName, data);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export function entryProblem(e: Entry): BadEntry['problem'] | undefined {
  if (e.type !== 0 && e.type !== 1) return { kind: 'unknown-type', entryType: e.type };
  const data = e.data;
  if (data === undefined || data.length === 0) return undefined;
  if (e.type === 0) {
    if (unmarshalError('etcdserverpb.InternalRaftRequest', data) === undefined) return undefined;
    const err = unmarshalError('etcdserverpb.Request', data);
    return err === undefined ? undefined : { kind: 'undecodable', as: 'normal', error: err };
  }
  const err = unmarshalError('raftpb.ConfChange', data);
  return err === undefined ? undefined : { kind: 'undecodable', as: 'conf-change', error: err };
}
