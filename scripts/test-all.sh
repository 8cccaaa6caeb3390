#!/usr/bin/env bash
# test-all.sh - every test runner of the project, in order, with one total (npm run test:ci).
#
#   mocha        npm test (unit + integration + fuzz); counts from the spec reporter's
#                "N passing / N failing / N pending" (pending counts as skipped)
#   conformance  npm run test:conformance (libiscsi iscsi-test-cu; test/conformance/run.sh)
#   conformance2 the same suites through the target's second portal (target port group 2)
#   kernel       npm run test:kernel (Linux's iSCSI initiator in a QEMU VM; test/kernel-vm/run.sh)
#   ceph         npm run test:ceph (the rbd backstore and two gateways over one image against a
#                throw-away single-node Ceph cluster on loopback, test/ceph/); counted like mocha
#   bench        a smoke run of the benchmark against tgtd: one round of short cells (a null-LUN
#                random read and a file-LUN write); every measurement must succeed
# The last three end with a "N passed, N failed[, N skipped]" line, which is what is counted. A
# runner that exits non-zero without reporting a failure (crash, timeout, no summary) counts as 1
# failed. Each runner is bounded by `timeout`; its output streams through and is kept in
# .cache/test-all/<runner>.log. The LAST line printed is "N passed, N failed, N skipped" summed
# over all runners; exit status 0 only when N failed is 0.
# A missing prerequisite (native addon, io_uring, libiscsi tools, qemu, tgtd) skips its tests
# with the reason printed, and with CI=true fails them (test/helpers/prereq.ts): in CI nothing
# that needs one can pass by not running.
#
# Environment: NEXUS_TEST_RUNNERS="mocha conformance conformance2 kernel ceph bench" (subset, in this order)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
LOGS=$ROOT/.cache/test-all
mkdir -p "$LOGS"
RUNNERS=${NEXUS_TEST_RUNNERS:-mocha conformance conformance2 kernel ceph bench}
T0=$(date +%s)
total_p=0; total_f=0; total_s=0; lines=()

# count_line FILE: "P F S" from the last "N passed, N failed[, N skipped]" line, or nothing
count_line() {
  grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$1" | tail -1 | awk '{print $1, $3, ($5 == "" ? 0 : $5)}'
}

count_mocha() { # spec reporter summary; strip colour codes first
  sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
    /^ +[0-9]+ passing/ {p = $1} /^ +[0-9]+ failing/ {f = $1} /^ +[0-9]+ pending/ {q = $1}
    END { if (p != "" || f != "") print p + 0, f + 0, q + 0 }'
}

for r in $RUNNERS; do
  case $r in
    mocha) cmd=(npm test); budget=900 ;;
    conformance) cmd=(npm run --silent test:conformance); budget=1200 ;;
    # The same suites through the target's second portal, its other target port group (ALUA, SPC-4 5.16).
    conformance2) cmd=(env NEXUS_CONF_SECOND_PORTAL=1 NEXUS_CONF_OUT=.cache/conformance/nexus-portal2 npm run --silent test:conformance); budget=1200 ;;
    kernel) cmd=(npm run --silent test:kernel); budget=2100 ;;
    # One cluster for both suites: rbd.test.ts about 4.5 min and gateways.test.ts (two gateways on
    # one image, MultipathIO, a failover) about 3.5 min with the cluster's start, on a loaded host.
    ceph) cmd=(npm run --silent test:ceph); budget=1200 ;;
    bench) cmd=(npm run --silent bench -- --quick --secs 2 --only '^(null-rr4k-qd32-ip|file-sw1m-qd8-qb)$'); budget=300 ;;
    *) echo "test-all: unknown runner $r" >&2; exit 2 ;;
  esac
  log=$LOGS/$r.log
  echo "=== $r: ${cmd[*]}"
  t=$(date +%s)
  timeout -k 10 "$budget" "${cmd[@]}" </dev/null 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  el=$(( $(date +%s) - t ))
  extra=""
  if [ "$r" = mocha ] || [ "$r" = ceph ]; then
    read -r p f s <<<"$(count_mocha "$log")"
  else
    read -r p f s <<<"$(count_line "$log")"
  fi
  p=${p:-0}; f=${f:-0}; s=${s:-0}
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    f=1; extra="; exited rc=$rc$([ "$rc" = 124 ] && echo " (timeout after ${budget}s)") without reporting a failure"
  fi
  lines+=("$(printf '%-12s %5d passed, %4d failed, %4d skipped%s  (%ss)' "$r" "$p" "$f" "$s" "$extra" "$el")")
  total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
done

echo
echo "=== summary ($(( $(date +%s) - T0 ))s)"
printf '%s\n' "${lines[@]}"
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
