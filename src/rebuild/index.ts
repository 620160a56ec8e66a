export type { Bootstrap, BootstrapFlags, BootstrapMember, InitialCluster, Sha1 } from './ids.js';
export { RESTORE_DEFAULTS, bootstrapMembers, clusterId, memberId, parseInitialCluster, parsePeerUrl, parseUrlList, verifyBootstrap } from './ids.js';
export { sha1 } from './sha1.js';
export { goJsonString, memberJson, restoreV2StoreJson } from './v2store.js';
export type { StoreMember } from './v2store.js';
export { SEGMENT_BYTES, restoreConfState, restoreFileNames, restoreSnapFile, restoreWalRecords } from './wal.js';
export type { RestoreRaftInput, RestoreTarget } from './wal.js';
export { buildDirFor, checkOutDir, checkTrailer, describeIds, planRestore, restoreDbTransform, removeStaleBuildDirs, restoreFromFile, writeRestoredDataDir } from './restore.js';
export type { PlannedFile, RestoreOptions, RestorePlan, RestoreResult } from './restore.js';
