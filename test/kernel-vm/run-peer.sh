#!/usr/bin/env bash
# run-peer.sh - tgtd as the peer of the device-type steps (run.sh's mode NEXUS_KVM_MODE=peer;
# npm run test:kernel runs it right after the Nexus run).
#
# Runs run.sh against tgtd (Debian tgt: its mmc CD/DVD-ROM, its ssc tape drives and its VTL, smc
# changer with ssc drives, set up as tgt's README.vtl does) with NEXUS_KVM_ONLY=devices: the
# same guest scripts (guest/iscsi.sh's CD/DVD-ROM steps, guest/changer.sh, guest/tape.sh) with
# the login around them, no disk I/O, btape or multipath. Then compares tgtd's verdict of each
# step with the Nexus run's (its console, run-nexus/console.log, or NEXUS_KVM_PEER_OF):
#
#   PASS|FAIL kernel-vm.peer.session   tgtd's run logged in and out (the comparison has a peer)
#   PASS|FAIL kernel-vm.peer.<type>    cdrom, changer, tape: every step of that device type that
#                                      passes on tgtd passes on Nexus too
#
# These four are the counted steps: a Nexus failure is already counted by the Nexus run, and a
# tgtd failure is the peer's, listed ("tgtd fails, Nexus passes: ...") and not counted against
# Nexus. tgtd's own per-step lines are printed indented, so its "N passed" line is not summed.
# Prints "N passed, N failed" over the four steps (or, without a prerequisite, "0 passed, 0
# failed, 4 skipped"; with CI=true a missing prerequisite fails them); exit 0 only when all passed.
# Environment: NEXUS_KVM_PEER_OF=console of the Nexus run to compare with (default: the last
# run.sh run's); NEXUS_KVM_PEER_SINCE=epoch seconds the Nexus console must be newer than (all.sh
# sets it, so a Nexus run that did not happen is not compared from an older console);
# NEXUS_KVM_PEER_REUSE=1 compares the last tgtd run's output again instead of booting a new one.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=$ROOT/.cache/kernel-vm
NEXUS_CONSOLE=${NEXUS_KVM_PEER_OF:-$CACHE/run-nexus/console.log}
PEER_RUN=$CACHE/run-tgt-devices
PEER_STEPS="session cdrom changer tape"
T0=$(date +%s)
mkdir -p "$PEER_RUN"

source "$HERE/steps.sh"

# device_type STEP: the device type a step of run.sh belongs to, or nothing (the session's steps).
device_type() {
  case $1 in
    cdrom-*) echo cdrom ;;
    changer-*|mtx-*) echo changer ;;
    tape-*) echo tape ;;
  esac
}

LOG=$PEER_RUN/peer.log
rc=0
if [ -n "${NEXUS_KVM_PEER_REUSE:-}" ] && [ -s "$LOG" ]; then
  echo "kernel-vm peer: comparing the last tgtd run ($LOG) without running it again"
else
  # NEXUS_KVM_MODE=peer brought us here: run.sh's own iSCSI run, not this mode again.
  env -u NEXUS_KVM_MODE NEXUS_KVM_TARGET=tgt NEXUS_KVM_ONLY=devices bash "$HERE/run.sh" >"$LOG" 2>&1
  rc=$?
fi
sed 's/^/  tgtd: /' "$LOG"
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$LOG" | tail -1)
case "$last" in
  "0 passed, 0 failed, "*skipped)
    # A prerequisite is missing and CI is not set: the peer run skipped every step, so do we.
    echo "0 passed, 0 failed, $(echo "$PEER_STEPS" | wc -w) skipped"; exit 0 ;;
esac

# tgtd's verdict of each step it was given, from run.sh's "PASS|FAIL kernel-vm.<step>" lines.
declare -A tgt=()
while read -r v s; do tgt[${s#kernel-vm.}]=$v; done < <(grep -E '^(PASS|FAIL) kernel-vm\.' "$LOG" | awk '{print $1, $2}')

stale=""
if [ ! -s "$NEXUS_CONSOLE" ]; then
  stale="no console of a Nexus run at $NEXUS_CONSOLE"
elif [ -n "${NEXUS_KVM_PEER_SINCE:-}" ] && [ "$(stat -c %Y "$NEXUS_CONSOLE")" -lt "$NEXUS_KVM_PEER_SINCE" ]; then
  stale="the Nexus run of this test left no console (only an older one at $NEXUS_CONSOLE)"
fi

PASSED=0; FAILED=0; better=()
verdict() { # $1 step, $2 empty (pass) or why it failed
  if [ -z "$2" ]; then echo "PASS kernel-vm.peer.$1"; PASSED=$((PASSED + 1))
  else echo "FAIL kernel-vm.peer.$1 ($2)"; FAILED=$((FAILED + 1)); fi
}

why=""
for s in discovery login disk-attached logout disk-detached; do
  [ "${tgt[$s]:-}" = PASS ] || why="${why:+$why, }tgtd's $s ${tgt[$s]:-not run}"
done
verdict session "$why"

for t in cdrom changer tape; do
  why=""; n=0
  [ -n "$stale" ] && why=$stale
  for s in "${!tgt[@]}"; do
    [ "$(device_type "$s")" = "$t" ] || continue
    n=$((n + 1))
    nv=$(step_verdict "$NEXUS_CONSOLE" "$s")
    if [ "${tgt[$s]}" = PASS ] && [ "$nv" != PASS ] && [ -z "$stale" ]; then
      why="${why:+$why, }$s passes on tgtd, on Nexus $nv"
    elif [ "${tgt[$s]}" != PASS ] && [ "$nv" = PASS ] && [ -z "$stale" ]; then
      better+=("$s")
    fi
  done
  [ "$n" = 0 ] && [ -z "$why" ] && why="tgtd's run reported no $t step"
  verdict "$t" "$why"
done

[ ${#better[@]} -gt 0 ] && echo "kernel-vm peer: tgtd fails, Nexus passes: $(printf '%s\n' "${better[@]}" | sort | tr '\n' ' ')"
echo "kernel-vm peer: $(( $(date +%s) - T0 ))s wall (tgtd run ${NEXUS_KVM_PEER_REUSE:+reused, }rc=$rc); compared with $NEXUS_CONSOLE"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
