# The library steps (sourced by iscsi.sh when KVM_CHANGER is set): Linux's sg driver and mtx
# against the target's medium changer (LUN 6) and its two drives (LUNs 7 and 8, CD/DVD-ROM drives
# whose cartridges are ISO images labelled with their bar codes), then the same inventory after
# the host restarted the target (the guest asks on the console; run.sh restarts it and the iSCSI
# session recovers). Uses step/ok/bad from iscsi.sh.
changer_steps() {
  local SG="" D0="" D1="" i line
  modprobe sg
  for i in $(seq 1 150); do
    SG=$(lsscsi -g | awk '$2 == "mediumx" && $1 ~ /:6\]$/ {print $NF; exit}')
    D0=$(lsscsi -g | awk '$1 ~ /:7\]$/ {print $(NF-1); exit}')
    D1=$(lsscsi -g | awk '$1 ~ /:8\]$/ {print $(NF-1); exit}')
    [ -n "$SG" ] && [ -c "$SG" ] && [ -b "$D0" ] && [ -b "$D1" ] && break; sleep 0.2
  done
  lsscsi -g | sed 's/^/KVMTEST: lsscsi /'
  step changer-lsscsi test -n "$SG" -a -c "$SG" -a -b "$D0" -a -b "$D1" || return 1
  mtx -f "$SG" status >/tmp/mtx.0 2>&1; sed 's/^/KVMTEST: mtx /' /tmp/mtx.0
  listed() { # every slot with its bar code, the mail slot, two drives
    grep -q '2 Drives, 7 Slots ( 1 Import/Export )' /tmp/mtx.0 &&
    for n in 1 2 3 4 5 6; do grep -Eq "Storage Element $n:Full :VolumeTag=NXS00${n}L6 *\$" /tmp/mtx.0 || return 1; done &&
    grep -q 'Storage Element 7 IMPORT/EXPORT:Empty' /tmp/mtx.0 && grep -q 'Data Transfer Element 0:Empty' /tmp/mtx.0
  }
  step mtx-status listed
  label() { blkid -p -s LABEL -o value "$1" 2>/dev/null; } # the cartridge's volume label: its bar code
  loaded() { # $1 drive element, $2 slot, $3 sr device
    mtx -f "$SG" load "$2" "$1" && mtx -f "$SG" status >/tmp/mtx.s 2>&1 &&
    grep -Eq "Data Transfer Element $1:Full \(Storage Element $2 Loaded\):VolumeTag = NXS00${2}L6" /tmp/mtx.s &&
    grep -q "Storage Element $2:Empty" /tmp/mtx.s && [ "$(label "$3")" = "NXS00${2}L6" ]
  }
  step mtx-load loaded 0 2 "$D0"
  step mtx-load-drive1 loaded 1 5 "$D1"
  unloaded() { # drive 0 back to slot 2; the drive has no medium
    mtx -f "$SG" unload 2 0 && mtx -f "$SG" status >/tmp/mtx.s 2>&1 &&
    grep -Eq 'Storage Element 2:Full :VolumeTag=NXS002L6' /tmp/mtx.s && grep -q 'Data Transfer Element 0:Empty' /tmp/mtx.s &&
    [ -z "$(label "$D0")" ]
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
  same() { # the same inventory, and the drive still holds its cartridge
    for i in 1 2 3 4 5; do mtx -f "$SG" status >/tmp/mtx.after 2>&1 && break; sleep 1; done
    sed 's/^/KVMTEST: mtx-after /' /tmp/mtx.after
    diff /tmp/mtx.before /tmp/mtx.after && [ "$(label "$D1")" = NXS005L6 ]
  }
  step mtx-inventory-after-restart same
}
changer_steps
