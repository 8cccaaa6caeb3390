#!/bin/sh
# Installs the Debian packages Nexus needs to build its native addon and to run
# its tests against real initiators and a peer target (DESIGN.md 9):
#   build:  build-essential python3 (node-gyp), liburing-dev (io_uring; optional
#           for the build, which falls back to a thread pool without it)
#   tests:  libiscsi-bin (iscsi-inq, iscsi-test-cu), qemu-utils + qemu-block-extra
#           (qemu-img/qemu-io with iscsi:// URLs), tgt (peer target for bench/),
#           sg3-utils (sg_* tools), qemu-system-x86 socat cpio e2fsprogs iproute2 (the
#           kernel VM test, test/kernel-vm/)
# With CI=true a test whose prerequisite is missing fails (test/helpers/prereq.ts).
# Idempotent and non-interactive: does nothing when everything is installed.
set -eu

PACKAGES="libiscsi-bin qemu-utils qemu-block-extra tgt sg3-utils qemu-system-x86 socat cpio e2fsprogs iproute2 liburing-dev build-essential python3 xorriso bacula-sd systemd prometheus"

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done

if [ -z "$missing" ]; then
  echo "install-system-deps: all present:$(printf ' %s' $PACKAGES)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-system-deps: missing:$missing (run as root or install sudo)" >&2
    exit 1
  fi
fi

echo "install-system-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
