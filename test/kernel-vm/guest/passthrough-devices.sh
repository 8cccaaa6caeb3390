# Pass-through of real devices of every type, with Linux's own initiator (sourced by
# passthrough.sh, which runs the steps in its order; uses its step/ok/bad/up, R, IQN, PORT, W).
#
# The devices: tgtd in the guest (Debian tgt; already started by passthrough.sh on 127.0.0.1:3261)
# exports a VTL (a medium changer with one tape drive and two cartridges, as tgt's README.vtl
# sets one up) and a CD/DVD drive over an ISO 9660 image; the guest's open-iscsi logs in to it,
# which gives real sg nodes of a changer (type 08h), a tape drive (01h) and a CD/DVD drive (05h)
# (vtl_up). Nexus exports those, beside the scsi_debug disks, as passthrough LUNs 2 (changer), 3
# (drive) and 4 (CD/DVD). Then open-iscsi logs in to Nexus as well (nexus_login), and the guest's
# own drivers use what Nexus passes through: sd with mkfs.ext4, fsck and a file written and read
# back (LUN 1, a scsi_debug disk), mtx and mt-st (LUNs 2 and 3), sr with the ISO mounted and
# compared (LUN 4). Between the two, scsi_debug's injected medium error and a device deleted and
# scanned again (passthrough-check.js medium / gone) go through Nexus's own initiator.
# scsi_debug's peripheral type (ptype) is one for all its devices, which are the disks here:
# tgtd's MMC device is the CD/DVD drive instead.
PT_DEV_IQN=$IQN:vtl
PT_DEV_TPORT=3261
PT_DEV_DIR=/tmp/ptdev

# A node of the SCSI device on the iSCSI session to target $1 that matches $2: "lun=N" (that
# LUN) or "type=T" (the first of that peripheral type); $3 what: scsi_generic, scsi_tape (the
# non-rewinding nstN), block. The session's devices are under its own sysfs directory.
session_node() {
  local s d
  for s in /sys/class/iscsi_session/session*; do
    [ "$(cat "$s/targetname" 2>/dev/null)" = "$1" ] || continue
    for d in "$s"/device/target*/*:*:*:*; do
      case $2 in
        lun=*) [ "${d##*:}" = "${2#lun=}" ] || continue ;;
        type=*) [ "$(cat "$d/type" 2>/dev/null)" = "${2#type=}" ] || continue ;;
      esac
      case $3 in
        scsi_tape) ls "$d/scsi_tape" 2>/dev/null | grep -m1 '^nst[0-9]*$' ;;
        *) ls "$d/$3" 2>/dev/null | head -1 ;;
      esac
      return 0
    done
  done
  return 1
}

iscsid_up() {
  modprobe iscsi_tcp; modprobe st; modprobe sr_mod; modprobe isofs
  echo "InitiatorName=iqn.2026-11.io.nexus:kernel-vm-pt-guest" >/etc/iscsi/initiatorname.iscsi
  sed -i -e 's/^node.session.timeo.replacement_timeout = .*/node.session.timeo.replacement_timeout = 15/' \
         -e 's/^node.conn\[0\].timeo.login_timeout = .*/node.conn[0].timeo.login_timeout = 15/' /etc/iscsi/iscsid.conf
  setsid iscsid -f >/tmp/iscsid.log 2>&1 &
  local i r
  for i in $(seq 1 100); do iscsiadm -m session >/dev/null 2>&1; r=$?; [ $r = 0 ] || [ $r = 21 ] && return 0; sleep 0.1; done
  return 1
}

login_to() { # $1 target name, $2 port
  iscsiadm -m node -o new -T "$1" -p "127.0.0.1:$2" >/dev/null &&
  timeout 40 iscsiadm -m node -T "$1" -p "127.0.0.1:$2" --login >/dev/null
}

# tgtd's VTL and CD/DVD drive (target 2), logged in; sets PT_CHANGER_SG PT_TAPE_SG PT_CD_SG.
vtl_up() {
  local adm=(tgtadm -C 1 --lld iscsi) smc=(--mode logicalunit --op update --tid 2 --lun 1 --params) n i
  mkdir -p "$PT_DEV_DIR/carts" "$PT_DEV_DIR/cd/docs" || return 1
  for n in 1 2; do tgtimg --op new --device-type tape --barcode "PTV00${n}L6" --size 4 --type data --file "$PT_DEV_DIR/carts/PTV00${n}L6" >/dev/null || return 1; done
  tgtimg --op new --device-type tape --barcode EMPTY0 --size 1 --type data --file "$PT_DEV_DIR/carts/empty0" >/dev/null || return 1
  head -c 1024 /dev/zero >"$PT_DEV_DIR/smc"
  head -c 300000 /dev/urandom >"$PT_DEV_DIR/cd/payload.bin"; seq 1 5000 >"$PT_DEV_DIR/cd/docs/numbers.txt"
  xorriso -as mkisofs -quiet -R -V NEXUS_PT -o "$PT_DEV_DIR/cd.iso" "$PT_DEV_DIR/cd" </dev/null 2>/dev/null || return 1
  echo "KVMTEST: vtl media made at $(up)s"
  "${adm[@]}" --mode target --op new --tid 2 --targetname "$PT_DEV_IQN" &&
  "${adm[@]}" --mode logicalunit --op new --tid 2 --lun 2 --device-type tape --bstype ssc --backing-store "$PT_DEV_DIR/carts/empty0" &&
  "${adm[@]}" --mode logicalunit --op update --tid 2 --lun 2 --params online=0 &&
  "${adm[@]}" --mode logicalunit --op new --tid 2 --lun 1 --device-type changer --bstype smc --backing-store "$PT_DEV_DIR/smc" &&
  "${adm[@]}" "${smc[@]}" "media_home=$PT_DEV_DIR/carts" &&
  "${adm[@]}" "${smc[@]}" element_type=1,start_address=1,quantity=1 &&
  "${adm[@]}" "${smc[@]}" element_type=2,start_address=1000,quantity=2 &&
  "${adm[@]}" "${smc[@]}" element_type=3,start_address=10,quantity=1 &&
  "${adm[@]}" "${smc[@]}" element_type=4,start_address=500,quantity=1 &&
  "${adm[@]}" "${smc[@]}" element_type=4,address=500,tid=2,lun=2 &&
  "${adm[@]}" "${smc[@]}" element_type=2,address=1000,barcode=PTV001L6,sides=1 &&
  "${adm[@]}" "${smc[@]}" element_type=2,address=1001,barcode=PTV002L6,sides=1 &&
  "${adm[@]}" --mode logicalunit --op new --tid 2 --lun 3 --device-type cd --bstype rdwr --backing-store "$PT_DEV_DIR/cd.iso" &&
  "${adm[@]}" --mode target --op bind --tid 2 --initiator-address ALL || return 1
  login_to "$PT_DEV_IQN" "$PT_DEV_TPORT" || { tail -5 /tmp/iscsid.log; return 1; }
  echo "KVMTEST: vtl logged in at $(up)s"
  for i in $(seq 1 50); do
    PT_CHANGER_SG=$(session_node "$PT_DEV_IQN" type=8 scsi_generic)
    PT_TAPE_SG=$(session_node "$PT_DEV_IQN" type=1 scsi_generic)
    PT_CD_SG=$(session_node "$PT_DEV_IQN" type=5 scsi_generic)
    [ -c "/dev/$PT_CHANGER_SG" ] && [ -c "/dev/$PT_TAPE_SG" ] && [ -c "/dev/$PT_CD_SG" ] && break; sleep 0.2
  done
  echo "KVMTEST: vtl changer /dev/$PT_CHANGER_SG drive /dev/$PT_TAPE_SG cd /dev/$PT_CD_SG"
  [ -c "/dev/$PT_CHANGER_SG" ] && [ -c "/dev/$PT_TAPE_SG" ] && [ -c "/dev/$PT_CD_SG" ]
}

# The topology's extra devices and LUNs (JSON fragments, each with a leading comma).
pt_dev_devices() {
  [ -n "${PT_CD_SG:-}" ] || return 0
  printf ', { "name": "ptchanger", "handler": "passthrough", "path": "/dev/%s" }' "$PT_CHANGER_SG"
  printf ', { "name": "pttape", "handler": "passthrough", "path": "/dev/%s" }' "$PT_TAPE_SG"
  printf ', { "name": "ptcd", "handler": "passthrough", "path": "/dev/%s" }' "$PT_CD_SG"
}
pt_dev_luns() {
  [ -n "${PT_CD_SG:-}" ] || return 0
  printf ', { "lun": 2, "device": "ptchanger" }, { "lun": 3, "device": "pttape" }, { "lun": 4, "device": "ptcd" }'
}

# open-iscsi logged in to Nexus: the disk of LUN 1, the changer, the drive and the CD/DVD drive.
nexus_login() {
  local i
  login_to "$IQN" "$PORT" || { tail -5 /tmp/iscsid.log; return 1; }
  for i in $(seq 1 50); do
    NX_DISK=$(session_node "$IQN" lun=1 block) NX_CHANGER=$(session_node "$IQN" lun=2 scsi_generic)
    NX_TAPE=$(session_node "$IQN" lun=3 scsi_tape) NX_CD=$(session_node "$IQN" lun=4 block)
    [ -b "/dev/$NX_DISK" ] && [ -c "/dev/$NX_CHANGER" ] && [ -c "/dev/$NX_TAPE" ] && [ -b "/dev/$NX_CD" ] && break; sleep 0.2
  done
  echo "KVMTEST: through Nexus: disk /dev/$NX_DISK changer /dev/$NX_CHANGER drive /dev/$NX_TAPE cd /dev/$NX_CD"
  [ -b "/dev/$NX_DISK" ] && [ -c "/dev/$NX_CHANGER" ] && [ -c "/dev/$NX_TAPE" ] && [ -b "/dev/$NX_CD" ]
}
# The steps through the guest's own drivers (after nexus_login).
pt_dev_disk_steps() {
  local D=/dev/$NX_DISK
  dd if=/dev/urandom of=/tmp/ptpat bs=1M count=4 status=none
  step pt-mkfs-ext4 mkfs.ext4 -q -F "$D"
  fsck_quiet() { e2fsck -fn "$D" >/tmp/ptfsck.txt 2>&1 || { tail -3 /tmp/ptfsck.txt; return 1; }; }
  step pt-fsck-clean fsck_quiet
  mkdir -p /mnt/ptd
  fs_rw() {
    mount "$D" /mnt/ptd && cp /tmp/ptpat /mnt/ptd/data && sync && umount /mnt/ptd &&
    echo 3 >/proc/sys/vm/drop_caches && mount "$D" /mnt/ptd && cmp /tmp/ptpat /mnt/ptd/data
    local r=$?; umount /mnt/ptd 2>/dev/null; return $r
  }
  step pt-fs-write-read-verify fs_rw
  step pt-fsck-after-io fsck_quiet
}

pt_dev_library_steps() {
  local C=/dev/$NX_CHANGER T=/dev/$NX_TAPE i
  mtx -f "$C" status >/tmp/ptmtx.0 2>&1; sed 's/^/KVMTEST: mtx /' /tmp/ptmtx.0
  listed() {
    grep -q '1 Drives, 3 Slots ( 1 Import/Export )' /tmp/ptmtx.0 &&
    grep -Eq 'Storage Element 1:Full :VolumeTag=PTV001L6' /tmp/ptmtx.0 && grep -Eq 'Storage Element 2:Full :VolumeTag=PTV002L6' /tmp/ptmtx.0 &&
    grep -q 'Data Transfer Element 0:Empty' /tmp/ptmtx.0
  }
  step pt-mtx-status listed
  loaded() {
    mtx -f "$C" load 1 0 >/dev/null && mtx -f "$C" status >/tmp/ptmtx.1 2>&1 &&
    grep -Eq 'Data Transfer Element 0:Full \(Storage Element 1 Loaded\):VolumeTag = PTV001L6' /tmp/ptmtx.1
  }
  step pt-mtx-load loaded
  online() { # st reports the tape at BOT once the drive's unit attention of the load is taken
    for i in $(seq 1 20); do
      mt-st -f "$T" status >/tmp/ptmt 2>&1 && grep -q ONLINE /tmp/ptmt && grep -q BOT /tmp/ptmt && return 0; sleep 0.3
    done
    sed 's/^/KVMTEST: mt /' /tmp/ptmt; return 1
  }
  step pt-mt-status online
  mkdir -p /tmp/ptt1 /tmp/ptt2 /tmp/ptto
  head -c 50000 /dev/urandom >/tmp/ptt1/one.bin; head -c 70000 /dev/urandom >/tmp/ptt2/two.bin
  # Two archives separated by filemarks (st writes one at close; weof adds another file mark).
  written() { tar -cf "$T" -C /tmp/ptt1 . && mt-st -f "$T" weof 1 && tar -cf "$T" -C /tmp/ptt2 . ; }
  step pt-mt-weof written
  second() { # rewind, skip the first archive and the empty file, read the second
    mt-st -f "$T" rewind && mt-st -f "$T" fsf 2 && rm -rf /tmp/ptto/* && tar -xf "$T" -C /tmp/ptto && cmp /tmp/ptt2/two.bin /tmp/ptto/two.bin &&
    mt-st -f "$T" rewind && rm -rf /tmp/ptto/* && tar -xf "$T" -C /tmp/ptto && cmp /tmp/ptt1/one.bin /tmp/ptto/one.bin
  }
  step pt-mt-rewind-fsf second
  unloaded() {
    mt-st -f "$T" offline && mtx -f "$C" unload 1 0 >/dev/null && mtx -f "$C" status >/tmp/ptmtx.2 2>&1 &&
    grep -Eq 'Storage Element 1:Full :VolumeTag=PTV001L6' /tmp/ptmtx.2 && grep -q 'Data Transfer Element 0:Empty' /tmp/ptmtx.2
  }
  step pt-mtx-unload unloaded
}

pt_dev_cd_steps() {
  mkdir -p /mnt/ptcd
  cd_verify() {
    mount -t iso9660 -o ro "/dev/$NX_CD" /mnt/ptcd && diff -r "$PT_DEV_DIR/cd" /mnt/ptcd
    local r=$?; umount /mnt/ptcd 2>/dev/null; return $r
  }
  step pt-cd-mount-verify cd_verify
}

nexus_logout() {
  timeout 30 iscsiadm -m node -T "$IQN" -p "127.0.0.1:$PORT" --logout >/dev/null
}
vtl_down() {
  timeout 30 iscsiadm -m node -T "$PT_DEV_IQN" -p "127.0.0.1:$PT_DEV_TPORT" --logout >/dev/null
  tgtadm -C 1 --lld iscsi --mode target --op delete --force --tid 2 >/dev/null 2>&1
}
