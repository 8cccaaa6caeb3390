# 1 MiB transfers through passthrough LUNs (sourced by passthrough.sh; steps PT_LARGE_STEPS in
# run-passthrough.sh). A disk exported with no block driver bound to it on the target's host has
# no sysfs queue directory (neither has a tape drive or a changer): the largest transfer is then
# what the sg driver says its queue takes. scsi_debug adds a second host whose disks come up with
# driver binding off on the SCSI bus, so sd never touches them (sd, once bound, leaves its own lower
# max_sectors on the queue even when unbound); Nexus exports the first as LUN 5. libiscsi's
# iscsi-perf reads 1 MiB at a time, 8 in flight, as `npm run bench -- --passthrough` does, and
# qemu-io writes 1 MiB and reads it back, pattern checked, on LUN 5 and on LUN 1 (a disk with sd
# bound). Reads SDEBUG, PORT, IQN and the step function of passthrough.sh.
PT_LARGE_LUN=5
PT_LARGE_SG=

# A scsi_debug disk that never had sd: its sg node in PT_LARGE_SG.
pt_large_setup() {
  local before h i
  before=$(ls /sys/class/scsi_host)
  echo 0 >/sys/bus/scsi/drivers_autoprobe
  echo 1 >"$SDEBUG/add_host"
  for i in $(seq 1 100); do
    for h in $(ls /sys/class/scsi_host); do echo "$before" | grep -qx "$h" || break; h=; done
    [ -n "$h" ] && PT_LARGE_SG=$(ls /sys/class/scsi_host/"$h"/device/target*/*:0/scsi_generic 2>/dev/null | head -1)
    [ -n "$PT_LARGE_SG" ] && break; sleep 0.1
  done
  echo 1 >/sys/bus/scsi/drivers_autoprobe
  echo "KVMTEST: disk without sd: host ${h:-?} /dev/${PT_LARGE_SG:-?}"
  [ -n "$PT_LARGE_SG" ] && [ -c "/dev/$PT_LARGE_SG" ] && [ ! -d "/sys/class/scsi_generic/$PT_LARGE_SG/device/block" ]
}
pt_large_devices() { [ -n "$PT_LARGE_SG" ] && printf ', { "name": "ptnosd", "handler": "passthrough", "path": "/dev/%s" }' "$PT_LARGE_SG"; }
pt_large_luns() { [ -n "$PT_LARGE_SG" ] && printf ', { "lun": %d, "device": "ptnosd" }' "$PT_LARGE_LUN"; }

# qemu-io through libiscsi: one WRITE of 1 MiB (the Block Limits page allows it) and its READ,
# the pattern verified by qemu-io.
pt_large_qemu_io() { # $1 LUN
  local j="json:{\"driver\":\"raw\",\"file\":{\"driver\":\"iscsi\",\"transport\":\"tcp\",\"portal\":\"127.0.0.1:$PORT\",\"target\":\"$IQN\",\"lun\":$1}}"
  timeout 120 qemu-io -f raw -c "write -P 0xa5 1M 1M" -c "read -P 0xa5 1M 1M" "$j" >/tmp/ptlarge-qio.txt 2>&1 </dev/null
  grep -q 'wrote 1048576/1048576 bytes' /tmp/ptlarge-qio.txt && grep -q 'read 1048576/1048576 bytes' /tmp/ptlarge-qio.txt &&
    ! grep -qi 'fail' /tmp/ptlarge-qio.txt || { sed 's/^/KVMTEST:     /' /tmp/ptlarge-qio.txt | head -4; return 1; }
}
# iscsi-perf: READ(16) of 2048 blocks, 8 in flight, for 10 s, then SIGINT (it stops sending, and
# ends "finished." once the commands in flight are back); a failed command ends it "ABORTED!". (Its
# own -t clock can miss the end of the run under TCG and then never ends it.)
pt_large_perf() { # $1 LUN
  timeout -s INT -k 60 10 iscsi-perf -i iqn.2026-11.io.nexus:kvm-perf -m 8 -b 2048 "iscsi://127.0.0.1:$PORT/$IQN/$1" >/tmp/ptlarge-perf.txt 2>&1 </dev/null
  local iops
  iops=$(tr '\r' '\n' </tmp/ptlarge-perf.txt | awk 'match($0, /iops average [0-9]+/) {v = substr($0, RSTART + 13, RLENGTH - 13)} END {print v + 0}')
  echo "KVMTEST: iscsi-perf 1 MiB QD8 LUN $1: $iops IOPS"
  [ "$iops" -gt 0 ] && grep -q 'finished' /tmp/ptlarge-perf.txt && ! grep -q 'ABORTED' /tmp/ptlarge-perf.txt || { tr '\r' '\n' </tmp/ptlarge-perf.txt | grep -v '^$' | tail -4 | sed 's/^/KVMTEST:     /'; return 1; }
}
pt_large_steps() {
  step pt-1m-read-qd8-no-sd pt_large_perf "$PT_LARGE_LUN"
  step pt-1m-write-read-no-sd pt_large_qemu_io "$PT_LARGE_LUN"
  step pt-1m-write-read pt_large_qemu_io 1
}
