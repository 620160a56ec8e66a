/**
 * Who the source was: the member and cluster IDs its WAL names, and the members its db records
 * (names, peer URLs). `rebuild` compares them with the IDs the new data dir gets, says when they
 * change, and finds the flags that keep them when the old IDs came from etcd's own formula
 * (a member of a cluster bootstrapped with --initial-cluster; a member added later with
 * `member add` has a time-derived ID no flag reproduces).
 */
import type { BoltDb } from '../format/bbolt/db.js';
import { readMembers } from '../format/bbolt/etcd-meta.js';
import { ReadWindow } from '../format/bytes.js';
import { decodeSegment } from '../format/wal/decoder.js';
import { RecordType } from '../format/wal/record.js';
import { decodeMetadata } from '../format/proto/messages.js';
import { FileSource } from '../io/file-source.js';
import { openBoltFile } from '../io/bolt-file.js';
import { clusterId, memberId, type Sha1 } from './ids.js';
import { sha1 as nodeSha1 } from './sha1.js';

export interface OldMember {
  id: bigint;
  name: string | undefined;
  peerUrls: string[];
}

export interface OldIdentity {
  /** From the first WAL segment's metadata record (a data dir); undefined for a snapshot file. */
  memberId: bigint | undefined;
  clusterId: bigint | undefined;
  /** The db's `members` bucket. */
  members: OldMember[];
}

/** The tokens tried to reproduce the old IDs: etcd's default, then the one given. */
const COMMON_TOKENS = ['etcd-cluster'];

export function readOldIdentity(dbPath: string, firstSegment: string | undefined): OldIdentity {
  let mid: bigint | undefined;
  let cid: bigint | undefined;
  if (firstSegment) {
    const src = new FileSource(firstSegment);
    try {
      for (const ev of decodeSegment(new ReadWindow(src), { crc: 0, salvage: false })) {
        if (ev.kind !== 'record') break;
        if (ev.record.type === RecordType.metadata && ev.record.data) {
          const md = decodeMetadata(ev.record.data);
          mid = md.nodeId;
          cid = md.clusterId;
          break;
        }
      }
    } catch {
      // an unreadable head: the IDs stay unknown
    } finally {
      src.close();
    }
  }
  let members: OldMember[] = [];
  try {
    const o = openBoltFile(dbPath);
    try {
      members = membersOf(o.db);
    } finally {
      o.close();
    }
  } catch {
    // the restore itself reports an unreadable db
  }
  return { memberId: mid, clusterId: cid, members };
}

function membersOf(db: BoltDb): OldMember[] {
  return readMembers(db).members.map((m) => ({ id: m.id, name: m.name, peerUrls: m.peerURLs }));
}

export interface KeepIdsFlags {
  name: string;
  initialCluster: string;
  initialAdvertisePeerUrls: string;
  initialClusterToken: string;
}

/**
 * The rebuild flags that give the new dir the old member and cluster IDs, when the old members'
 * IDs are what etcd computes from their peer URLs and a token we can find (the default
 * `etcd-cluster`, or `token`); undefined when no token reproduces them.
 */
export function flagsKeepingIds(old: OldIdentity, token: string, sha1: Sha1 = nodeSha1): KeepIdsFlags | undefined {
  const local = old.members.find((m) => m.id === old.memberId) ?? (old.members.length === 1 ? old.members[0] : undefined);
  if (!local || old.members.some((m) => !m.name || m.peerUrls.length === 0)) return undefined;
  for (const t of [token, ...COMMON_TOKENS.filter((x) => x !== token)]) {
    if (!old.members.every((m) => memberId(m.peerUrls, t, sha1) === m.id)) continue;
    if (old.clusterId !== undefined && clusterId(old.members.map((m) => m.id), sha1) !== old.clusterId) continue;
    return {
      name: local.name!,
      initialCluster: old.members.flatMap((m) => m.peerUrls.map((u) => `${m.name}=${u}`)).join(','),
      initialAdvertisePeerUrls: local.peerUrls.join(','),
      initialClusterToken: t,
    };
  }
  return undefined;
}
