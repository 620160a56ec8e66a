#!/bin/sh
# wal-doctor-gate DATA_DIR: may etcd start on DATA_DIR? Run it just before etcd starts (systemd
# ExecStartPre=, a Kubernetes initContainer). Exit 0: start etcd. Anything else: do not.
#
#   verify 0   healthy                         -> start
#   verify 1   repairable                      -> repair --auto (only repairs that lose nothing
#                                                 etcd acknowledged; backup first), start if it
#                                                 leaves the dir healthy, else stay down
#   verify 6   an alarm stays raised (NOSPACE, -> start: etcd serves reads and refuses writes until a
#              CORRUPT)                           human frees space and runs etcdctl alarm disarm,
#                                                 which only a running etcd can do
#   verify 75  another etcd holds the dir      -> do NOT start a second one
#   verify 2   needs rebuild                   -> stay down: a human decides (rebuild, --bridge)
#   other      usage / I/O error               -> stay down
#
# No member/ dir yet (a member's first start): nothing to check, start.
# WAL_DOCTOR: the wal-doctor to run (default: wal-doctor on PATH).
# WAL_DOCTOR_BACKUP_DIR: a directory that keeps repair's backups, one new subdirectory each
#   (default: beside the data dir; in a container, a mounted host directory, or they vanish).
set -u
wd=${WAL_DOCTOR:-wal-doctor}
dir=${1:?usage: wal-doctor-gate DATA_DIR}
say() { echo "wal-doctor-gate: $*" >&2; }

if [ ! -d "$dir/member" ]; then
  say "$dir has no member/ dir: a new member, nothing to check; starting"
  exit 0
fi
"$wd" verify "$dir"
rc=$?
case $rc in
  0) exit 0 ;;
  1)
    say "repairable: repair --auto"
    if [ -n "${WAL_DOCTOR_BACKUP_DIR:-}" ]; then
      "$wd" repair --auto --backup-dir "$WAL_DOCTOR_BACKUP_DIR/$(basename "$dir").wal-doctor-backup-$(date -u +%Y%m%dT%H%M%SZ)" "$dir"
    else
      "$wd" repair --auto "$dir"
    fi
    rc=$?
    if [ "$rc" -eq 0 ]; then exit 0; fi
    if [ "$rc" -eq 6 ]; then say "repaired; an alarm stays raised: starting etcd, which refuses writes until it is disarmed"; exit 0; fi
    say "repair --auto refused (exit $rc): etcd stays down; run wal-doctor inspect $dir"
    exit "$rc"
    ;;
  6) say "an alarm is raised in $dir: starting etcd, which serves reads and refuses writes until a human frees space and runs etcdctl alarm disarm (wal-doctor verify $dir says how)"; exit 0 ;;
  75) say "another etcd holds $dir: NOT starting a second one"; exit 75 ;;
  2) say "needs a human: etcd stays down; wal-doctor inspect $dir says why and what to run"; exit 2 ;;
  *) say "wal-doctor verify failed (exit $rc): etcd stays down"; exit "$rc" ;;
esac
