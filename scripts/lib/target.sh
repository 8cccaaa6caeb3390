# target.sh - start and stop the iSCSI target under test (Nexus, or tgtd for comparison).
# Sourced by test/conformance/run.sh and test/kernel-vm/run.sh; bash only.
#
#   target_start KIND WORKDIR ADDR PORT SIZE IQN   KIND = nexus | tgt
#     Nexus: writes WORKDIR/topology.json (one thin fileio LUN 0 of SIZE, WORKDIR/lun0.img) and
#            runs `nexus serve` on it; tgtd: a target with LUN 1 = sparse WORKDIR/lun1.img with
#            thin_provisioning=1 (tgtd's LUN 0 is its own controller LUN).
#     Sets TARGET_PID, TARGET_LUN, TARGET_URL (libiscsi iscsi:// URL of the disk), TARGET_LOG.
#     TARGET_REMOVABLE_LUN=1 (nexus only): also LUN 1, a second thin fileio disk of SIZE with
#            "removable": true (WORKDIR/lun1.img); TARGET_REMOVABLE_URL is then its URL; and LUN 2,
#            disk0 mapped read-only (TARGET_READONLY_URL), for the suites that need write protection.
#     TARGET_CDROM_ISO=PATH: also LUN 3, a CD/DVD-ROM drive over that ISO image (Nexus "handler":
#            "vcdrom"; tgtd's mmc, device-type cd).
#     TARGET_CHANGER_CARTS=DIR: also a library: LUN 6 a medium changer (Nexus "handler":
#            "changer") with LUNs 7 and 8 its two drives (vtape, empty), six slots holding the
#            cartridges DIR/NXS001L6.tape .. DIR/NXS006L6.tape (`nexus tape create`, bar code = file
#            name), one mail slot, and its state in DIR/library.json (outside WORKDIR/state, so a
#            restart keeps it). tgtd: its smc over DIR/smc with media_home DIR (cartridges
#            DIR/NXS001L6 .. DIR/NXS006L6 of tgtimg), its ssc drives over DIR/empty0 and DIR/empty1
#            set offline; tgtd keeps no library state across a restart.
#     TARGET_TAPE_CARTRIDGE=PATH, TARGET_TAPE_WP_CARTRIDGE=PATH: also LUNs 4 and 5, tape drives
#            holding those cartridges, the second write-protected: Nexus "handler": "vtape" over
#            cartridges of `nexus tape create`; tgtd's ssc over tgtimg images, LUN 5 readonly=1.
#     TARGET_SECOND_PORTAL=ADDR2:PORT2 (nexus only, IPv4): the target also listens there, in a
#            target port group of its own (id 2; ADDR:PORT is group 1): each LU has two paths, each
#            its own iSCSI target portal group. TARGET_URL2 is then the disk's URL through it.
#     If TARGET_NETNS is set, the target runs inside that network namespace (ip netns exec).
#     NEXUS_CMD overrides how Nexus is started (default: the built CLI when dist/ is current,
#     else tsx on the sources).
#   target_stop
#     Stops only the PID target_start recorded: SIGTERM (nexus) or tgtadm shutdown (tgtd), then
#     SIGKILL after a bounded wait.
# Every wait is bounded. Returns non-zero (with the log tail on stderr) when the target fails.

TARGET_PID=""; TARGET_KIND=""; TARGET_CTRL=""; TARGET_URL=""; TARGET_URL2=""; TARGET_LUN=""; TARGET_LOG=""; TARGET_REMOVABLE_URL=""; TARGET_READONLY_URL=""
_TARGET_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

_target_ns() { if [ -n "${TARGET_NETNS:-}" ]; then ip netns exec "$TARGET_NETNS" "$@"; else "$@"; fi; }

_target_listening() { # $1 port: a TCP listener on that port (inside the namespace if any)
  _target_ns ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

_nexus_cmd() {
  if [ -n "${NEXUS_CMD:-}" ]; then echo "$NEXUS_CMD"; return; fi
  local main=$_TARGET_ROOT/dist/src/cli/main.js
  if [ -f "$main" ] && [ -z "$(find "$_TARGET_ROOT/src" -newer "$main" -name '*.ts' 2>/dev/null | head -1)" ]; then
    echo "node $_TARGET_ROOT/bin/nexus"
  else
    echo "$_TARGET_ROOT/node_modules/.bin/tsx $_TARGET_ROOT/src/cli/main.ts"
  fi
}

target_start() {
  local kind=$1 dir=$2 addr=$3 port=$4 size=$5 iqn=$6 i
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd)
  TARGET_KIND=$kind; TARGET_LOG=$dir/$kind.log
  local ns=(); [ -n "${TARGET_NETNS:-}" ] && ns=(ip netns exec "$TARGET_NETNS")
  if _target_listening "$port"; then echo "target: port $port already in use" >&2; return 1; fi
  case $kind in
    nexus)
      rm -rf "$dir/state" "$dir/lun0.img" "$dir/lun1.img"; mkdir -p "$dir/state"
      local rdev="" rlun=""
      if [ -n "${TARGET_REMOVABLE_LUN:-}" ]; then
        rdev=",
    { \"name\": \"disk1\", \"handler\": \"fileio\", \"path\": \"$dir/lun1.img\", \"size\": \"$size\", \"blockSize\": 512, \"thin\": true, \"removable\": true }"
        rlun=", { \"lun\": 1, \"device\": \"disk1\" }, { \"lun\": 2, \"device\": \"disk0\", \"readOnly\": true }"
      fi
      if [ -n "${TARGET_CDROM_ISO:-}" ]; then
        rdev="$rdev,
    { \"name\": \"cd0\", \"handler\": \"vcdrom\", \"path\": \"$TARGET_CDROM_ISO\" }"
        rlun="$rlun, { \"lun\": 3, \"device\": \"cd0\" }"
      fi
      if [ -n "${TARGET_CHANGER_CARTS:-}" ]; then
        local c carts="" n
        for n in 1 2 3 4 5 6; do
          c="{ \"barcode\": \"NXS00${n}L6\", \"path\": \"$TARGET_CHANGER_CARTS/NXS00${n}L6.tape\", \"slot\": $n }"
          carts="${carts:+$carts, }$c"
        done
        rdev="$rdev,
    { \"name\": \"lib0\", \"handler\": \"changer\", \"drives\": [\"lt0\", \"lt1\"], \"slots\": 6, \"mailSlots\": 1,
      \"state\": \"$TARGET_CHANGER_CARTS/library.json\", \"cartridges\": [ $carts ] },
    { \"name\": \"lt0\", \"handler\": \"vtape\" }, { \"name\": \"lt1\", \"handler\": \"vtape\" }"
        rlun="$rlun, { \"lun\": 6, \"device\": \"lib0\" }, { \"lun\": 7, \"device\": \"lt0\" }, { \"lun\": 8, \"device\": \"lt1\" }"
      fi
      if [ -n "${TARGET_TAPE_CARTRIDGE:-}" ]; then
        rdev="$rdev,
    { \"name\": \"st0\", \"handler\": \"vtape\", \"path\": \"$TARGET_TAPE_CARTRIDGE\" },
    { \"name\": \"st1\", \"handler\": \"vtape\", \"path\": \"$TARGET_TAPE_WP_CARTRIDGE\" }"
        rlun="$rlun, { \"lun\": 4, \"device\": \"st0\" }, { \"lun\": 5, \"device\": \"st1\" }"
      fi
      local portals="\"$addr:$port\"" groups=""
      if [ -n "${TARGET_SECOND_PORTAL:-}" ]; then
        portals="$portals, \"$TARGET_SECOND_PORTAL\""
        groups=",
      \"portGroups\": [ { \"id\": 1, \"portals\": [\"$addr:$port\"] }, { \"id\": 2, \"portals\": [\"$TARGET_SECOND_PORTAL\"] } ]"
      fi
      cat >"$dir/topology.json" <<JSON
{
  "stateDir": "$dir/state",
  "devices": [
    { "name": "disk0", "handler": "fileio", "path": "$dir/lun0.img", "size": "$size", "blockSize": 512, "thin": true }$rdev
  ],
  "targets": [
    { "driver": "iscsi", "name": "$iqn", "portals": [$portals]$groups,
      "luns": [ { "lun": 0, "device": "disk0" }$rlun ] }
  ]
}
JSON
      # A simple command in the background (no function, no subshell around it): $! is then
      # the target process itself, as ip netns exec and setsid exec in place.
      # shellcheck disable=SC2046 # the command is a word list by design
      "${ns[@]}" setsid $(_nexus_cmd) serve "$dir/topology.json" >"$TARGET_LOG" 2>&1 </dev/null &
      TARGET_PID=$!; TARGET_LUN=0
      ;;
    tgt)
      command -v tgtd >/dev/null || { echo "target: tgtd missing (apt-get install tgt)" >&2; return 1; }
      rm -f "$dir/lun1.img"; truncate -s "$size" "$dir/lun1.img" || return 1
      TARGET_CTRL=$port
      "${ns[@]}" setsid tgtd -f -C "$TARGET_CTRL" --iscsi "portal=$addr:$port" >"$TARGET_LOG" 2>&1 </dev/null &
      TARGET_PID=$!; TARGET_LUN=1
      ;;
    *) echo "target: unknown kind $kind (nexus|tgt)" >&2; return 1 ;;
  esac
  local ok=0
  for i in $(seq 1 600); do   # 60 s: tsx compiles the sources on first start
    kill -0 "$TARGET_PID" 2>/dev/null || break
    if _target_listening "$port" && { [ "$kind" != nexus ] || [ -z "${TARGET_SECOND_PORTAL:-}" ] || _target_listening "${TARGET_SECOND_PORTAL##*:}"; }; then
      if [ "$kind" = nexus ] || _target_ns timeout 5 tgtadm -C "$TARGET_CTRL" --mode system --op show >/dev/null 2>&1; then ok=1; break; fi
    fi
    sleep 0.1
  done
  if [ $ok = 1 ] && [ "$kind" = tgt ]; then
    local adm=(_target_ns timeout -k 2 10 tgtadm -C "$TARGET_CTRL" --lld iscsi)
    "${adm[@]}" --mode target --op new --tid 1 --targetname "$iqn" &&
    "${adm[@]}" --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$dir/lun1.img" &&
    "${adm[@]}" --mode logicalunit --op update --tid 1 --lun 1 --params thin_provisioning=1 || ok=0
    if [ $ok = 1 ] && [ -n "${TARGET_CDROM_ISO:-}" ]; then
      "${adm[@]}" --mode logicalunit --op new --tid 1 --lun 3 --device-type cd --backing-store "$TARGET_CDROM_ISO" || ok=0
    fi
    if [ $ok = 1 ] && [ -n "${TARGET_TAPE_CARTRIDGE:-}" ]; then
      "${adm[@]}" --mode logicalunit --op new --tid 1 --lun 4 --device-type tape --bstype ssc --backing-store "$TARGET_TAPE_CARTRIDGE" &&
      "${adm[@]}" --mode logicalunit --op new --tid 1 --lun 5 --device-type tape --bstype ssc --backing-store "$TARGET_TAPE_WP_CARTRIDGE" &&
      "${adm[@]}" --mode logicalunit --op update --tid 1 --lun 5 --params readonly=1 || ok=0
    fi
    if [ $ok = 1 ] && [ -n "${TARGET_CHANGER_CARTS:-}" ]; then
      # tgtd's VTL (README.vtl): the drives hold a placeholder cartridge and are offline until the
      # changer loads one; the changer's cartridges are the files of media_home named by their
      # bar codes. Element addresses as in tgt's targets.conf.vtl.L700 example.
      local smc=(--mode logicalunit --op update --tid 1 --lun 6 --params) n
      "${adm[@]}" --mode logicalunit --op new --tid 1 --lun 7 --device-type tape --bstype ssc --backing-store "$TARGET_CHANGER_CARTS/empty0" &&
      "${adm[@]}" --mode logicalunit --op update --tid 1 --lun 7 --params online=0 &&
      "${adm[@]}" --mode logicalunit --op new --tid 1 --lun 8 --device-type tape --bstype ssc --backing-store "$TARGET_CHANGER_CARTS/empty1" &&
      "${adm[@]}" --mode logicalunit --op update --tid 1 --lun 8 --params online=0 &&
      "${adm[@]}" --mode logicalunit --op new --tid 1 --lun 6 --device-type changer --bstype smc --backing-store "$TARGET_CHANGER_CARTS/smc" &&
      "${adm[@]}" "${smc[@]}" "media_home=$TARGET_CHANGER_CARTS" &&
      "${adm[@]}" "${smc[@]}" element_type=1,start_address=1,quantity=1 &&
      "${adm[@]}" "${smc[@]}" element_type=2,start_address=1000,quantity=6 &&
      "${adm[@]}" "${smc[@]}" element_type=3,start_address=10,quantity=1 &&
      "${adm[@]}" "${smc[@]}" element_type=4,start_address=500,quantity=2 &&
      "${adm[@]}" "${smc[@]}" element_type=4,address=500,tid=1,lun=7 &&
      "${adm[@]}" "${smc[@]}" element_type=4,address=501,tid=1,lun=8 || ok=0
      for n in 1 2 3 4 5 6; do
        [ $ok = 1 ] && { "${adm[@]}" "${smc[@]}" "element_type=2,address=$((999 + n)),barcode=NXS00${n}L6,sides=1" || ok=0; }
      done
    fi
    [ $ok = 1 ] && { "${adm[@]}" --mode target --op bind --tid 1 --initiator-address ALL || ok=0; }
  fi
  if [ $ok != 1 ]; then
    echo "target: $kind did not come up on $addr:$port; log tail:" >&2
    tail -20 "$TARGET_LOG" >&2
    target_stop
    return 1
  fi
  local host=$addr; case $addr in *:*) host="[$addr]";; esac
  TARGET_URL="iscsi://$host:$port/$iqn/$TARGET_LUN"
  TARGET_URL2=""
  [ "$kind" = nexus ] && [ -n "${TARGET_SECOND_PORTAL:-}" ] && TARGET_URL2="iscsi://$TARGET_SECOND_PORTAL/$iqn/$TARGET_LUN"
  if [ "$kind" = nexus ] && [ -n "${TARGET_REMOVABLE_LUN:-}" ]; then
    TARGET_REMOVABLE_URL="iscsi://$host:$port/$iqn/1"; TARGET_READONLY_URL="iscsi://$host:$port/$iqn/2"
  fi
  return 0
}

target_stop() {
  [ -n "$TARGET_PID" ] || return 0
  local pid=$TARGET_PID i
  if kill -0 "$pid" 2>/dev/null; then
    if [ "$TARGET_KIND" = tgt ]; then
      # tgtd ignores SIGTERM: delete the target, then the system, and it exits.
      _target_ns timeout -k 2 10 tgtadm -C "$TARGET_CTRL" --lld iscsi --mode target --op delete --force --tid 1 >/dev/null 2>&1
      _target_ns timeout -k 2 10 tgtadm -C "$TARGET_CTRL" --lld iscsi --mode system --op delete >/dev/null 2>&1
    else
      kill -TERM "$pid" 2>/dev/null
    fi
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "target: $TARGET_KIND pid $pid did not stop in 10 s; SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  # setsid made the target a process group leader: anything it started and left behind
  # (tsx's child node, for one) is in group $pid.
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  TARGET_PID=""
}
