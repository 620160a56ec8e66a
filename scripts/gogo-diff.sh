#!/usr/bin/env bash
# gogo-diff.sh - build tools/gogo-diff (etcd's own Unmarshal, as a stdin/stdout filter) for etcd 3.5
# and 3.6 (gogoproto's generated code) and 3.7 (protobuf-go's proto.Unmarshal) once and cache the
# binaries; print their directory.
#
# stdout: $GOGO_DIFF_CACHE/<hash of tools/gogo-diff> (default cache ~/.cache/etcd-wal-doctor/gogo-diff),
#         holding gogo-diff-v35, gogo-diff-v36, gogo-diff-v37 and VERSIONS (the modules each was built with).
# The hash covers every go.mod, go.sum and .go file of tools/gogo-diff, so an edit rebuilds.
# Needs the go command (modules come from the Go module proxy, pinned by the committed go.sum);
# cached: instant and offline. test/format/proto/gogo-diff.test.ts runs it; .ci/run runs it first.
set -euo pipefail
die() { echo "gogo-diff.sh: error: $*" >&2; exit 1; }
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
SRC=$ROOT/tools/gogo-diff
CACHE=${GOGO_DIFF_CACHE:-${HOME:-/tmp}/.cache/etcd-wal-doctor/gogo-diff}
HASH=$(cd "$SRC" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort \
  | xargs sha256sum | sha256sum | cut -c1-16)
OUT=$CACHE/$HASH
[ -f "$OUT/VERSIONS" ] && { echo "$OUT"; exit 0; }

command -v go >/dev/null || die "the go command is not on PATH (needed to build tools/gogo-diff)"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"; flock -w 600 9 || die "timed out waiting for $CACHE/.lock"
[ -f "$OUT/VERSIONS" ] && { echo "$OUT"; exit 0; }   # another process built it meanwhile

TMP=$(mktemp -d "$CACHE/.tmp.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
for v in v35 v36 v37; do
  echo "gogo-diff.sh: building tools/gogo-diff/$v ..." >&2
  (cd "$SRC/$v" && GOFLAGS=-mod=readonly go build -trimpath -o "$TMP/gogo-diff-$v" .) >&2 \
    || die "go build in tools/gogo-diff/$v failed"
  { echo "== gogo-diff-$v"; "$TMP/gogo-diff-$v" version; } >>"$TMP/VERSIONS"
done
rm -rf "$OUT"; mv "$TMP" "$OUT"; trap - EXIT
echo "gogo-diff.sh: built $OUT" >&2
echo "$OUT"
