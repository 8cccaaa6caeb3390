#!/usr/bin/env bash
# run-passthrough.sh - pass-through devices in the kernel VM (run.sh's mode
# NEXUS_KVM_MODE=passthrough; npm run test:kernel runs it after the iSCSI initiator run).
#
# Boots the same VM as run.sh (Debian's kernel under TCG, the host's / over 9p), without a
# network: Nexus runs inside the guest, from the checkout's dist/ (built here first), over
# scsi_debug disks, and the initiators are in the guest too, on its loopback (guest/passthrough.sh,
# passthrough-check.ts): the native sg queue on a real sg node, a mounted disk refused, two
# initiators sharing a passthrough LUN (reservations, persistent reservations, a LUN reset and a
# device's own unit attention reaching both, a data round trip), libiscsi's iscsi-inq,
# iscsi-readcapacity16 and iscsi-test-cu families; scsi_debug's medium error and a device deleted
# and scanned again; then tgtd's VTL and CD/DVD drive in the guest, logged in with open-iscsi, as
# real changer, tape and CD/DVD sg nodes, and Linux's own initiator through Nexus with mkfs.ext4,
# fsck, mtx, mt-st and an ISO 9660 mount (guest/passthrough-devices.sh, PT_DEV_STEPS); then the
# same shared steps against tgtd's bs_sg on the same disks (the peer, "peer tgtd: PASS|FAIL
# tgt-<step>", not counted). Prints
# "PASS kernel-vm.<step>" / "FAIL kernel-vm.<step>" per step and "N passed, N failed"; exit 0 only
# when all passed.
# Environment: NEXUS_KVM_TIMEOUT (seconds for the whole VM, default 1200: the run takes about 4
# minutes on a quiet host, over 15 on one whose load average is above 15; under TCG node takes
# 10-80 s to start Nexus here).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=$ROOT/.cache/kernel-vm
VM_TO=${NEXUS_KVM_TIMEOUT:-1200}
IQN=iqn.2026-11.io.nexus:kernel-vm-pt
RUN=$CACHE/run-passthrough
PT_STEPS="sg-nodes sg-open sg-inquiry sg-many-in-flight sg-sense sg-argument-checks sg-max-transfer sg-reset refuse-mounted nexus-up iscsi-inq iscsi-readcapacity16 pt-inquiry pt-reserve-conflict pt-pr-write-exclusive pt-data-round-trip pt-lun-reset-ua pt-device-ua-both"
PT_STEPS="$PT_STEPS cu-SCSI.Inquiry cu-SCSI.ReadCapacity16 cu-SCSI.Reserve6 cu-SCSI.ProutReserve cu-SCSI.Read10"
PT_STEPS="$PT_STEPS cu-SCSI.TestUnitReady cu-SCSI.ReadCapacity10 cu-SCSI.ReportSupportedOpcodes cu-SCSI.PrinReadKeys cu-SCSI.ProutRegister cu-SCSI.PrinReportCapabilities cu-SCSI.PreventAllow cu-SCSI.StartStopUnit cu-SCSI.WriteVerify10 cu-SCSI.OrWrite"
# Every device type passed through (guest/passthrough-devices.sh): tgtd's VTL (changer and tape
# drive) and CD/DVD drive logged in with open-iscsi as the real devices, scsi_debug's medium error
# and a device deleted and scanned again, then Linux's own initiator through Nexus.
PT_DEV_STEPS="iscsid-up vtl-login pt-medium-error pt-device-gone pt-device-back nexus-login pt-mkfs-ext4 pt-fsck-clean pt-fs-write-read-verify pt-fsck-after-io"
PT_DEV_STEPS="$PT_DEV_STEPS pt-mtx-status pt-mtx-load pt-mt-status pt-mt-weof pt-mt-rewind-fsf pt-mtx-unload pt-cd-mount-verify nexus-logout"
PT_STEPS="$PT_STEPS $PT_DEV_STEPS"
# 1 MiB transfers (guest/passthrough-large.sh): a disk with no block driver bound (its limit from
# the sg driver) and one with sd, iscsi-perf and qemu-io as in the pass-through benchmark.
PT_LARGE_STEPS="pt-no-sd pt-1m-read-qd8-no-sd pt-1m-write-read-no-sd pt-1m-write-read"
PT_STEPS="$PT_STEPS $PT_LARGE_STEPS"
# The peer, tgtd's bs_sg on the same scsi_debug disks, the same steps: reported, never failing the
# run (PEER_STEPS), so that the README's table of where tgtd fails and Nexus passes stays current.
PEER_STEPS="tgt-up tgt-iscsi-inq tgt-iscsi-readcapacity16 tgt-inquiry tgt-reserve-conflict tgt-pr-write-exclusive tgt-data-round-trip tgt-lun-reset-ua tgt-device-ua-both"
PEER_STEPS="$PEER_STEPS tgt-cu-SCSI.Inquiry tgt-cu-SCSI.ReadCapacity16 tgt-cu-SCSI.Reserve6 tgt-cu-SCSI.ProutReserve tgt-cu-SCSI.Read10"
T0=$(date +%s)
mkdir -p "$RUN"

source "$HERE/steps.sh"

summary() { # $1 console log (may be missing)
  # shellcheck disable=SC2086 # the step lists are word lists
  count_steps "$1" kernel-vm.passthrough. $PT_STEPS
  # The peer's results beside Nexus's, step by step (not counted).
  local s v
  for s in $PEER_STEPS; do
    v=$(step_verdict "$1" "$s")
    case "$v" in
      PASS) echo "peer tgtd: PASS $s" ;;
      MISSING) echo "peer tgtd: not reached $s" ;;
      *) echo "peer tgtd: FAIL $s${v#FAIL}" ;;
    esac
  done
  echo "kernel-vm passthrough: $(( $(date +%s) - T0 ))s wall (build+setup+boot+test); console $1"
  echo "$STEPS_PASSED passed, $STEPS_FAILED failed"
  [ "$STEPS_FAILED" = 0 ]
}

guest_run_prepare passthrough "$PT_STEPS" tool:iscsi-inq tool:iscsi-test-cu tool:tgtd tool:tgtadm tool:tgtimg tool:mtx tool:mt-st tool:xorriso
guest_run_boot passthrough passthrough.sh "kvm_iqn=$IQN" 'guest\|scsi_debug\|sg queue\|timing\|cu \|  \|vtl \|through Nexus\|medium error\|device back\|mtx \|mt \|exit'
summary "$CONSOLE"
