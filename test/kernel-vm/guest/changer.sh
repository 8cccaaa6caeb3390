# The library steps (sourced by iscsi.sh when KVM_CHANGER is set): Linux's sg and st drivers, mtx
# and mt-st against the target's medium changer (LUN 6) and its two tape drives (LUNs 7 and 8,
# empty at start; six cartridges labelled with their bar codes, made with `nexus tape create`,
# or tgtimg for tgtd).
# As backup software does: mtx load, then the drive's /dev/nstN is online and takes a tar that
# reads back; mt offline before mtx unload; then the same inventory after the host restarted the
# target (the guest asks on the console; run.sh restarts it and the iSCSI session recovers), and
# a cartridge that went back to its slot still holds what was written on it. Uses step/ok/bad/up
# from iscsi.sh.
modprobe sg; modprobe st
changer_steps() {
  local SG="" D0="" D1="" i line h l
  for i in $(seq 1 150); do
    SG=$(lsscsi -g | awk '$2 == "mediumx" && $1 ~ /:6\]$/ {print $NF; exit}')
    for h in /sys/class/scsi_device/*; do
      l=${h##*:}
      [ "$l" = 7 ] && D0=/dev/$(ls "$h/device/scsi_tape" 2>/dev/null | grep -m1 '^nst[0-9]*$')
      [ "$l" = 8 ] && D1=/dev/$(ls "$h/device/scsi_tape" 2>/dev/null | grep -m1 '^nst[0-9]*$')
    done
    [ -n "$SG" ] && [ -c "$SG" ] && [ -c "$D0" ] && [ -c "$D1" ] && break; sleep 0.2
  done
  lsscsi -g | sed 's/^/KVMTEST: lsscsi /'
  step changer-lsscsi test -n "$SG" -a -c "$SG" -a -c "$D0" -a -c "$D1" || return 1
  echo "KVMTEST: mtx changer $SG, drive 0 $D0, drive 1 $D1"
  mtx -f "$SG" status >/tmp/mtx.0 2>&1; sed 's/^/KVMTEST: mtx /' /tmp/mtx.0
  listed() { # every slot with its bar code, the mail slot, two drives
    grep -q '2 Drives, 7 Slots ( 1 Import/Export )' /tmp/mtx.0 &&
    for n in 1 2 3 4 5 6; do grep -Eq "Storage Element $n:Full :VolumeTag=NXS00${n}L6 *\$" /tmp/mtx.0 || return 1; done &&
    grep -q 'Storage Element 7 IMPORT/EXPORT:Empty' /tmp/mtx.0 && grep -q 'Data Transfer Element 0:Empty' /tmp/mtx.0
  }
  step mtx-status listed
  # A tar of a small tree naming the cartridge, written at the beginning of the tape and read back.
  mkdir -p /tmp/lsrc /tmp/lout
  online() { # $1 drive: st reports the tape at BOT once the unit attention of the load is taken
    for i in $(seq 1 20); do
      mt-st -f "$1" status >/tmp/mt.l 2>&1 && grep -q ONLINE /tmp/mt.l && grep -q BOT /tmp/mt.l && return 0; sleep 0.3
    done
    sed 's/^/KVMTEST: mt /' /tmp/mt.l; return 1
  }
  labelled() { # $1 drive, $2 bar code: the tar at BOT names that cartridge
    mt-st -f "$1" rewind && rm -rf /tmp/lout/* && tar -xf "$1" -C /tmp/lout && [ "$(cat /tmp/lout/label.txt)" = "$2" ] &&
    cmp /tmp/lsrc/data.bin /tmp/lout/data.bin
  }
  loaded() { # $1 drive element, $2 slot, $3 st device: load, online, tar written and read back
    local bc=NXS00${2}L6
    mtx -f "$SG" load "$2" "$1" && mtx -f "$SG" status >/tmp/mtx.s 2>&1 &&
    grep -Eq "Data Transfer Element $1:Full \(Storage Element $2 Loaded\):VolumeTag = $bc" /tmp/mtx.s &&
    grep -q "Storage Element $2:Empty" /tmp/mtx.s && online "$3" &&
    echo "$bc" >/tmp/lsrc/label.txt && head -c 100000 /dev/urandom >/tmp/lsrc/data.bin &&
    tar -cf "$3" -C /tmp/lsrc . && labelled "$3" "$bc" && cp /tmp/lsrc/data.bin "/tmp/data.$bc"
  }
  step mtx-load loaded 0 2 "$D0"
  step mtx-load-drive1 loaded 1 5 "$D1"
  unloaded() { # mt offline (rewind and unload), then drive 0 back to slot 2; st sees no tape
    mt-st -f "$D0" offline && mtx -f "$SG" unload 2 0 && mtx -f "$SG" status >/tmp/mtx.s 2>&1 &&
    grep -Eq 'Storage Element 2:Full :VolumeTag=NXS002L6' /tmp/mtx.s && grep -q 'Data Transfer Element 0:Empty' /tmp/mtx.s || return 1
    mt-st -f "$D0" status >/tmp/mt.u 2>&1
    sed 's/^/KVMTEST: mt-unloaded /' /tmp/mt.u
    ! grep -q ONLINE /tmp/mt.u
  }
  step mtx-unload unloaded
  transferred() { # slot 1 -> the mail slot, slot 3 -> slot 1
    mtx -f "$SG" transfer 1 7 && mtx -f "$SG" transfer 3 1 && mtx -f "$SG" status >/tmp/mtx.s 2>&1 &&
    grep -Eq 'Storage Element 7 IMPORT/EXPORT:Full :VolumeTag=NXS001L6' /tmp/mtx.s &&
    grep -Eq 'Storage Element 1:Full :VolumeTag=NXS003L6' /tmp/mtx.s && grep -q 'Storage Element 3:Empty' /tmp/mtx.s
  }
  step mtx-transfer transferred
  # The host restarts the target when it reads this line; the session recovers (iscsid says so).
  mtx -f "$SG" status >/tmp/mtx.before 2>&1
  echo "KVMTEST: changer restart-request"
  recovered() { for i in $(seq 1 300); do grep -q 'operational after recovery' /tmp/iscsid.log && return 0; sleep 0.2; done; return 1; }
  step changer-restart recovered
  same() { # the same inventory, and drive 1 still holds its cartridge with the tar written on it
    for i in 1 2 3 4 5; do mtx -f "$SG" status >/tmp/mtx.after 2>&1 && break; sleep 1; done
    sed 's/^/KVMTEST: mtx-after /' /tmp/mtx.after
    diff /tmp/mtx.before /tmp/mtx.after && online "$D1" && cp /tmp/data.NXS005L6 /tmp/lsrc/data.bin && labelled "$D1" NXS005L6
  }
  step mtx-inventory-after-restart same
  reloaded() { # the cartridge unloaded to slot 2 comes back into drive 0 with its tar
    mtx -f "$SG" load 2 0 && online "$D0" && cp /tmp/data.NXS002L6 /tmp/lsrc/data.bin && labelled "$D0" NXS002L6 &&
    mt-st -f "$D0" offline && mtx -f "$SG" unload 2 0
  }
  step mtx-reload-readback reloaded
}
changer_steps
