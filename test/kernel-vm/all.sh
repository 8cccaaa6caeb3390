#!/usr/bin/env bash
# all.sh - every kernel VM run (npm run test:kernel): the iSCSI initiator run (run.sh: disk, CD/DVD-ROM,
# changer, tape), the same device-type steps against tgtd compared step by step with that run
# (NEXUS_KVM_MODE=peer: run-peer.sh), the pass-through run (NEXUS_KVM_MODE=passthrough: Nexus inside
# the guest over scsi_debug) and the HBA target-mode shim run (NEXUS_KVM_MODE=tcmu: tcm_loop through
# LIO's TCMU to Nexus in the guest). Each prints its own "N passed, N failed[, N skipped]" line; the
# last line here is their sum, which is what scripts/test-all.sh counts. Exit 0 only when every run
# passed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
# The peer run compares with this Nexus run's console, not an older one.
NEXUS_KVM_PEER_SINCE=$(date +%s); export NEXUS_KVM_PEER_SINCE
bash "$HERE/run.sh" 2>&1 | tee "$LOG"; r1=${PIPESTATUS[0]}
NEXUS_KVM_MODE=peer bash "$HERE/run.sh" 2>&1 | tee -a "$LOG"; r2=${PIPESTATUS[0]}
NEXUS_KVM_MODE=passthrough bash "$HERE/run.sh" 2>&1 | tee -a "$LOG"; r3=${PIPESTATUS[0]}
NEXUS_KVM_MODE=tcmu bash "$HERE/run.sh" 2>&1 | tee -a "$LOG"; r4=${PIPESTATUS[0]}
grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$LOG" |
  awk '{p += $1; f += $3; s += ($5 == "" ? 0 : $5)} END {printf "%d passed, %d failed, %d skipped\n", p, f, s}'
[ "$r1" = 0 ] && [ "$r2" = 0 ] && [ "$r3" = 0 ] && [ "$r4" = 0 ]
