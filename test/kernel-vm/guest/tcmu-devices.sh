# The device types through the HBA target-mode shim (run-tcmu.sh, TCMU_DEVICE_STEPS; run by
# tcmu.sh after its disk steps when KVM_TCMU_DEVICES is set): `nexus shim` exports a medium
# changer, its tape drive and a CD/DVD-ROM drive through tcm_loop and LIO's TCMU, and the guest's
# own sg, st and sr drivers with mtx, mt-st, tar and mount use them as an HBA's initiator would.
# LIO's core passes every command but REPORT LUNS and the reservations to the TCMU device
# (passthrough_parse_cdb), INQUIRY included, so the initiator sees the device type Nexus reports.
# KVM_TCMU_DEVICES is the host's directory (seen through 9p) with the two cartridges
# (TCM001L6.tape, TCM002L6.tape: `nexus tape create`), the ISO image (cd.iso) and the tree it was
# made from (cdsrc/). One "KVMTEST: PASS|FAIL devices-<step>" line per step.
R=$KVM_ROOT
SRC=$KVM_TCMU_DEVICES
ok() { echo "KVMTEST: PASS $1"; }
bad() { echo "KVMTEST: FAIL $1${2:+ ($2)}"; }
step() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "rc=$?"; return 1; fi; }
up() { cut -d' ' -f1 /proc/uptime; }
W=/tmp/tcmu-devices; rm -rf "$W"; mkdir -p "$W/state" "$W/carts"
CFS=/sys/kernel/config/target

# No udev: the drivers are loaded before the shim links the LUNs (tcm_loop scans them at once).
modprobe target_core_user; modprobe tcm_loop; modprobe sg; modprobe st; modprobe sr_mod; modprobe isofs
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
cp "$SRC/TCM001L6.tape" "$SRC/TCM002L6.tape" "$W/carts/"

# LUN 0 the changer (one drive, two slots, one mail slot), LUN 1 its tape drive, LUN 2 the CD-ROM.
cat >"$W/topology.json" <<JSON
{ "stateDir": "$W/state", "engine": { "threads": 0 },
  "devices": [
    { "name": "lib0", "handler": "changer", "drives": ["lt0"], "slots": 2, "mailSlots": 1, "state": "$W/library.json",
      "cartridges": [ { "barcode": "TCM001L6", "path": "$W/carts/TCM001L6.tape", "slot": 1 },
                      { "barcode": "TCM002L6", "path": "$W/carts/TCM002L6.tape", "slot": 2 } ] },
    { "name": "lt0", "handler": "vtape" },
    { "name": "cd0", "handler": "vcdrom", "path": "$SRC/cd.iso" } ],
  "targets": [ { "driver": "loopback", "name": "vtl0", "wwn": "naa.5001405000000002",
    "luns": [ { "lun": 0, "device": "lib0" }, { "lun": 1, "device": "lt0" }, { "lun": 2, "device": "cd0" } ] } ] }
JSON
t0=$(up)
setsid node "$R/bin/nexus" shim "$W/topology.json" --max-data-area-mb 16 >"$W/shim.log" 2>&1 </dev/null &
SPID=$!
for i in $(seq 1 1200); do grep -q 'nexus shim: serving' "$W/shim.log" && break; kill -0 $SPID 2>/dev/null || break; sleep 0.1; done
step devices-shim-up grep -q 'nexus shim: serving' "$W/shim.log" || { tail -20 "$W/shim.log"; exit 1; }
echo "KVMTEST: timing devices shim start $(awk "BEGIN{print $(up)-$t0}")s"

# The three units of the tcm_loop target, by the peripheral device type each reports (SPC-4 6.6.2):
# 08h medium changer, 01h sequential-access (tape), 05h CD/DVD.
SG="" NST="" SR=""
found() {
  local h l
  for h in /sys/class/scsi_device/*; do
    grep -q NEXUS "$h/device/vendor" 2>/dev/null || continue
    l=${h##*:}
    case "$l:$(cat "$h/device/type")" in
      0:8) SG=/dev/$(ls "$h/device/scsi_generic" 2>/dev/null | head -1) ;;
      1:1) NST=/dev/$(ls "$h/device/scsi_tape" 2>/dev/null | grep -m1 '^nst[0-9]*$') ;;
      2:5) SR=/dev/$(ls "$h/device/block" 2>/dev/null | head -1) ;;
    esac
  done
  [ -c "$SG" ] && [ -c "$NST" ] && [ -b "$SR" ]
}
for i in $(seq 1 300); do found && break; sleep 0.2; done
lsscsi -g | sed 's/^/KVMTEST: lsscsi /'
listed() { found && [ "$(lsscsi -g | grep -c 'NEXUS')" -ge 3 ] && lsscsi -g | grep -q 'mediumx.*NEXUS' && lsscsi -g | grep -q 'tape.*NEXUS' && lsscsi -g | grep -q 'cd/dvd.*NEXUS'; }
step devices-lsscsi listed || { tail -20 "$W/shim.log"; dmesg | tail -20; }
echo "KVMTEST: tcmu devices changer $SG, tape $NST, cd $SR"

mtx_status() {
  mtx -f "$SG" status >"$W/mtx.0" 2>&1; sed 's/^/KVMTEST: mtx /' "$W/mtx.0"
  grep -q '1 Drives, 3 Slots ( 1 Import/Export )' "$W/mtx.0" && grep -q 'Data Transfer Element 0:Empty' "$W/mtx.0" &&
  grep -Eq 'Storage Element 1:Full :VolumeTag=TCM001L6 *$' "$W/mtx.0" && grep -Eq 'Storage Element 2:Full :VolumeTag=TCM002L6 *$' "$W/mtx.0" &&
  grep -q 'Storage Element 3 IMPORT/EXPORT:Empty' "$W/mtx.0"
}
step devices-mtx-status mtx_status
mtx_load() {
  mtx -f "$SG" load 2 0 && mtx -f "$SG" status >"$W/mtx.1" 2>&1 &&
  grep -Eq 'Data Transfer Element 0:Full \(Storage Element 2 Loaded\):VolumeTag = TCM002L6' "$W/mtx.1" && grep -q 'Storage Element 2:Empty' "$W/mtx.1"
}
step devices-mtx-load mtx_load
# st reports the tape online at BOT once it has taken the unit attention of the load.
mt_status() {
  for i in $(seq 1 20); do
    mt-st -f "$NST" status >"$W/mt.txt" 2>&1 && grep -q ONLINE "$W/mt.txt" && grep -q BOT "$W/mt.txt" && return 0; sleep 0.3
  done
  sed 's/^/KVMTEST: mt /' "$W/mt.txt"; return 1
}
step devices-mt-status mt_status
# Two archives separated by a filemark (st writes one on close), rewind, the second read back by
# forward-spacing a file; then a fixed-block record written and read back at end-of-data.
for d in 1 2; do mkdir -p "$W/src$d"; head -c $((30000 * d + 777)) /dev/urandom >"$W/src$d/data.bin"; seq 1 $((2000 * d)) >"$W/src$d/n.txt"; done
sums() { (cd "$1" && find . -type f | sort | xargs sha256sum); }
tape_rw() {
  mt-st -f "$NST" setblk 0 && tar -cf "$NST" -C "$W/src1" . && tar -cf "$NST" -C "$W/src2" . && mt-st -f "$NST" rewind &&
  mt-st -f "$NST" fsf 1 && rm -rf "$W/out" && mkdir -p "$W/out" && tar -xf "$NST" -C "$W/out" &&
  [ "$(sums "$W/src2")" = "$(sums "$W/out")" ] || return 1
  head -c 131072 /dev/urandom >"$W/fixed.bin"
  mt-st -f "$NST" setblk 65536 && mt-st -f "$NST" eod && dd if="$W/fixed.bin" of="$NST" bs=65536 status=none &&
  mt-st -f "$NST" rewind && mt-st -f "$NST" fsf 2 && dd if="$NST" of="$W/fixed.back" bs=65536 count=2 status=none &&
  cmp "$W/fixed.bin" "$W/fixed.back" && mt-st -f "$NST" setblk 0
}
step devices-tape-write-read tape_rw
# mt offline (rewind and unload), then the cartridge back to its slot; st sees no tape.
mtx_unload() {
  mt-st -f "$NST" offline && mtx -f "$SG" unload 2 0 && mtx -f "$SG" status >"$W/mtx.2" 2>&1 &&
  grep -Eq 'Storage Element 2:Full :VolumeTag=TCM002L6' "$W/mtx.2" && grep -q 'Data Transfer Element 0:Empty' "$W/mtx.2" &&
  ! mt-st -f "$NST" status 2>&1 | grep -q ONLINE
}
step devices-mtx-unload mtx_unload
cd_verify() {
  mkdir -p /mnt/tcmu-cd && mount -t iso9660 -o ro "$SR" /mnt/tcmu-cd || return 1
  diff -r "$SRC/cdsrc" /mnt/tcmu-cd; local r=$?; umount /mnt/tcmu-cd; return $r
}
step devices-cdrom-mount-verify cd_verify
echo "KVMTEST: timing devices $(awk "BEGIN{print $(up)-$t0}")s"

# SIGTERM: the shim removes what it made; the three units are gone.
stop_clean() {
  kill -TERM $SPID
  local i; for i in $(seq 1 600); do kill -0 $SPID 2>/dev/null || break; sleep 0.1; done
  ! kill -0 $SPID 2>/dev/null && [ ! -e "$CFS/loopback/naa.5001405000000002" ] && [ ! -e "$CFS/core/user_0/lib0" ] && ! lsscsi | grep -q NEXUS
}
step devices-shim-stop-clean stop_clean || { ls -R "$CFS" | head -20; tail -5 "$W/shim.log"; }
