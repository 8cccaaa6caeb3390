# dm-multipath (Debian multipath-tools, the host's, through the 9p root) over two paths to one LU:
# the target's two portals, each its own target port group (group 1: KVM_PORTAL, the session
# iscsi.sh logged in; group 2: KVM_MPATH). Sourced by iscsi.sh while logged in, with its step(),
# up() and $D (LUN 0 through the first portal). One "KVMTEST: PASS|FAIL <step>" line per step.
# The host changes access states through the daemon's control socket on request (mpath-host.sh:
# "KVMTEST: mpath host-request N <states JSON>", the answer in a file seen through 9p).
P2=$KVM_MPATH
modprobe dm_multipath; modprobe dm_service_time; modprobe dm_round_robin; modprobe scsi_dh_alua
# Paths fail over in seconds: a NOP-Out every second, the session's commands failed to
# dm-multipath 5 s after its connection is lost (iSCSI replacement timeout), not 15.
for s in /sys/class/iscsi_session/session*; do echo 5 >"$s/recovery_tmo"; done
iscsiadm -m node -o update -n node.session.timeo.replacement_timeout -v 5 >/dev/null 2>&1
MREQ=0
mpath_host() { # $1: states JSON for alua.set on disk0; the host's answer in MPATH_OUT
  MREQ=$((MREQ + 1))
  local f=${KVM_MPATH_REQ:?}/$MREQ.rc i
  MPATH_OUT=""
  echo "KVMTEST: mpath host-request $MREQ $1"
  for i in $(seq 1 100); do
    echo 2 >/proc/sys/vm/drop_caches   # 9p with cache=loose: see the host's new file
    [ -f "$f" ] && { MPATH_OUT=$(cat "${f%.rc}.out" 2>/dev/null); [ "$(cat "$f")" = 0 ]; return; }
    sleep 0.3
  done
  echo "KVMTEST: mpath host did not answer request $MREQ"; return 1
}
# The LUN 0 disk of the session through portal $1, once attached.
disk_of() {
  local sid
  sid=$(iscsiadm -m session 2>/dev/null | awk -v p="$1" '$3 ~ "^"p"," {gsub(/[\[\]]/, "", $2); print $2; exit}')
  [ -n "$sid" ] || return 1
  iscsiadm -m session -r "$sid" -P 3 2>/dev/null | awk '/ Lun: / {l = ($NF == "0")} l && /Attached scsi disk sd/ {print $4; exit}'
}
mp_ll() { multipath -ll 2>/dev/null; }
# Group lines of `multipath -ll`: "policy='service-time 0' prio=50 status=active", then its paths.
group_of() { mp_ll | awk -v d="$1" '/prio=/ {g=$0} $0 ~ (" " d " ") {print g; exit}'; }
path_line() { mp_ll | grep -m1 " $1 "; }
# Which group of the map is active: $1 path's group has prio $2 and status $3.
in_group() { group_of "$1" | grep -q "prio=$2 status=$3"; }
a_preferred() { in_group "$A" 50 active && in_group "$B" 10 enabled; }
b_preferred() { in_group "$B" 50 active && in_group "$A" 10 enabled; }
# alua prio 1: A's group standby (its path a ghost), B's group active.
a_standby() { group_of "$A" | grep -q 'prio=1 ' && in_group "$B" 50 active; }
# iscsi.sh's step(), then the guest's uptime (where the multipath steps spend their time).
mstep() { step "$@"; local r=$?; echo "KVMTEST: mpath at $(up)s"; return $r; }
wait_for() { # $1 tries (0.5 s apart), then a command
  local n=$1 i; shift
  for i in $(seq 1 "$n"); do "$@" && return 0; sleep 0.5; done
  return 1
}

mpath_steps() {
  local A=$D B="" MAP="" i
  t_mp=$(up)
  # Group 2 starts active/non-optimized: dm-multipath prefers group 1 (prio alua: 50 against 10).
  mstep mpath-host-states mpath_host '{"1":"active/optimized","2":"active/non-optimized"}' || return 1
  # SendTargets through the second portal lists both, each with its target portal group tag.
  second_login() {
    timeout 30 iscsiadm -m discovery -t sendtargets -p "$P2" >/tmp/disc2.txt || return 1
    cat /tmp/disc2.txt
    grep -q ",1 $IQN\$" /tmp/disc2.txt && grep -q ",2 $IQN\$" /tmp/disc2.txt || return 1
    iscsiadm -m node -T "$IQN" -p "$P2" >/dev/null 2>&1 || iscsiadm -m node -o new -T "$IQN" -p "$P2" >/dev/null
    iscsiadm -m node -T "$IQN" -p "$P2" -o update -n node.session.timeo.replacement_timeout -v 5 >/dev/null
    timeout 40 iscsiadm -m node -T "$IQN" -p "$P2" --login >/dev/null || return 1
    B=$(wait_for 60 disk_of "$P2" >/dev/null && disk_of "$P2")
    [ -n "$B" ] && [ -b "/dev/$B" ]
  }
  mstep mpath-second-portal-login second_login || return 1
  iscsiadm -m session | sed 's/^/KVMTEST: mpath session /'
  # Two sessions, each declaring its own portal group (RFC 7143 13.9), LUN 0 on each: two paths.
  mstep mpath-two-sessions sh -c "[ \$(iscsiadm -m session | grep -c '$IQN') = 2 ] && iscsiadm -m session | grep -q ',1 $IQN' && iscsiadm -m session | grep -q ',2 $IQN'"
  echo "KVMTEST: mpath paths $A (portal $P) and $B (portal $P2)"
  # multipathd finds paths, and hears of new and changed ones, through udev (the host's
  # systemd-udevd and rules, as on any installed system): started here, after the other steps.
  udev_up() {
    /lib/systemd/systemd-udevd --daemon >/dev/null 2>&1 || return 1
    udevadm trigger --action=add --subsystem-match=block --sysname-match='sd*' >/dev/null 2>&1
    timeout 60 udevadm settle
  }
  mstep mpath-udev udev_up

  # SPC-4 6.37 through each path: both groups, each path's own group and relative port.
  # Pending unit attentions (the state change, POWER ON for a new nexus) go to a TEST UNIT READY
  # first: sg3_utils reports them as failures rather than retrying.
  settled() { local i; for i in 1 2 3 4 5; do sg_turs "$1" >/dev/null 2>&1 && return 0; done; return 1; }
  rtpg_check() {
    settled "/dev/$A"; settled "/dev/$B"
    sg_rtpg -d "/dev/$A" >/tmp/rtpg.a 2>&1; sg_rtpg -d "/dev/$B" >/tmp/rtpg.b 2>&1
    sed 's/^/KVMTEST: mpath rtpg A /' /tmp/rtpg.a; sed 's/^/KVMTEST: mpath rtpg B /' /tmp/rtpg.b
    # sg_rtpg -d: "target port group id : 0x1 , Pref=0, Rtpg_fmt=0" then "asymmetric access state : ..."
    awk '/target port group id : 0x1 /{g=1} g && /asymmetric access state/ {print; exit}' /tmp/rtpg.b | grep -q 'active/optimized' &&
    awk '/target port group id : 0x2 /{g=1} g && /asymmetric access state/ {print; exit}' /tmp/rtpg.a | grep -q 'active/non optimized' &&
    sg_vpd -p di "/dev/$A" | grep -qi 'relative target port: 0x1' &&
    sg_vpd -p di "/dev/$B" | grep -qi 'relative target port: 0x2' &&
    sg_vpd -p sp "/dev/$B" >/tmp/sp.txt && sed 's/^/KVMTEST: mpath vpd88 /' /tmp/sp.txt &&
    grep -qi 'relative port=1' /tmp/sp.txt && grep -qi 'relative port=2' /tmp/sp.txt
  }
  mstep mpath-sg-rtpg-per-path rtpg_check

  mkdir -p /etc/multipath
  cat >/etc/multipath.conf <<'CONF'
defaults {
    polling_interval 1
    max_polling_interval 2
    find_multipaths off
    user_friendly_names yes
}
devices {
    device {
        vendor "NEXUS"
        product ".*"
        path_grouping_policy group_by_prio
        prio alua
        path_checker tur
        hardware_handler "1 alua"
        failback immediate
        no_path_retry 12
    }
}
CONF
  setsid multipathd -d -s -v2 >/tmp/multipathd.log 2>&1 &
  local mpd=$!
  map_up() {
    MAP=$(mp_ll | awk '/ dm-[0-9]+ / {print $1; exit}')
    [ -n "$MAP" ] && [ -b "/dev/mapper/$MAP" ] && path_line "$A" | grep -q 'active ready' && path_line "$B" | grep -q 'active ready'
  }
  # The optimized group (path A) active, the non-optimized one (path B) enabled.
  mapped() { wait_for 40 map_up && wait_for 20 a_preferred; }
  mstep mpath-map-optimized-active mapped
  mp_ll | sed 's/^/KVMTEST: mpath ll /'
  [ -n "$MAP" ] || { tail -30 /tmp/multipathd.log | sed 's/^/KVMTEST: mpath multipathd /'; return 1; }

  # SET TARGET PORT GROUPS (explicit) through path B: group 2 optimized, group 1 non-optimized;
  # the map follows (multipathd's prio refresh regroups: B's group active).
  stpg() {
    sg_stpg -t 2,1 -S ao,an "/dev/$B" || return 1
    wait_for 40 b_preferred
  }
  mstep mpath-stpg-map-follows stpg
  mp_ll | sed 's/^/KVMTEST: mpath ll /'

  # A write/verify workload on the map: 1 MiB O_DIRECT writes over a 16 MiB region, each of
  # different content, until told to stop; then every region is read back and compared.
  head -c $((8 << 20)) /dev/urandom >/tmp/mp.pat
  mp_writer() { # $1 stop file; writes "i region chunk rc" lines to /tmp/mp.log
    local i=0 r c
    : >/tmp/mp.log
    while [ ! -e "$1" ] || [ "$i" -lt 8 ]; do
      r=$((i % 16)); c=$((i % 7))
      dd if=/tmp/mp.pat of="/dev/mapper/$MAP" bs=1M skip="$c" seek=$((64 + r)) count=1 oflag=direct status=none
      echo "$i $r $c $?" >>/tmp/mp.log
      i=$((i + 1))
    done
  }
  mp_verify() { # every write succeeded, and each region holds its last write
    local i r c rc bad=0
    declare -A last=()
    while read -r i r c rc; do
      [ "$rc" = 0 ] || { echo "KVMTEST: mpath write $i failed rc=$rc"; bad=1; }
      last[$r]=$c
    done </tmp/mp.log
    for r in "${!last[@]}"; do
      [ "$(dd if=/tmp/mp.pat bs=1M skip="${last[$r]}" count=1 status=none | md5sum)" = \
        "$(dd if="/dev/mapper/$MAP" bs=1M skip=$((64 + r)) count=1 iflag=direct status=none | md5sum)" ] ||
        { echo "KVMTEST: mpath region $r differs"; bad=1; }
    done
    echo "KVMTEST: mpath $(wc -l </tmp/mp.log) writes verified over ${#last[@]} regions"
    return $bad
  }
  # (a) The host flips the states through the control socket while the workload runs: group 1
  # standby (path A refused, its group prio 1; I/O on B), then optimized again, B non-optimized.
  flips() {
    rm -f /tmp/mp.stop; mp_writer /tmp/mp.stop & local w=$!
    local ok=0
    sleep 1
    # alua prio: optimized 50, non-optimized 10, standby 1.
    mpath_host '{"1":"standby","2":"active/optimized"}' && wait_for 40 a_standby &&
      mpath_host '{"1":"active/optimized","2":"active/non-optimized"}' && wait_for 40 a_preferred || ok=1
    touch /tmp/mp.stop; wait "$w"
    mp_ll | sed 's/^/KVMTEST: mpath ll /'
    [ $ok = 0 ] && mp_verify
  }
  mstep mpath-io-through-state-flips flips

  # (b) Path A's route goes (the portal unreachable): the map fails it and carries on over B;
  # the route back, the session logs in again and multipathd reinstates the path.
  local H=${P%:*}
  a_failed() { path_line "$A" | grep -q failed; }
  a_ready() { path_line "$A" | grep -q 'active ready'; }
  written() { [ "$(wc -l </tmp/mp.log)" -ge "$1" ]; }
  failover() {
    rm -f /tmp/mp.stop; mp_writer /tmp/mp.stop & local w=$!
    local ok=0
    sleep 1
    ip route add blackhole "$H/32"
    wait_for 60 a_failed || ok=1
    mp_ll | sed 's/^/KVMTEST: mpath failed /'
    # Some writes while the path is down, over B alone.
    local n; n=$(wc -l </tmp/mp.log); wait_for 40 written $((n + 4)) || ok=1
    ip route del blackhole "$H/32"
    wait_for 90 a_ready || ok=1
    mp_ll | sed 's/^/KVMTEST: mpath reinstated /'
    touch /tmp/mp.stop; wait "$w"
    [ $ok = 0 ] && mp_verify
  }
  mstep mpath-path-fail-reinstate-verify failover

  # SPC-4 5.13: persistent reservations through the map, with A's group the only active one
  # (sg_persist through the map goes down its current path, A's I_T nexus; with two active paths
  # each command could take either, which is why multipath-tools has mpathpersist): registered
  # and reserved (Write Exclusive) there; path B is another I_T nexus, so its write conflicts
  # while its read is served, and it reads the reservation A holds.
  pr() {
    local r=0
    # Linux's scsi_dh_alua made group 2 optimized (SET TARGET PORT GROUPS) when the map failed
    # over to it: the host puts it back to non-optimized.
    mpath_host '{"1":"active/optimized","2":"active/non-optimized"}' && wait_for 40 a_preferred || return 1
    settled "/dev/$A"; settled "/dev/$B"
    sg_persist -n --out --register --param-sark=0xa1 "/dev/mapper/$MAP" >/tmp/pr.txt 2>&1 &&
      sg_persist -n --out --reserve --param-rk=0xa1 --prout-type=1 "/dev/mapper/$MAP" >>/tmp/pr.txt 2>&1 ||
      { sed 's/^/KVMTEST: mpath pr out /' /tmp/pr.txt; return 1; }
    sg_persist -n --in --read-reservation "/dev/$B" >/tmp/pr.txt; cat /tmp/pr.txt | sed 's/^/KVMTEST: mpath pr /'
    grep -qi 'key=0xa1' /tmp/pr.txt && grep -qi 'Write Exclusive' /tmp/pr.txt || r=1
    # WRITE(10) of one block at LBA 0 through B: RESERVATION CONFLICT; READ(10): GOOD.
    sg_raw -s 512 -i /dev/zero "/dev/$B" 2a 00 00 00 00 00 00 00 01 00 >/tmp/prw.txt 2>&1
    grep -qi 'reservation conflict' /tmp/prw.txt || { sed 's/^/KVMTEST: mpath pr write /' /tmp/prw.txt; r=1; }
    sg_raw -r 512 "/dev/$B" 28 00 00 00 00 00 00 00 01 00 >/tmp/prr.txt 2>&1 || { sed 's/^/KVMTEST: mpath pr read /' /tmp/prr.txt; r=1; }
    # The holder releases and unregisters through the map; B's write then passes.
    sg_persist -n --out --release --param-rk=0xa1 --prout-type=1 "/dev/mapper/$MAP" >/dev/null &&
      sg_persist -n --out --register --param-rk=0xa1 --param-sark=0 "/dev/mapper/$MAP" >/dev/null || r=1
    sg_raw -s 512 -i /dev/zero "/dev/$B" 2a 00 00 00 00 00 00 00 01 00 >/dev/null 2>&1 || r=1
    return $r
  }
  mstep mpath-pr-through-map pr

  # Done: the map goes, then the second session.
  multipath -F >/dev/null 2>&1
  kill "$mpd" 2>/dev/null; wait "$mpd" 2>/dev/null
  udevadm control --exit 2>/dev/null
  mstep mpath-second-portal-logout timeout 30 iscsiadm -m node -T "$IQN" -p "$P2" --logout
  echo "KVMTEST: timing multipath=$(awk "BEGIN{print $(up)-$t_mp}")s"
}
mpath_steps
