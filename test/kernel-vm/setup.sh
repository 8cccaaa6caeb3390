#!/usr/bin/env bash
# setup.sh - prepare everything the kernel VM test needs, idempotently, under a cache directory.
#
# Usage: setup.sh CACHE_DIR
#   Host tools (qemu-system-x86 socat cpio e2fsprogs) are prerequisites that run.sh checks.
#   Guest pieces (apt-get download + dpkg -x into CACHE_DIR/kroot; never installed on the host):
#   Debian's current linux-image (kernel + modules), open-iscsi and its libraries, busybox-static,
#   kmod. Then depmod on the extracted tree and a small initramfs (busybox + the virtio, 9p and
#   overlay modules) that mounts the host's / read-only over 9p under a tmpfs overlay and
#   switch_roots into it, so the guest runs the host's own bash, e2fsprogs and coreutils.
# Everything is bounded by `timeout`. Prints one line per step; exit 0 when ready.
set -uo pipefail
C=${1:?usage: setup.sh CACHE_DIR}
mkdir -p "$C/debs" "$C/kroot" || exit 1
C=$(cd "$C" && pwd)
export DEBIAN_FRONTEND=noninteractive
say() { echo "kernel-vm setup: $*"; }

if [ ! -x "$C/kroot/sbin/iscsiadm" ] || [ -z "$(ls "$C/kroot/lib/modules" 2>/dev/null)" ]; then
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
  if [ -z "$kpkg" ]; then
    timeout 300 apt-get update -qq
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
  fi
  [ -n "$kpkg" ] || { say "cannot resolve linux-image-amd64"; exit 1; }
  say "downloading $kpkg open-iscsi libopeniscsiusr libisns0 busybox-static kmod"
  rm -f "$C"/debs/*.deb
  (cd "$C/debs" && timeout 600 apt-get download -qq "$kpkg" open-iscsi libopeniscsiusr libisns0 busybox-static kmod) ||
    { say "apt-get download failed"; exit 1; }
  rm -rf "$C/kroot" && mkdir -p "$C/kroot"
  for d in "$C"/debs/*.deb; do dpkg -x "$d" "$C/kroot" || exit 1; done
  rm -f "$C/initrd.gz"
fi
kv=$(ls "$C/kroot/lib/modules" | head -1)
[ -e "$C/kroot/lib/modules/$kv/modules.dep" ] || (exec -a depmod "$C/kroot/bin/kmod" -b "$C/kroot" "$kv") || exit 1

if [ ! -s "$C/initrd.gz" ]; then
  say "building initramfs for $kv"
  m=$C/kroot/lib/modules/$kv
  w=$(mktemp -d "$C/initrd.XXXX")
  mkdir -p "$w"/{bin,proc,sys,dev,lower,upper,newroot,mods}
  cp "$C/kroot/bin/busybox" "$w/bin/busybox"
  declare -A seen=(); order=()
  add() { # module path relative to $m, after its dependencies
    local x=$1 d; [ -n "${seen[$x]:-}" ] && return; seen[$x]=1
    for d in $(grep -E "^$x:" "$m/modules.dep" | cut -d: -f2); do add "$d"; done
    order+=("$x")
  }
  for x in kernel/drivers/virtio/virtio_pci.ko kernel/net/9p/9pnet_virtio.ko kernel/fs/9p/9p.ko kernel/fs/overlayfs/overlay.ko; do add "$x"; done
  for x in "${order[@]}"; do cp "$m/$x" "$w/mods/"; basename "$x" >>"$w/mods/order"; done
  cp "$(dirname "$0")/initramfs-init.sh" "$w/init" && chmod +x "$w/init"
  (cd "$w" && find . | cpio -o -H newc --quiet | gzip -1) >"$C/initrd.gz.tmp" && mv "$C/initrd.gz.tmp" "$C/initrd.gz"
  rm -rf "$w"
fi
say "ready: kernel $kv in $C"
