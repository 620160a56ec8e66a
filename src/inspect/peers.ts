/**
 * Where this member stands against its peers' data dirs (`--peer-dir`): what the cluster committed
 * (the highest HardState commit among the peers) against the end of this member's log.
 *
 * A member whose log ends below what the cluster committed is behind. Stopped and started again,
 * it catches up. Put back from an older copy while the cluster ran on, it is not safe: the leader
 * may still remember it further ahead (its match index) and send a commit beyond its log, and raft
 * panics `tocommit(N) is out of range [lastIndex(M)]`. The files cannot tell the two apart; the
 * safe path for both is to remove the member and add it back, so it syncs from the leader.
 */
import { locate } from '../io/layout.js';
import { analyzeWalFiles } from './wal-files.js';

export interface PeerState {
  dir: string;
  memberId: bigint | undefined;
  clusterId: bigint | undefined;
  commit: bigint;
  lastIndex: bigint | undefined;
}

/** One peer's log, read as the analysis reads a WAL (good records only). */
export function readPeer(dir: string): PeerState {
  const layout = locate(dir);
  const wal = analyzeWalFiles(layout.segments, { applyProblems: false });
  let commit = 0n;
  let lastIndex: bigint | undefined;
  for (const s of wal.segments) {
    if (s.lastHardState && s.lastHardState.commit > commit) commit = s.lastHardState.commit;
    if (s.lastEntry) lastIndex = s.lastEntry.index;
  }
  return { dir: layout.root, memberId: wal.metadata?.nodeId, clusterId: wal.metadata?.clusterId, commit, lastIndex };
}
