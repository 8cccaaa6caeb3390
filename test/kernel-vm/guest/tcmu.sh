# The HBA target-mode shim in the guest (run-tcmu.sh): `nexus shim` wires a fileio disk to tcm_loop
# through LIO's TCMU and serves the ring; the guest's SCSI stack sees /dev/sdX, and each step
# below uses it as an HBA's initiator would. One "KVMTEST: PASS|FAIL <step>" line per step.
# Reads KVM_ROOT (the checkout, with dist/ built).
R=$KVM_ROOT
ok() { echo "KVMTEST: PASS $1"; }
bad() { echo "KVMTEST: FAIL $1${2:+ ($2)}"; }
step() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "rc=$?"; return 1; fi; }
up() { cut -d' ' -f1 /proc/uptime; }
W=/tmp/tcmu; mkdir -p "$W/state"
CFS=/sys/kernel/config/target

mods() {
  modprobe target_core_user && modprobe tcm_loop && modprobe sd_mod && modprobe sg && modprobe ext4 || return 1
  mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
}
step modules mods || exit 1

cat >"$W/topology.json" <<JSON
{ "stateDir": "$W/state", "engine": { "threads": 0 },
  "devices": [ { "name": "disk0", "handler": "fileio", "path": "$W/disk0.img", "size": "48MiB", "product": "SHIM DISK" },
               { "name": "spare", "handler": "fileio", "path": "$W/spare.img", "size": "8MiB", "product": "SHIM SPARE" } ],
  "targets": [ { "driver": "loopback", "name": "sas0", "wwn": "naa.5001405000000001",
                 "luns": [ { "lun": 0, "device": "disk0" }, { "lun": 1, "device": "spare" } ] } ] }
JSON
# --cmd-time-out 0: while Nexus restarts, LIO keeps the commands in the ring rather than failing them.
start_shim() {
  setsid node "$R/bin/nexus" shim "$W/topology.json" --cmd-time-out 0 --max-data-area-mb 16 >>"$W/shim.log" 2>&1 </dev/null &
  SPID=$!
}
# find_disk [MODEL]: the sdX whose INQUIRY product is MODEL (default SHIM DISK).
find_disk() {
  local v; for v in /sys/block/sd*/device/model; do
    [ -e "$v" ] && grep -q "^${1:-SHIM DISK} *\$" "$v" && { basename "$(dirname "$(dirname "$v")")"; return 0; }
  done; return 1
}

t0=$(up)
start_shim
for i in $(seq 1 1200); do grep -q 'nexus shim: serving' "$W/shim.log" && break; kill -0 $SPID 2>/dev/null || break; sleep 0.1; done
step shim-up grep -q 'nexus shim: serving' "$W/shim.log" || { tail -20 "$W/shim.log"; exit 1; }
echo "KVMTEST: timing shim start $(awk "BEGIN{print $(up)-$t0}")s"
D=
for i in $(seq 1 600); do D=$(find_disk) && break; sleep 0.1; done
step disk-appears test -n "$D" || { tail -20 "$W/shim.log"; dmesg | tail -20; exit 1; }
echo "KVMTEST: disk /dev/$D $(cat /sys/block/$D/device/vendor) $(cat /sys/block/$D/device/model) at $(up)s"

# SPC-4 INQUIRY and VPD pages, SBC-4 READ CAPACITY(16), REPORT LUNS (answered by LIO's core).
inq() { sg_inq "/dev/$D" >"$W/inq.txt" 2>&1 && grep -q 'Vendor identification: NEXUS' "$W/inq.txt" && grep -q 'Product identification: SHIM DISK' "$W/inq.txt"; }
step sg-inq inq || cat "$W/inq.txt"
vpd() {
  sg_vpd -p di "/dev/$D" >"$W/vpd-di.txt" 2>&1 && grep -qi 'designator type' "$W/vpd-di.txt" &&
  sg_vpd -p bl "/dev/$D" >"$W/vpd-bl.txt" 2>&1 && grep -qi 'Maximum unmap LBA count' "$W/vpd-bl.txt"
}
step sg-vpd vpd || cat "$W/vpd-di.txt" "$W/vpd-bl.txt"
cap() { sg_readcap -l "/dev/$D" >"$W/cap.txt" 2>&1 && grep -q 'Number of logical blocks=98304' "$W/cap.txt" && grep -q 'lbpme=1' "$W/cap.txt"; }
step sg-readcap cap || cat "$W/cap.txt"
luns() { sg_luns "/dev/$D" >"$W/luns.txt" 2>&1 && grep -q '0000000000000000' "$W/luns.txt"; }
step sg-luns luns || cat "$W/luns.txt"

# Raw O_DIRECT: 4 MiB at 16 MiB, read back.
head -c 4194304 /dev/urandom >"$W/raw.in"
raw() {
  dd if="$W/raw.in" of="/dev/$D" bs=64k seek=256 oflag=direct status=none &&
  dd if="/dev/$D" of="$W/raw.out" bs=64k skip=256 count=64 iflag=direct status=none && cmp "$W/raw.in" "$W/raw.out"
}
step raw-direct-verify raw

# SBC-4 WRITE SAME(10) of one block over 16, UNMAP of the same range (thin: reads back zeros),
# COMPARE AND WRITE (match: written; mismatch: MISCOMPARE, block unchanged).
head -c 512 /dev/urandom >"$W/ws.bin"
for i in $(seq 16); do cat "$W/ws.bin"; done >"$W/ws16.bin"
ws() {
  sg_write_same --lba=1000 --num=16 --in="$W/ws.bin" "/dev/$D" &&
  dd if="/dev/$D" of="$W/ws.out" bs=512 skip=1000 count=16 iflag=direct status=none && cmp "$W/ws16.bin" "$W/ws.out"
}
step write-same ws
head -c 8192 /dev/zero >"$W/zero8k"
um() {
  sg_unmap --force --lba=1000 --num=16 "/dev/$D" &&
  dd if="/dev/$D" of="$W/um.out" bs=512 skip=1000 count=16 iflag=direct status=none && cmp "$W/um.out" "$W/zero8k"
}
step unmap um
head -c 512 /dev/urandom >"$W/a.bin"; head -c 512 /dev/urandom >"$W/b.bin"; cat "$W/a.bin" "$W/b.bin" >"$W/caw.bin"
caw() {
  dd if="$W/a.bin" of="/dev/$D" bs=512 seek=2000 oflag=direct status=none &&
  sg_compare_and_write --lba=2000 --num=1 --in="$W/caw.bin" "/dev/$D" &&
  dd if="/dev/$D" of="$W/caw.out" bs=512 skip=2000 count=1 iflag=direct status=none && cmp "$W/b.bin" "$W/caw.out" || return 1
  # Now the block holds B: comparing with A must fail, and leave B.
  sg_compare_and_write --lba=2000 --num=1 --in="$W/caw.bin" "/dev/$D" >"$W/caw2.txt" 2>&1 && return 2
  grep -qi 'miscompare' "$W/caw2.txt" || return 3
  dd if="/dev/$D" of="$W/caw.out" bs=512 skip=2000 count=1 iflag=direct status=none && cmp "$W/b.bin" "$W/caw.out"
}
step compare-and-write caw || cat "$W/caw2.txt" 2>/dev/null

# ext4: mkfs, fsck, a file written, caches dropped, read back, fsck again.
t0=$(up)
fsck_ok() { mkfs.ext4 -q -F "/dev/$D" >/dev/null 2>&1 && e2fsck -fn "/dev/$D" >/dev/null 2>&1; }
step mkfs-fsck fsck_ok
fsv() {
  mkdir -p /mnt/tcmu && mount "/dev/$D" /mnt/tcmu && head -c 2097152 /dev/urandom >/mnt/tcmu/f && sync &&
  sha256sum /mnt/tcmu/f >"$W/f.sum" && umount /mnt/tcmu && echo 3 >/proc/sys/vm/drop_caches &&
  mount "/dev/$D" /mnt/tcmu && sha256sum -c "$W/f.sum" >/dev/null && umount /mnt/tcmu && e2fsck -fn "/dev/$D" >/dev/null 2>&1
}
step fs-verify fsv
echo "KVMTEST: timing ext4 $(awk "BEGIN{print $(up)-$t0}")s"

# Reconfiguration through configfs while the LUN is linked: LIO sends TCMU's RECONFIG event over
# generic netlink and the write waits for Nexus's answer. dev_size 48 -> 64 MiB: the next command
# gets CAPACITY DATA HAS CHANGED (SBC-4), READ CAPACITY the new size, the block layer too after a
# rescan. A size that is not whole blocks: the write fails with Nexus's EINVAL, nothing changes.
B=$CFS/core/user_0/disk0
resize() {
  timeout 60 bash -c "echo 67108864 > $B/attrib/dev_size" || return 1
  [ "$(cat $B/attrib/dev_size)" = 67108864 ] || return 2
  sg_raw "/dev/$D" 00 00 00 00 00 00 >"$W/resize-ua.txt" 2>&1
  grep -qi 'capacity data has changed' "$W/resize-ua.txt" || return 3
  sg_readcap -l "/dev/$D" >"$W/resize-cap.txt" 2>&1 && grep -q 'Number of logical blocks=131072' "$W/resize-cap.txt" || return 4
  echo 1 >"/sys/block/$D/device/rescan"
  [ "$(blockdev --getsize64 "/dev/$D")" = 67108864 ] || return 5
  grep -q 'resized by the kernel' "$W/shim.log" || return 6
}
step resize resize || { cat "$W/resize-ua.txt" "$W/resize-cap.txt" 2>/dev/null; tail -3 "$W/shim.log"; }
refused() {
  timeout 60 bash -c "echo 1000 > $B/attrib/dev_size" 2>"$W/refused.txt" && return 1
  grep -qi 'invalid argument' "$W/refused.txt" || return 2
  [ "$(cat $B/attrib/dev_size)" = 67108864 ] || return 3
  sg_readcap -l "/dev/$D" 2>&1 | grep -q 'Number of logical blocks=131072' || return 4
}
step resize-refused refused || cat "$W/refused.txt"

# SAM-5 task management while I/O runs. An abort: Nexus stops answering (SIGSTOP) for longer than
# the disk's command timeout, so the SCSI layer aborts the command in flight through tcm_loop
# (ABORT TASK); LIO notifies Nexus in the ring (TMR entry) when it runs again.
head -c 2097152 /dev/urandom >"$W/io.in"
t0=$(up)
abort_io() {
  echo 3 >"/sys/block/$D/device/timeout"
  # Stopped first, so the write's first command is surely in the ring when its timeout fires.
  kill -STOP $SPID
  dd if="$W/io.in" of="/dev/$D" bs=64k seek=512 oflag=direct status=none & local w=$!
  sleep 8; kill -CONT $SPID
  wait $w || return 1
  echo 30 >"/sys/block/$D/device/timeout"
  dd if="/dev/$D" of="$W/io.out" bs=64k skip=512 count=32 iflag=direct status=none && cmp "$W/io.in" "$W/io.out" || return 2
  grep -q '"tmrType":1' "$W/shim.log" || return 3
}
step abort-during-io abort_io || { grep -a 'tmrType' "$W/shim.log" | tail -3; dmesg | grep -iE 'abort|reset|tcm' | tail -8; }
echo "KVMTEST: timing abort $(awk "BEGIN{print $(up)-$t0}")s"
# A LUN reset (sg_reset -d: the SCSI layer's device reset, tcm_loop's LUN RESET) during a write,
# at 40 MiB of the 48 MiB disk.
head -c 2097152 /dev/urandom >"$W/io2.in"
reset_io() {
  dd if="$W/io2.in" of="/dev/$D" bs=64k seek=640 oflag=direct status=none & local w=$!
  sleep 0.3; sg_reset -d "/dev/$D" || return 4
  wait $w || return 1
  dd if="/dev/$D" of="$W/io2.out" bs=64k skip=640 count=32 iflag=direct status=none && cmp "$W/io2.in" "$W/io2.out" || return 2
  grep -q '"tmrType":5' "$W/shim.log" || return 3
}
step lun-reset-during-io reset_io || { grep -a 'tmrType' "$W/shim.log" | tail -3; dmesg | grep -iE 'abort|reset|tcm' | tail -8; }

# Nexus killed while the LUN is linked, a read waiting on it, and started again: the new shim
# resets the ring (LIO answers BUSY, the SCSI layer retries) and serves; the read completes with
# the data written before the kill.
t0=$(up)
restart_io() {
  echo 300 >"/sys/block/$D/device/timeout"
  kill -KILL $SPID; wait $SPID 2>/dev/null
  dd if="/dev/$D" of="$W/after.out" bs=64k skip=512 count=32 iflag=direct status=none & local r=$!
  sleep 1
  start_shim
  local i; for i in $(seq 1 1800); do kill -0 $r 2>/dev/null || break; sleep 0.1; done
  wait $r || return 1
  cmp "$W/io.in" "$W/after.out" || return 2
  dd if="$W/raw.in" of="/dev/$D" bs=64k seek=256 oflag=direct status=none &&
  dd if="/dev/$D" of="$W/raw.out2" bs=64k skip=256 count=64 iflag=direct status=none && cmp "$W/raw.in" "$W/raw.out2" || return 3
  echo 30 >"/sys/block/$D/device/timeout"
}
step restart-under-io restart_io || tail -5 "$W/shim.log"
echo "KVMTEST: timing restart $(awk "BEGIN{print $(up)-$t0}")s"

# The administrator removes the spare's LUN while a write runs on it, then its backstore: unlinking
# waits for the LUN's commands in LIO's core (each is completed by Nexus or failed, none hangs),
# the REMOVED event makes Nexus stop serving the ring before the kernel unregisters the uio
# device, and disk0 goes on serving.
remove_linked() {
  local S; S=$(find_disk 'SHIM SPARE') || return 1
  head -c 4194304 /dev/urandom >"$W/spare.in"
  dd if="$W/spare.in" of="/dev/$S" bs=64k oflag=direct status=none 2>/dev/null & local w=$!
  sleep 0.5
  timeout 60 rm "$CFS/loopback/naa.5001405000000001/tpgt_1/lun/lun_1/spare" || return 2
  timeout 60 rmdir "$CFS/loopback/naa.5001405000000001/tpgt_1/lun/lun_1" || return 3
  timeout 60 rmdir "$CFS/core/user_0/spare" || return 4
  local i; for i in $(seq 1 300); do kill -0 $w 2>/dev/null || break; sleep 0.1; done
  kill -0 $w 2>/dev/null && return 5
  wait $w
  grep -q '"device":"spare".*no longer served' "$W/shim.log" || return 6
  grep -q 'tcm-user/0/spare' /sys/class/uio/*/name 2>/dev/null && return 7
  dd if="/dev/$D" of="$W/raw.out3" bs=64k skip=256 count=64 iflag=direct status=none && cmp "$W/raw.in" "$W/raw.out3" || return 8
}
step remove-while-linked remove_linked || { tail -5 "$W/shim.log"; dmesg | tail -5; }

# SIGTERM: the shim removes what it made; configfs is as before and the disk is gone.
stop_clean() {
  kill -TERM $SPID
  local i; for i in $(seq 1 600); do kill -0 $SPID 2>/dev/null || break; sleep 0.1; done
  ! kill -0 $SPID 2>/dev/null && [ ! -e "$CFS/loopback" ] && [ ! -e "$CFS/core/user_0" ] && [ ! -e "/sys/block/$D" ]
}
step shim-stop-clean stop_clean || { ls -R "$CFS" | head -20; tail -5 "$W/shim.log"; }

# `nexus serve`: one daemon with an iSCSI portal on the guest's loopback interface and a loopback
# fabric target through TCMU, side by side, with its control socket; a dev_size write shows in
# config get; SIGTERM removes the configfs wiring.
ip link set lo up
mkdir -p "$W/serve-state"
cat >"$W/serve.json" <<JSON
{ "stateDir": "$W/serve-state", "engine": { "threads": 0 },
  "devices": [ { "name": "net0", "handler": "ram", "size": "8MiB", "product": "SERVE NET" },
               { "name": "hba0", "handler": "fileio", "path": "$W/hba0.img", "size": "16MiB", "product": "SERVE HBA" } ],
  "targets": [ { "driver": "iscsi", "name": "iqn.2026-11.io.nexus:serve", "portals": ["127.0.0.1:3260"], "luns": [ { "lun": 0, "device": "net0" } ] },
               { "driver": "loopback", "name": "sas1", "wwn": "naa.5001405000000002", "luns": [ { "lun": 0, "device": "hba0" } ] } ] }
JSON
serve_both() {
  setsid node "$R/bin/nexus" serve "$W/serve.json" >>"$W/serve.log" 2>&1 </dev/null &
  NPID=$!
  local i; for i in $(seq 1 1800); do grep -q 'fabric targets wired' "$W/serve.log" && break; kill -0 $NPID 2>/dev/null || return 1; sleep 0.1; done
  echo "KVMTEST: timing serve start $(awk "BEGIN{print $(up)-$t0}")s"
  local S=; for i in $(seq 1 600); do S=$(find_disk 'SERVE HBA') && break; sleep 0.1; done
  [ -n "$S" ] || return 2
  head -c 1048576 /dev/urandom >"$W/serve.in"
  dd if="$W/serve.in" of="/dev/$S" bs=64k seek=16 oflag=direct status=none &&
  dd if="/dev/$S" of="$W/serve.out" bs=64k skip=16 count=16 iflag=direct status=none && cmp "$W/serve.in" "$W/serve.out" || return 3
  iscsi-inq iscsi://127.0.0.1:3260/iqn.2026-11.io.nexus:serve/0 >"$W/serve-inq.txt" 2>&1 && grep -q 'SERVE NET' "$W/serve-inq.txt" || return 4
  timeout 60 bash -c "echo 33554432 > $CFS/core/user_0/hba0/attrib/dev_size" || return 5
  node "$R/bin/nexus" config get --control "$W/serve-state/control.sock" >"$W/serve-config.json" 2>&1 || return 6
  grep -q '"size": *33554432' "$W/serve-config.json" || return 7
}
t0=$(up)
step serve-iscsi-and-loopback serve_both || { tail -5 "$W/serve.log"; cat "$W/serve-inq.txt" 2>/dev/null; }
serve_stop() {
  kill -TERM $NPID
  local i; for i in $(seq 1 600); do kill -0 $NPID 2>/dev/null || break; sleep 0.1; done
  ! kill -0 $NPID 2>/dev/null && [ ! -e "$CFS/loopback" ] && [ ! -e "$CFS/core/user_0" ]
}
step serve-stop-clean serve_stop || { ls -R "$CFS" | head -20; tail -5 "$W/serve.log"; }

# SRP over soft RoCE, if this kernel has it (reported, not counted): rdma_rxe on a veth pair,
# ib_srpt exporting the same disk, ib_srp logging in.
srp() {
  local m
  for m in rdma_rxe ib_srpt ib_srp; do
    modprobe $m 2>"$W/srp-mod.txt" || { echo "KVMTEST: srp: modprobe $m failed: $(head -1 "$W/srp-mod.txt")"; return; }
  done
  echo "KVMTEST: srp: rdma_rxe, ib_srpt and ib_srp loaded"
  ip link add veth0 type veth peer name veth1 && ip link set veth0 up && ip link set veth1 up ||
    { echo "KVMTEST: srp: no veth pair"; return; }
  if ! rdma link add rxe0 type rxe netdev veth0 2>"$W/srp-rxe.txt"; then
    echo "KVMTEST: srp: rdma link add rxe0 failed: $(head -1 "$W/srp-rxe.txt")"; return
  fi
  sleep 1
  echo "KVMTEST: srp: rxe0 up, node_guid $(cat /sys/class/infiniband/rxe0/node_guid 2>/dev/null), gid0 $(cat /sys/class/infiniband/rxe0/ports/1/gids/0 2>/dev/null)"
  echo "KVMTEST: srp: srpt ports in configfs: $(mkdir -p $CFS/srpt 2>&1; ls $CFS/srpt 2>&1 | tr '\n' ' ')"
  echo "KVMTEST: srp: initiator ports: $(ls /sys/class/infiniband_srp 2>&1 | tr '\n' ' ')"
}
srp
# The device types through the shim (guest/tcmu-devices.sh), with the media run-tcmu.sh made.
[ -n "${KVM_TCMU_DEVICES:-}" ] && bash "${KVM_TEST%/*}/tcmu-devices.sh"
