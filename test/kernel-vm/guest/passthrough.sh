# Pass-through devices, with Nexus running in the guest (run-passthrough.sh): scsi_debug gives
# three small disks (/dev/sg0..2); the native sg queue is exercised on sg2 directly; Nexus exports
# sg0 and sg1 as passthrough LUNs 0 and 1 on the guest's loopback; libiscsi's tools and two
# initiators (passthrough-check) use them. tgtd's VTL and CD/DVD drive, logged in with open-iscsi,
# give real changer, tape and CD/DVD sg nodes that Nexus exports too (LUNs 2-4), and the guest's
# own drivers use every type through Nexus (passthrough-devices.sh). One "KVMTEST: PASS|FAIL
# <step>" line per step. Reads KVM_ROOT (the checkout, with dist/ built), KVM_IQN.
R=$KVM_ROOT; IQN=$KVM_IQN; PORT=3260
source "$(dirname "$0")/passthrough-devices.sh"
source "$(dirname "$0")/passthrough-large.sh"
ok() { echo "KVMTEST: PASS $1"; }
bad() { echo "KVMTEST: FAIL $1${2:+ ($2)}"; }
step() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "rc=$?"; return 1; fi; }
up() { cut -d' ' -f1 /proc/uptime; }

ip link set lo up
modprobe sg; modprobe sd_mod; modprobe ext4; modprobe crc32c_generic 2>/dev/null
# SBC disks of 16 MiB, no delay; three LUNs on one target (sg0, sg1, sg2).
modprobe scsi_debug dev_size_mb=16 max_luns=3 delay=0 ndelay=0 vpd_use_hostno=0
for i in $(seq 1 100); do [ -c /dev/sg2 ] && [ -d /sys/class/scsi_generic/sg2/device/block ] && break; sleep 0.1; done
step sg-nodes test -c /dev/sg0 -a -c /dev/sg1 -a -c /dev/sg2 || { ls -l /dev/sg* /sys/class/scsi_generic; exit 1; }
SDEBUG=/sys/bus/pseudo/drivers/scsi_debug
echo "KVMTEST: scsi_debug $(cat /sys/class/scsi_generic/sg0/device/vendor 2>/dev/null) $(cat /sys/class/scsi_generic/sg0/device/model) queue_depth $(cat /sys/class/scsi_generic/sg0/device/queue_depth) at $(up)s"

t0=$(up)
node "$R/dist/test/kernel-vm/passthrough-check.js" sg /dev/sg2
echo "KVMTEST: timing sg $(awk "BEGIN{print $(up)-$t0}")s"

# A mounted disk is refused, naming the JSON path.
SDA=$(ls /sys/class/scsi_generic/sg2/device/block)
mkfs.ext4 -q -F "/dev/$SDA" >/dev/null 2>&1 && mkdir -p /mnt/pt && mount "/dev/$SDA" /mnt/pt
W=/tmp/pt; mkdir -p "$W/state"
cat >"$W/mounted.json" <<JSON
{ "stateDir": "$W/state", "devices": [ { "name": "busy", "handler": "passthrough", "path": "/dev/$SDA" } ],
  "targets": [ { "driver": "iscsi", "name": "$IQN", "portals": ["127.0.0.1:$PORT"], "luns": [ { "lun": 0, "device": "busy" } ] } ] }
JSON
t0=$(up)
node "$R/bin/nexus" validate "$W/mounted.json" >"$W/mounted.log" 2>&1
refused() { grep -q '/devices/0/path' "$W/mounted.log" && grep -q 'mounted on /mnt/pt' "$W/mounted.log"; }
step refuse-mounted refused || tail -5 "$W/mounted.log"
echo "KVMTEST: timing validate $(awk "BEGIN{print $(up)-$t0}")s"
umount /mnt/pt
step pt-no-sd pt_large_setup

# tgtd (Debian tgt) in the guest: target 2 the VTL and CD/DVD drive whose sg nodes Nexus exports,
# target 1 later the bs_sg peer. tgtd ignores SIGTERM: its targets and the system are deleted at the end.
TPORT=$PT_DEV_TPORT
tgtd -f -C 1 --iscsi portal=127.0.0.1:$TPORT >"$W/tgtd.log" 2>&1 </dev/null &
TPID=$!
adm() { tgtadm -C 1 --lld iscsi "$@"; }
for i in $(seq 1 100); do adm --mode system --op show >/dev/null 2>&1 && break; sleep 0.1; done
t0=$(up)
step iscsid-up iscsid_up
step vtl-login vtl_up || { tail -5 "$W/tgtd.log"; PT_CD_SG=""; }
echo "KVMTEST: timing vtl $(awk "BEGIN{print $(up)-$t0}")s"

cat >"$W/topology.json" <<JSON
{ "stateDir": "$W/state", "engine": { "threads": 0 },
  "devices": [ { "name": "pt0", "handler": "passthrough", "path": "/dev/sg0" },
               { "name": "pt1", "handler": "passthrough", "path": "/dev/$(ls /sys/class/scsi_generic/sg1/device/block)" } $(pt_dev_devices) $(pt_large_devices) ],
  "targets": [ { "driver": "iscsi", "name": "$IQN", "portals": ["127.0.0.1:$PORT"],
                 "luns": [ { "lun": 0, "device": "pt0" }, { "lun": 1, "device": "pt1" } $(pt_dev_luns) $(pt_large_luns) ] } ] }
JSON
t0=$(up)
setsid node "$R/bin/nexus" serve "$W/topology.json" >"$W/nexus.log" 2>&1 </dev/null &
NPID=$!
for i in $(seq 1 600); do ss -Hltn "sport = :$PORT" | grep -q . && break; kill -0 $NPID 2>/dev/null || break; sleep 0.1; done
listening() { ss -Hltn "sport = :$PORT" | grep -q .; }
step nexus-up listening || { tail -20 "$W/nexus.log"; exit 1; }
echo "KVMTEST: timing nexus start $(awk "BEGIN{print $(up)-$t0}")s"
URL=iscsi://127.0.0.1:$PORT/$IQN
inq() { iscsi-inq "$URL/0" | tee /tmp/inq.txt | grep -q 'scsi_debug'; }
step iscsi-inq inq || cat /tmp/inq.txt
cap() { iscsi-readcapacity16 "$URL/1" | tee /tmp/cap.txt | grep -q 'Total size:16777216'; }
step iscsi-readcapacity16 cap || cat /tmp/cap.txt

t0=$(up)
node "$R/dist/test/kernel-vm/passthrough-check.js" shared 127.0.0.1 $PORT "$IQN" "$SDEBUG"
echo "KVMTEST: timing shared $(awk "BEGIN{print $(up)-$t0}")s"
t0=$(up)
pt_large_steps
echo "KVMTEST: timing 1 MiB $(awk "BEGIN{print $(up)-$t0}")s"

# libiscsi's conformance tests of the families scsi_debug supports, on LUN 1 (a scratch scsi_debug
# disk: --dataloss, without which libiscsi skips every PERSISTENT RESERVE OUT and the ProutReserve
# family fails on READ RESERVATION), with two initiator names for the two-initiator tests.
CU=(iscsi-test-cu --dataloss -i iqn.2026-11.io.nexus:kvm-cu-a -I iqn.2026-11.io.nexus:kvm-cu-b)
# CUnit's summary line: "tests <total> <ran> <passed> <failed> <inactive>"; a family passes with
# tests run and none failed. (libiscsi logs "[FAILED]" lines inside tests that pass: only the
# summary counts.) Under TCG a family costs 1-15 s on a quiet host, up to 100 s on a loaded one.
CU_FAMILIES="SCSI.Inquiry SCSI.ReadCapacity16 SCSI.Reserve6 SCSI.ProutReserve SCSI.Read10"
# More families that pass on a fileio LUN and on scsi_debug and take seconds under TCG (README
# lists the rest and why they are not run: scsi_debug's own answers, or minutes under TCG).
CU_MORE="SCSI.TestUnitReady SCSI.ReadCapacity10 SCSI.ReportSupportedOpcodes SCSI.PrinReadKeys SCSI.ProutRegister SCSI.PrinReportCapabilities SCSI.PreventAllow SCSI.StartStopUnit SCSI.WriteVerify10 SCSI.OrWrite"
cu() { # $1 family, $2 LUN URL
  local t=$(up) f=/tmp/cu-$1.txt
  timeout 240 "${CU[@]}" -t "$1" "$2" 2>&1 </dev/null | tr -d '\r' >"$f"
  # (no process substitution: the guest's devtmpfs has no /dev/fd)
  local sum ran= failed=; sum=$(awk '$1 == "tests" {print $3, $5}' "$f")
  [ -n "$sum" ] && { ran=${sum% *}; failed=${sum#* }; }
  echo "KVMTEST: cu $1: ran ${ran:-?} failed ${failed:-?} in $(awk "BEGIN{print $(up)-$t}")s"
  [ -n "$ran" ] && [ "$ran" -gt 0 ] && [ "$failed" = 0 ] || { grep -n 'FAILED' "$f" | grep -v 'FAILED$' | head -4 | sed 's/^/KVMTEST:     /'; return 1; }
}
t0=$(up)
for f in $CU_FAMILIES $CU_MORE; do
  step "cu-$f" cu "$f" "$URL/1"
done
echo "KVMTEST: timing cu $(awk "BEGIN{print $(up)-$t0}")s"

# scsi_debug's medium error on LUN 1 (sg1), then sg0's device deleted and scanned again (LUN 0).
t0=$(up)
node "$R/dist/test/kernel-vm/passthrough-check.js" medium 127.0.0.1 $PORT "$IQN" 1 /dev/sg1 "$SDEBUG"
node "$R/dist/test/kernel-vm/passthrough-check.js" gone 127.0.0.1 $PORT "$IQN" 0 /dev/sg0
echo "KVMTEST: timing medium+gone $(awk "BEGIN{print $(up)-$t0}")s"
# Linux's own initiator through Nexus: a file system, the library, the CD/DVD drive.
t0=$(up)
if step nexus-login nexus_login; then
  pt_dev_disk_steps
  echo "KVMTEST: timing pt disk $(awk "BEGIN{print $(up)-$t0}")s"
  pt_dev_library_steps
  pt_dev_cd_steps
  step nexus-logout nexus_logout
fi
echo "KVMTEST: timing pt devices $(awk "BEGIN{print $(up)-$t0}")s"

kill -TERM $NPID; for i in $(seq 1 50); do kill -0 $NPID 2>/dev/null || break; sleep 0.1; done
grep -i 'error\|fatal' "$W/nexus.log" | head -5

# The peer: tgtd's bs_sg over the same scsi_debug disks (Debian tgt), the same steps named tgt-*:
# LUN 1 is sg1 (the conformance families, as Nexus's LUN 1), LUN 2 is sg0 (the two-initiator steps,
# as Nexus's LUN 0). tgtd ignores SIGTERM: the target and the system are deleted, then it exits.
t0=$(up)
TIQN=$IQN:tgt
tgt_up() {
  adm --mode target --op new --tid 1 --targetname "$TIQN" &&
  adm --mode logicalunit --op new --tid 1 --lun 1 --bstype sg --device-type pt --backing-store /dev/sg1 &&
  adm --mode logicalunit --op new --tid 1 --lun 2 --bstype sg --device-type pt --backing-store /dev/sg0 &&
  adm --mode target --op bind --tid 1 --initiator-address ALL
}
step tgt-up tgt_up || tail -5 "$W/tgtd.log"
TURL=iscsi://127.0.0.1:$TPORT/$TIQN
tinq() { iscsi-inq "$TURL/2" | tee /tmp/tinq.txt | grep -q 'scsi_debug'; }
step tgt-iscsi-inq tinq || cat /tmp/tinq.txt
tcap() { iscsi-readcapacity16 "$TURL/1" | tee /tmp/tcap.txt | grep -q 'Total size:16777216'; }
step tgt-iscsi-readcapacity16 tcap || cat /tmp/tcap.txt
node "$R/dist/test/kernel-vm/passthrough-check.js" shared 127.0.0.1 $TPORT "$TIQN" "$SDEBUG" 2 tgt
for f in $CU_FAMILIES; do
  step "tgt-cu-$f" cu "$f" "$TURL/1"
done
echo "KVMTEST: timing tgt $(awk "BEGIN{print $(up)-$t0}")s"
adm --mode target --op delete --force --tid 1 >/dev/null 2>&1
vtl_down
adm --mode system --op delete >/dev/null 2>&1
for i in $(seq 1 50); do kill -0 $TPID 2>/dev/null || break; sleep 0.1; done
kill -KILL $TPID 2>/dev/null
exit 0
