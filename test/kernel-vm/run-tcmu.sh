#!/usr/bin/env bash
# run-tcmu.sh - the HBA target-mode shim in the kernel VM (run.sh's mode NEXUS_KVM_MODE=tcmu;
# npm run test:kernel runs it after the other runs).
#
# Boots the same VM as run.sh (Debian's kernel under TCG, the host's / over 9p), without a
# network: `nexus shim` runs inside the guest from the checkout's dist/ (built here first), wires
# a fileio disk to tcm_loop through LIO's TCMU and serves its ring; the guest's own SCSI stack
# sees it as /dev/sdX and guest/tcmu.sh runs the steps against it (sg3-utils, O_DIRECT, ext4, a
# command abort and a LUN reset during I/O, Nexus killed and restarted under I/O). Then it tries
# SRP over soft RoCE (rdma_rxe + ib_srpt + ib_srp) and reports what happened, not counted. Then
# a second shim exports a medium changer, its tape drive and a CD/DVD-ROM drive the same way, and
# mtx, mt-st, tar and mount go through the guest's sg, st and sr drivers (guest/tcmu-devices.sh,
# TCMU_DEVICE_STEPS), over two cartridges and an ISO image made here.
# Prints "PASS kernel-vm.tcmu.<step>" / "FAIL kernel-vm.tcmu.<step>" per step and "N passed,
# N failed"; exit 0 only when all passed.
# Environment: NEXUS_KVM_TIMEOUT (seconds for the whole VM, default 900: under TCG on a busy host
# node takes 1-3 minutes to start the shim, and the restart step starts it twice).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=$ROOT/.cache/kernel-vm
VM_TO=${NEXUS_KVM_TIMEOUT:-900}
RUN=$CACHE/run-tcmu
TCMU_STEPS="modules shim-up disk-appears sg-inq sg-vpd sg-readcap sg-luns raw-direct-verify write-same unmap compare-and-write"
TCMU_DEVICE_STEPS="devices-shim-up devices-lsscsi devices-mtx-status devices-mtx-load devices-mt-status"
TCMU_DEVICE_STEPS="$TCMU_DEVICE_STEPS devices-tape-write-read devices-mtx-unload devices-cdrom-mount-verify devices-shim-stop-clean"
TCMU_STEPS="$TCMU_STEPS mkfs-fsck fs-verify resize resize-refused abort-during-io lun-reset-during-io restart-under-io"
TCMU_STEPS="$TCMU_STEPS remove-while-linked shim-stop-clean serve-iscsi-and-loopback serve-stop-clean"
TCMU_STEPS="$TCMU_STEPS $TCMU_DEVICE_STEPS"
T0=$(date +%s)
mkdir -p "$RUN"

source "$HERE/steps.sh"

summary() { # $1 console log (may be missing)
  # shellcheck disable=SC2086 # the step list is a word list
  count_steps "$1" kernel-vm.tcmu. $TCMU_STEPS
  tr -d '\r' <"$1" 2>/dev/null | grep -a 'KVMTEST: srp ' | sed 's/^KVMTEST: /  /'
  echo "kernel-vm tcmu: $(( $(date +%s) - T0 ))s wall (build+setup+boot+test); console $1"
  echo "$STEPS_PASSED passed, $STEPS_FAILED failed"
  [ "$STEPS_FAILED" = 0 ]
}

guest_run_prepare tcmu "$TCMU_STEPS" tool:sg_inq tool:sg_compare_and_write tool:mtx tool:mt-st tool:lsscsi tool:xorriso
# The media of the device-type steps: two cartridges with bar codes and an ISO image of a small tree.
DEV=$RUN/devices
rm -rf "$DEV" && mkdir -p "$DEV/cdsrc/sub" || exit 1
head -c 700000 /dev/urandom >"$DEV/cdsrc/payload.bin"; seq 1 5000 >"$DEV/cdsrc/sub/numbers.txt"
make_media() {
  local c
  for c in TCM001L6 TCM002L6; do node "$ROOT/bin/nexus" tape create "$DEV/$c.tape" --barcode "$c" --size 8MiB || return 1; done
  xorriso -as mkisofs -quiet -R -J -V NEXUS_TCMU -o "$DEV/cd.iso" "$DEV/cdsrc"
}
if ! make_media >"$DEV/media.log" 2>&1; then
  echo "kernel-vm tcmu: making the media failed: $(tail -3 "$DEV/media.log")"; summary /dev/null; exit 1
fi
guest_run_boot tcmu tcmu.sh "kvm_tcmu_devices=$DEV" 'guest\|timing\|disk\|tcmu devices\|lsscsi\|exit'
summary "$CONSOLE"
