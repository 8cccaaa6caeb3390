#!/usr/bin/env bash
# run.sh - libiscsi conformance (iscsi-test-cu, Debian libiscsi-bin) against Nexus or tgtd.
#
# Usage: bash test/conformance/run.sh            (npm run test:conformance)
#   Starts the target on 127.0.0.1 with one 128 MiB thin file LUN (Nexus: and a removable one at
#   LUN 1, which the removable-medium suites StartStopUnit, PreventAllow and NoMedia run against,
#   as they skip on a fixed disk; and a second portal on the next free port, in a target port
#   group of its own, the second path of MultipathIO), runs every suite of the SCSI
#   and iSCSI families one iscsi-test-cu process per suite (each bounded by `timeout`, the whole
#   run by a budget), always with --dataloss and two initiator names (-i/-I: the tests that open
#   a second I_T nexus use the second), then judges the results against
#   test/conformance/expected-failures.txt ("FAM.Suite.Test  reason", one per line, # comments).
#
#   Output: per-suite and per-family totals, SKIPPED tests, listed failures, list entries that
#   now pass (the list should shrink), unexpected failures (ready to paste into the list), and
#   as the last line "N passed, N failed, N skipped" (judge.js):
#     passed  = tests with a CUnit "passed" verdict and no [SKIPPED] message
#     failed  = FAIL or ERROR (no verdict: crash, timeout, login failure) NOT in the list,
#               + each listed test that did not run (renamed or gone from iscsi-test-cu),
#               + 1 when a full run passes fewer than test/conformance/pass-floor.txt
#     skipped = tests iscsi-test-cu reported [SKIPPED]
#   Listed failures are counted in none and printed separately.
#   Without iscsi-test-cu / iscsi-inq (Debian libiscsi-bin) the run is skipped, printing why
#   ("0 passed, 0 failed, 1 skipped"), or with CI=true fails (test/helpers/prereq.ts).
#   Exit 0 when failed == 0, 1 otherwise, 2 when the run cannot start.
#
# Environment:
#   NEXUS_CONF_TARGET=nexus|tgt   target to start (default nexus); tgt also rewrites
#                                 test/conformance/tgt-baseline.txt when NEXUS_CONF_BASELINE=1
#   NEXUS_CONF_URL=iscsi://127.0.0.1:PORT/IQN/LUN   use an already running target instead
#   NEXUS_CONF_URL2=iscsi://...    with NEXUS_CONF_URL: MultipathIO's second path (another gateway)
#   NEXUS_CONF_OUT=DIR            results directory (default .cache/conformance/<target>)
#   NEXUS_CONF_PORT=3270          TCP port on 127.0.0.1 for the started target
#   NEXUS_CONF_SUITES="SCSI.Read10 iSCSI.iSCSITMF"   only these suites (the pass floor is not applied)
#   NEXUS_CONF_SECOND_PORTAL=1     every suite through the Nexus target's second portal (port group 2)
#   NEXUS_CONF_RAISE_FLOOR=1      a full clean run above the floor raises pass-floor.txt
#   NEXUS_CONF_SUITE_TIMEOUT=90   seconds per suite;  NEXUS_CONF_TOTAL_TIMEOUT=900 whole run
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KIND=${NEXUS_CONF_TARGET:-nexus}
OUT=${NEXUS_CONF_OUT:-$ROOT/.cache/conformance/$KIND}
PORT=${NEXUS_CONF_PORT:-3270}
SUITE_TO=${NEXUS_CONF_SUITE_TIMEOUT:-90}
TOTAL_TO=${NEXUS_CONF_TOTAL_TIMEOUT:-900}
IQN=iqn.2026-11.io.nexus:conformance
INIT1=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test
INIT2=iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2
EXPECTED=$HERE/expected-failures.txt
FLOOR=$HERE/pass-floor.txt

"$ROOT/node_modules/.bin/tsx" "$ROOT/test/helpers/prereq.ts" conformance tool:iscsi-test-cu tool:iscsi-inq
case $? in
  0) ;;
  3) echo "0 passed, 0 failed, 1 skipped"; exit 0 ;;
  *) echo "0 passed, 1 failed, 0 skipped"; exit 2 ;;
esac
mkdir -p "$OUT/raw" && OUT=$(cd "$OUT" && pwd) || exit 2
rm -f "$OUT"/raw/*.txt "$OUT/results.tsv"

# shellcheck source=../../scripts/lib/target.sh
source "$ROOT/scripts/lib/target.sh"
trap 'target_stop' EXIT
trap 'exit 130' INT TERM
if [ -n "${NEXUS_CONF_URL:-}" ]; then
  URL=$NEXUS_CONF_URL; URL2=${NEXUS_CONF_URL2:-}
else
  # The first free port from NEXUS_CONF_PORT on (other runs may share this machine).
  for i in $(seq 1 20); do _target_listening "$PORT" || break; PORT=$((PORT + 1)); done
  if [ "$KIND" = nexus ]; then
    export TARGET_REMOVABLE_LUN=1
    # MultipathIO's second path: a second portal of the same target, its own target portal group.
    PORT2=$((PORT + 1))
    for i in $(seq 1 20); do _target_listening "$PORT2" || break; PORT2=$((PORT2 + 1)); done
    export TARGET_SECOND_PORTAL=127.0.0.1:$PORT2
  fi
  target_start "$KIND" "$OUT/target" 127.0.0.1 "$PORT" 128M "$IQN" || { echo "0 passed, 1 failed, 0 skipped"; exit 2; }
  URL=$TARGET_URL
  URL2=$TARGET_URL2
  # NEXUS_CONF_SECOND_PORTAL=1: every suite through the second portal (the other target port group),
  # the first one as MultipathIO's other path.
  if [ "${NEXUS_CONF_SECOND_PORTAL:-}" = 1 ] && [ -n "$URL2" ]; then URL=$TARGET_URL2; URL2=$TARGET_URL; fi
fi
case "$URL" in
  iscsi://127.0.0.1[:/]*|iscsi://\[::1\]*) ;;
  *) echo "conformance: refusing non-loopback URL $URL (the tests destroy data)" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 2 ;;
esac
echo "conformance: $KIND at $URL, iscsi-test-cu $(dpkg-query -W -f='${Version}' libiscsi-bin 2>/dev/null), results in $OUT"

iscsi-test-cu -l >"$OUT/list.txt" 2>&1
if [ -n "${NEXUS_CONF_SUITES:-}" ]; then SUITES=$NEXUS_CONF_SUITES
else SUITES=$(awk -F. 'NF==2 && ($1=="SCSI" || $1=="iSCSI")' "$OUT/list.txt"); fi

# One suite's CUnit verbose output -> "FAM.Suite.Test<TAB>PASS|FAIL|SKIP|ERROR<TAB>message".
parse_raw() { # $1 FAM.Suite  $2 raw file
  awk -v fs="$1" -v OFS='\t' '
    function emit() {
      if (t == "") return
      r = verdict == "FAILED" ? "FAIL" : (verdict == "passed" ? (skip != "" ? "SKIP" : "PASS") : "ERROR")
      m = r == "FAIL" ? (msg != "" ? msg : amsg) : (r == "SKIP" ? skip : (r == "ERROR" ? "no verdict (crash or timeout)" : ""))
      gsub(/[\t ]+/, " ", m); sub(/^ /, "", m)
      print fs "." t, r, substr(m, 1, 200); t = ""
    }
    function verdict_of(s) { verdict = (s ~ /^passed/) ? "passed" : "FAILED" }
    /^Run Summary:/ { emit(); done = 1; next }
    /^Suite: / { emit(); done = 0; next }
    done { next }
    /^  Test: / {
      emit(); line = substr($0, 9); i = index(line, " ...")
      t = substr(line, 1, i - 1); rest = substr(line, i + 4)
      verdict = ""; skip = ""; msg = ""; amsg = ""
      if (rest ~ /^(passed|FAILED)/) verdict_of(rest)
      else { if (rest ~ /\[SKIPPED\]/) skip = rest; if (rest ~ /\[FAILED\]/) msg = rest }
      next
    }
    t == "" { next }
    verdict == "" {
      if ($0 ~ /^(passed|FAILED)/) { verdict_of($0); next }
      if ($0 ~ /\[SKIPPED\]/ && skip == "") skip = $0
      if ($0 ~ /\[FAILED\]/ && msg == "") msg = $0
      next
    }
    /^    [0-9]+\. / && amsg == "" { amsg = $0 }
    END { emit() }
  ' "$2"
}

START=$(date +%s); deadline=$((START + TOTAL_TO)); dead=""
opts=(-d -S -i "$INIT1" -I "$INIT2")
n=0; total=$(echo "$SUITES" | wc -w)
for fs in $SUITES; do
  n=$((n + 1)); raw=$OUT/raw/$fs.txt; : >"$raw"; rc=0; t0=$(date +%s)
  left=$((deadline - t0))
  if [ -n "$dead" ]; then echo "# not run: $dead" >"$raw"; rc=125
  elif [ $left -le 5 ]; then echo "# not run: total budget of ${TOTAL_TO}s exhausted" >"$raw"; rc=124
  else
    to=$SUITE_TO; [ $left -lt $to ] && to=$left
    # MultipathIO takes one URL per path: the target's two portals (Nexus), each its own target
    # portal group; with one portal (tgtd, NEXUS_CONF_URL) the same portal again, as a second session.
    urls=("$URL" "${URL2:-$URL}")
    # The removable-medium suites run on the removable LUN, over one path: PreventAllow.2ITNexuses
    # logs in a second nexus of its own, which must not share its I_T nexus (and so the unit
    # attentions of the resets earlier in the suite) with an idle second path.
    case $fs in SCSI.StartStopUnit|SCSI.PreventAllow|SCSI.NoMedia) [ -n "$TARGET_REMOVABLE_URL" ] && urls=("$TARGET_REMOVABLE_URL") ;; esac
    # SCSI.ReadOnly needs a write-protected LUN: disk0 mapped read-only at LUN 2.
    case $fs in SCSI.ReadOnly) [ -n "${TARGET_READONLY_URL:-}" ] && urls=("$TARGET_READONLY_URL") ;; esac
    timeout -k 5 "$to" iscsi-test-cu "${opts[@]}" -t "$fs" "${urls[@]}" >"$raw" 2>&1 </dev/null; rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then
      timeout -k 2 10 iscsi-inq "$URL" >/dev/null 2>&1 || dead="target unresponsive after $fs timed out"
    fi
  fi
  parse_raw "$fs" "$raw" >"$OUT/.suite.tsv"
  # Tests in the listing that never reported are errors (crash, timeout, suite setup failure).
  why="no verdict (rc=$rc$([ $rc = 124 ] || [ $rc = 137 ] && echo ', timeout')$(grep -q 'Suite initialization failed\|Failed to login' "$raw" && echo ', suite init/login failed'))"
  awk -F. -v fs="$fs" 'NF==3 && $1"."$2==fs' "$OUT/list.txt" | while read -r tn; do
    grep -q "^$tn	" "$OUT/.suite.tsv" || printf '%s\tERROR\t%s\n' "$tn" "$why" >>"$OUT/.suite.tsv"
  done
  cat "$OUT/.suite.tsv" >>"$OUT/results.tsv"
  printf '[%2d/%d] %-32s %s %3ss\n' "$n" "$total" "$fs" \
    "$(awk -F'\t' '{c[$2]++} END {printf "pass=%d fail=%d skip=%d error=%d", c["PASS"], c["FAIL"], c["SKIP"], c["ERROR"]}' "$OUT/.suite.tsv")" \
    "$(( $(date +%s) - t0 ))"
done
rm -f "$OUT/.suite.tsv"
if [ -n "$TARGET_PID" ] && ! kill -0 "$TARGET_PID" 2>/dev/null; then
  echo "conformance: the $KIND target exited during the run; log tail ($TARGET_LOG):"; tail -20 "$TARGET_LOG"
fi
target_stop
echo "conformance: $((  $(date +%s) - START ))s for $total suites"

if [ "$KIND" = tgt ] && [ "${NEXUS_CONF_BASELINE:-0}" = 1 ]; then
  {
    echo "# iscsi-test-cu $(dpkg-query -W -f='${Version}' libiscsi-bin 2>/dev/null) against tgtd $(dpkg-query -W -f='${Version}' tgt 2>/dev/null)"
    echo "# (128 MiB thin file LUN, thin_provisioning=1), written by NEXUS_CONF_TARGET=tgt NEXUS_CONF_BASELINE=1 test/conformance/run.sh"
    sort "$OUT/results.tsv" | awk -F'\t' '{print $1 "\t" $2}'
  } >"$HERE/tgt-baseline.txt"
  echo "conformance: wrote $HERE/tgt-baseline.txt"
fi

node "$HERE/judge.js" "$OUT/results.tsv" "$EXPECTED" "$FLOOR" ${NEXUS_CONF_SUITES:+--partial}
