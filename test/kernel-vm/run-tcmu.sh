#!/usr/bin/env bash
# run-tcmu.sh - the HBA target-mode shim in the kernel VM (run.sh's mode NEXUS_KVM_MODE=tcmu;
# npm run test:kernel runs it after the other runs).
#
# Boots the same VM as run.sh (Debian's kernel under TCG, the host's / over 9p), without a
# network: `nexus shim` runs inside the guest from the checkout's dist/ (built here first), wires
# a fileio disk to tcm_loop through LIO's TCMU and serves its ring; the guest's own SCSI stack
# sees it as /dev/sdX and guest/tcmu.sh runs the steps against it (sg3-utils, O_DIRECT, ext4, a
# command abort and a LUN reset during I/O, Nexus killed and restarted under I/O). Then it tries
# SRP over soft RoCE (rdma_rxe + ib_srpt + ib_srp) and reports what happened, not counted.
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
TCMU_STEPS="$TCMU_STEPS mkfs-fsck fs-verify resize resize-refused abort-during-io lun-reset-during-io restart-under-io"
TCMU_STEPS="$TCMU_STEPS remove-while-linked shim-stop-clean serve-iscsi-and-loopback serve-stop-clean"
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

guest_run_prepare tcmu "$TCMU_STEPS" tool:sg_inq tool:sg_compare_and_write
guest_run_boot tcmu tcmu.sh "" 'guest\|timing\|disk\|exit'
summary "$CONSOLE"
