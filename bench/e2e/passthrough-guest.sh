# The pass-through benchmark's guest side (bench/e2e/passthrough.ts boots it in the kernel VM
# through test/kernel-vm/guest/init.sh): one scsi_debug disk in RAM (delay=0), exported at once by
# Nexus ("handler": "passthrough", port 3260) and by tgtd's bs_sg (port 3261), the same sg node;
# the same clients in the same guest measure both, interleaved (odd rounds Nexus first, even
# rounds tgtd first). One line per measurement:
#   KVMBENCH: sample <nexus|tgt> <cell> <round> <iops>      (iops 0: the client failed)
#   KVMBENCH: cpu <nexus|tgt> <cell> <round> <ticks> <seconds>   (the target's CPU time in clock
#                                     ticks, all its threads, over the cell's wall seconds)
# Cells: rr4k-qd32 (iscsi-perf 4 KiB random reads, QD32), rw4k-qd32 (qemu-img bench 4 KiB writes
# at a 1 MiB + 4 KiB stride, QD32: it has no random mode), sr1m-qd8 (iscsi-perf 1 MiB sequential
# reads, QD8), sw1m-qd8 (qemu-img bench 1 MiB sequential writes, QD8).
# Reads KVM_ROOT (the checkout, dist/ built), KVM_BENCH ("<rounds>,<seconds per cell>").
R=$KVM_ROOT; IQN=iqn.2026-11.io.nexus:bench-pt; TIQN=$IQN:tgt
ROUNDS=${KVM_BENCH%,*}; SECS=${KVM_BENCH#*,}
up() { cut -d' ' -f1 /proc/uptime; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; } # utime + stime of a process
ip link set lo up
modprobe sg
modprobe scsi_debug dev_size_mb=256 max_luns=1 delay=0 ndelay=0
# No sd_mod (the guest has no udev to load it): the disk has its sg node only, as a tape or changer.
for i in $(seq 1 100); do [ -c /dev/sg0 ] && break; sleep 0.1; done
SD=$(ls /sys/class/scsi_generic/sg0/device/block 2>/dev/null)
echo "KVMBENCH: device $(cat /sys/class/scsi_generic/sg0/device/model) queue_depth $(cat /sys/class/scsi_generic/sg0/device/queue_depth) block driver ${SD:-none} clock ticks/s $(getconf CLK_TCK)"
W=/tmp/bench; mkdir -p "$W/state"
cat >"$W/topology.json" <<JSON
{ "stateDir": "$W/state", "engine": { "threads": 0 },
  "devices": [ { "name": "pt0", "handler": "passthrough", "path": "/dev/sg0" } ],
  "targets": [ { "driver": "iscsi", "name": "$IQN", "portals": ["127.0.0.1:3260"], "luns": [ { "lun": 0, "device": "pt0" } ] } ] }
JSON
setsid node "$R/bin/nexus" serve "$W/topology.json" >"$W/nexus.log" 2>&1 </dev/null &
NPID=$!
tgtd -f -C 1 --iscsi portal=127.0.0.1:3261 >"$W/tgtd.log" 2>&1 </dev/null &
TPID=$!
adm() { tgtadm -C 1 --lld iscsi "$@"; }
for i in $(seq 1 100); do adm --mode system --op show >/dev/null 2>&1 && break; sleep 0.1; done
adm --mode target --op new --tid 1 --targetname "$TIQN" &&
adm --mode logicalunit --op new --tid 1 --lun 1 --bstype sg --device-type pt --backing-store /dev/sg0 &&
adm --mode target --op bind --tid 1 --initiator-address ALL || echo "KVMBENCH: tgtd setup failed"
for i in $(seq 1 900); do ss -Hltn "sport = :3260" | grep -q . && break; kill -0 $NPID 2>/dev/null || break; sleep 0.1; done
ss -Hltn "sport = :3260" | grep -q . || { echo "KVMBENCH: nexus did not start: $(tail -3 "$W/nexus.log")"; }
echo "KVMBENCH: targets up at $(up)s"

url() { [ "$1" = nexus ] && echo "iscsi://127.0.0.1:3260/$IQN/0" || echo "iscsi://127.0.0.1:3261/$TIQN/1"; }
spec() { # qemu's iscsi driver as a block option, as bench/e2e/targets.ts gives it
  local port=3260 iqn=$IQN lun=0
  [ "$1" = tgt ] && { port=3261; iqn=$TIQN; lun=1; }
  echo "json:{\"driver\":\"raw\",\"file\":{\"driver\":\"iscsi\",\"transport\":\"tcp\",\"portal\":\"127.0.0.1:$port\",\"target\":\"$iqn\",\"lun\":$lun,\"header-digest\":\"none\"}}"
}
perf() { # $1 target, $2 blocks, $3 qd, $4 -r or nothing: prints IOPS (0 on failure, the client's last words on the console)
  timeout $((SECS + 30)) iscsi-perf -i "iqn.2026-11.io.nexus:bench-c" -m "$3" -b "$2" $4 -t "$SECS" "$(url "$1")" >/tmp/perf.out 2>&1 </dev/null
  local v; v=$(tr '\r' '\n' </tmp/perf.out | awk 'match($0, /iops average [0-9]+/) {v = substr($0, RSTART + 13, RLENGTH - 13)} END {print v + 0}')
  [ "$v" = 0 ] && tr '\r' '\n' </tmp/perf.out | grep -v '^$' | tail -2 | sed "s/^/KVMBENCH: error $1 iscsi-perf: /" >/dev/console
  echo "$v"
}
qbench() { # $1 target, $2 bytes, $3 qd, $4 stride, $5 count: prints seconds (empty on failure)
  timeout $((SECS * 6 + 60)) qemu-img bench -f raw -t none -w --pattern=165 -d "$3" -s "$2" -S "$4" -c "$5" "$(spec "$1")" >/tmp/qb.out 2>&1 </dev/null
  grep -q 'Run completed in' /tmp/qb.out || tail -2 /tmp/qb.out | sed "s/^/KVMBENCH: error $1 qemu-img: /" >/dev/console
  awk '/Run completed in/ {print $4}' /tmp/qb.out
}
declare -A COUNT
writes() { # $1 target, $2 cell, $3 bytes, $4 qd, $5 stride: prints IOPS; the count for SECS from a pilot
  local k="$1:$2" s n
  if [ -z "${COUNT[$k]:-}" ]; then
    n=$(( $3 >= 1048576 ? 16 : 256 ))
    s=$(qbench "$1" "$3" "$4" "$5" "$n")
    COUNT[$k]=$(awk -v n="$n" -v s="${s:-0}" -v t="$SECS" 'BEGIN { c = (s > 0) ? int(n / s * t) : 0; print ((c < 16) ? 16 : c) }')
  fi
  s=$(qbench "$1" "$3" "$4" "$5" "${COUNT[$k]}")
  awk -v n="${COUNT[$k]}" -v s="${s:-0}" 'BEGIN { print ((s > 0) ? int(n / s) : 0) }'
}
cell() { # $1 target, $2 cell
  case $2 in
    rr4k-qd32) perf "$1" 8 32 -r ;;
    rw4k-qd32) writes "$1" "$2" 4096 32 1052672 ;;
    sr1m-qd8) perf "$1" 2048 8 ;;
    sw1m-qd8) writes "$1" "$2" 1048576 8 1048576 ;;
  esac
}
# Not measured: each target and client once, so that Nexus's JIT and both targets' first logins are behind.
for t in nexus tgt; do echo "KVMBENCH: warm-up $t $(perf "$t" 8 32 -r) IOPS"; done
for r in $(seq 1 "$ROUNDS"); do
  order="nexus tgt"; [ $((r % 2)) = 0 ] && order="tgt nexus"
  for c in rr4k-qd32 rw4k-qd32 sr1m-qd8 sw1m-qd8; do
    for t in $order; do
      p=$NPID; [ "$t" = tgt ] && p=$TPID
      c0=$(ticks "$p"); w0=$(up)
      echo "KVMBENCH: sample $t $c $r $(cell "$t" "$c")"
      echo "KVMBENCH: cpu $t $c $r $(( $(ticks "$p") - c0 )) $(awk -v a="$w0" -v b="$(up)" 'BEGIN { print b - a }')"
    done
  done
done
echo "KVMBENCH: done at $(up)s"
kill -TERM $NPID
adm --mode target --op delete --force --tid 1 >/dev/null 2>&1; adm --mode system --op delete >/dev/null 2>&1
for i in $(seq 1 50); do kill -0 $NPID 2>/dev/null || kill -0 $TPID 2>/dev/null || break; sleep 0.1; done
