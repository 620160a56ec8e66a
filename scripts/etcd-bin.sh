#!/usr/bin/env bash
# etcd-bin.sh VERSION - make sure real etcd binaries are cached; print their directory.
#
#   VERSION 3.4 -> Debian bookworm etcd-server/etcd-client 3.4.23 (etcd, etcdctl)
#   VERSION 3.5 -> Debian sid (else trixie)   etcd-server/etcd-client 3.5.30 (etcd, etcdctl, etcdutl)
#   VERSION 3.6 -> built with Go from upstream's Go modules, v3.6.16 (etcd, etcdctl, etcdutl)
#   VERSION 3.7 -> the same, v3.7.3
# 3.4/3.5: the pinned Debian version is used while the archive has it, else the newest of the series
# (warning). 3.6/3.7: Debian has no etcd 3.6+, so the binaries are built (`go build`, CGO_ENABLED=0,
# -trimpath, GOTOOLCHAIN=local, GOFLAGS=-mod=readonly) from tools/etcd-build/<series>/, a module of
# ours whose go.mod/go.sum pin go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3 and every dependency. Needs
# the `go` named in that go.mod (1.26+) and the Go module proxy the first time; the module and build
# caches live under the cache dir (go/mod, go/build) so CI can cache them with it.
# stdout: the directory ($ETCD_BIN_CACHE/<debian-version> or $ETCD_BIN_CACHE/<version>-go-<hash of
#         tools/etcd-build/<series>>, default cache ~/.cache/etcd-wal-doctor/etcd-bin) holding the
#         binaries and a VERSION file.
# How: a private apt sources list / index / download cache under the cache dir, `apt-get update` and
# `apt-get download` with options pointing at it, then `dpkg -x`. The system's apt sources and state
# are never read or changed and no prior `apt-get update` is needed (root is not needed either).
# Cached: instant and offline. Env: ETCD_BIN_CACHE, ETCD_BIN_MIRROR (http://deb.debian.org/debian).
set -euo pipefail
die() { echo "etcd-bin.sh: error: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: etcd-bin.sh 3.4|3.5|3.6|3.7"

build_go() {  # 3.6 / 3.7: build from tools/etcd-build/$1 (pinned Go modules) into the cache
  local series=$1 cache=${ETCD_BIN_CACHE:-${HOME:-/tmp}/.cache/etcd-wal-doctor/etcd-bin}
  local mod; mod=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)/tools/etcd-build/$series
  [ -f "$mod/go.mod" ] && [ -f "$mod/go.sum" ] || die "$mod/go.mod or go.sum missing"
  local up; up=$(sed -n 's#^[[:space:]]*go\.etcd\.io/etcd/server/v3 v\([0-9][0-9.]*\)$#\1#p' "$mod/go.mod")
  [ -n "$up" ] || die "no go.etcd.io/etcd/server/v3 version in $mod/go.mod"
  # the dir name carries a hash of what decides the build, so changing a pin never reuses old binaries
  local sum; sum=$(cd "$mod" && cat go.mod go.sum cmd/*/main.go | sha256sum | cut -c1-8)
  local d=$cache/$up-go-$sum
  mkdir -p "$cache"
  [ -f "$d/VERSION" ] && { echo "$d"; exit 0; }
  exec 9>"$cache/.lock"; flock -w 1800 9 || die "timed out waiting for $cache/.lock"
  [ -f "$d/VERSION" ] && { echo "$d"; exit 0; }   # another process built it meanwhile
  command -v go >/dev/null || die "go is required to build etcd $series (Debian has no etcd $series)"
  echo "etcd-bin.sh: building etcd $up from Go modules ($mod) with $(go version | cut -d' ' -f3) ..." >&2
  TMP=$(mktemp -d "$cache/.tmp.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
  local t0=$SECONDS
  (cd "$mod" && env GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS="-mod=readonly -modcacherw -buildvcs=false" \
     GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off go build -trimpath -o "$TMP/bin/" ./cmd/etcd ./cmd/etcdctl ./cmd/etcdutl >&2) \
    || die "go build of etcd $up failed (Go module proxy unreachable, or go older than $mod/go.mod asks?)"
  local b got   # etcd --version, etcdctl version, etcdutl version: each must name the pinned version
  for b in etcd etcdctl etcdutl; do
    [ -x "$TMP/bin/$b" ] || die "$b was not built"
    got=$({ if [ $b = etcd ]; then "$TMP/bin/$b" --version; else "$TMP/bin/$b" version; fi; } 2>/dev/null \
          | sed -n 's/^\(etcd Version\|etcdctl version\|etcdutl version\): //p' | head -n1 || true)
    [ "$got" = "$up" ] || die "$b reports version '$got', expected $up"
  done
  echo "etcd $up (Go modules go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3 v$up, built by $(go version | cut -d' ' -f3) from tools/etcd-build/$series @ $sum)" >"$TMP/bin/VERSION"
  rm -rf "$d"; mv "$TMP/bin" "$d"
  echo "etcd-bin.sh: $series -> etcd $up (built in $((SECONDS - t0)) s)" >&2
  echo "$d"; exit 0
}

case "$1" in
  3.4) SUITES="bookworm";   PIN=3.4.23-4+b4 ;;
  3.5) SUITES="sid trixie"; PIN=3.5.30-2 ;;
  3.6|3.7) build_go "$1" ;;
  *) die "unsupported version '$1' (use 3.4, 3.5, 3.6 or 3.7)" ;;
esac
SERIES=$1
CACHE=${ETCD_BIN_CACHE:-${HOME:-/tmp}/.cache/etcd-wal-doctor/etcd-bin}
MIRROR=${ETCD_BIN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE"

cached() {  # the pinned dir if complete, else the newest complete dir of this series
  [ -f "$CACHE/$PIN/VERSION" ] && { echo "$CACHE/$PIN"; return; }
  local d; d=$(ls -d "$CACHE/$SERIES".*/VERSION 2>/dev/null | sort -V | tail -n1 || true)
  [ -z "$d" ] || dirname "$d"
}
d=$(cached); [ -n "$d" ] && { echo "$d"; exit 0; }

exec 9>"$CACHE/.lock"; flock -w 600 9 || die "timed out waiting for $CACHE/.lock"
d=$(cached); [ -n "$d" ] && { echo "$d"; exit 0; }   # another process fetched it meanwhile

command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "apt-get and dpkg are required"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$KEYRING" ] || die "$KEYRING missing (package debian-archive-keyring)"
A=$CACHE/apt-$SERIES
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/parts"
: >"$A/status"
for s in $SUITES; do echo "deb [signed-by=$KEYRING] $MIRROR $s main"; done >"$A/sources.list"
APT=(-o "Dir::Etc::SourceList=$A/sources.list" -o "Dir::Etc::SourceParts=$A/parts"
     -o "Dir::Etc::Preferences=$A/parts/none" -o "Dir::Etc::PreferencesParts=$A/parts"
     -o "Dir::State::Lists=$A/lists" -o "Dir::State::status=$A/status" -o "Dir::Cache=$A/cache"
     -o APT::Sandbox::User=root -o Acquire::Languages=none -o Acquire::Retries=2)

echo "etcd-bin.sh: fetching the package index for $SUITES from $MIRROR ..." >&2
apt-get "${APT[@]}" -qq update --error-on=any >&2 || die "cannot reach the Debian archive at $MIRROR"
VERS=$(apt-cache "${APT[@]}" madison etcd-server | awk -F' *[|] *' '{print $2}')
if grep -qxF "$PIN" <<<"$VERS"; then V=$PIN
else
  V=$(grep "^$SERIES\." <<<"$VERS" | sort -V | tail -n1 || true)
  [ -n "$V" ] || die "no etcd-server $SERIES.x in $SUITES (found: $(echo $VERS))"
  echo "etcd-bin.sh: warning: $PIN is gone from the archive, using $V" >&2
fi

TMP=$(mktemp -d "$CACHE/.tmp.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && apt-get "${APT[@]}" -qq download "etcd-server=$V" "etcd-client=$V" >&2) \
  || die "apt-get download etcd-server=$V etcd-client=$V failed"
for deb in "$TMP"/*.deb; do dpkg -x "$deb" "$TMP/x"; done
mkdir "$TMP/bin"
for b in etcd etcdctl etcdutl; do [ ! -x "$TMP/x/usr/bin/$b" ] || cp "$TMP/x/usr/bin/$b" "$TMP/bin/"; done
[ -x "$TMP/bin/etcd" ] && [ -x "$TMP/bin/etcdctl" ] || die "etcd/etcdctl missing from the packages"
UP=$("$TMP/bin/etcd" --version | sed -n 's/^etcd Version: //p')
[ -n "$UP" ] || die "the downloaded etcd does not run here"
echo "etcd $UP (Debian $V)" >"$TMP/bin/VERSION"
rm -rf "${CACHE:?}/$V"; mv "$TMP/bin" "$CACHE/$V"
echo "etcd-bin.sh: $SERIES -> etcd $UP (Debian $V)" >&2
echo "$CACHE/$V"
