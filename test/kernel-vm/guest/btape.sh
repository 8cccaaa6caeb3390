# Bacula's btape (Debian bacula-sd), the battery Bacula users run to qualify a tape drive, against
# the target's tape drive at LUN 4 (its `test` command) and the library's changer at LUN 6 with
# its drive 0 at LUN 7 (its `autochanger` command, through Bacula's mtx-changer script). Sourced
# by iscsi.sh after the tape and library steps (KVM_BTAPE=1); uses step/up from iscsi.sh.
#
# btape's `test` writes two files of 10000 blocks each and reads them back, then positions by
# file and block, appends, re-reads a block and forward-spaces files. Its blocks are as large as
# the Device's Maximum Block Size: 1024 bytes (the smallest, Bacula's tape granularity) keeps the
# run to ~21 MB on a 64 MiB cartridge. One step per part of the test, from btape's own verdicts.
modprobe st; modprobe sg
btape_steps() {
  local N="" SG="" D0="" h l i t0
  t0=$(up)
  for i in $(seq 1 150); do
    SG=$(lsscsi -g | awk '$2 == "mediumx" && $1 ~ /:6\]$/ {print $NF; exit}')
    for h in /sys/class/scsi_device/*; do
      l=${h##*:}
      [ "$l" = 4 ] && N=/dev/$(ls "$h/device/scsi_tape" 2>/dev/null | grep -m1 '^nst[0-9]*$')
      [ "$l" = 7 ] && D0=/dev/$(ls "$h/device/scsi_tape" 2>/dev/null | grep -m1 '^nst[0-9]*$')
    done
    [ -c "$N" ] && [ -n "$SG" ] && [ -c "$SG" ] && [ -c "$D0" ] && break; sleep 0.2
  done
  local W=/tmp/btape
  mkdir -p "$W"
  # A minimal bacula-sd.conf: the Storage resource btape needs, a Device on the drive, and the
  # library's drive 0 as an autochanger Device driven by Bacula's mtx-changer on the changer's sg.
  cat >"$W/bacula-sd.conf" <<EOF
Storage {
  Name = nexus-btape-sd
  WorkingDirectory = $W
  Pid Directory = $W
}
Device {
  Name = Nexus-Drive
  Media Type = NexusTape
  Archive Device = $N
  Device Type = Tape
  AutomaticMount = yes
  AlwaysOpen = yes
  RemovableMedia = yes
  RandomAccess = no
  Maximum Block Size = 1024
}
Autochanger {
  Name = Nexus-Library
  Device = Nexus-Library-Drive0
  Changer Device = $SG
  Changer Command = "/etc/bacula/scripts/mtx-changer %c %o %S %a %d"
}
Device {
  Name = Nexus-Library-Drive0
  Media Type = NexusTape
  Archive Device = $D0
  Device Type = Tape
  Autochanger = yes
  Drive Index = 0
  Changer Device = $SG
  Changer Command = "/etc/bacula/scripts/mtx-changer %c %o %S %a %d"
  AutomaticMount = yes
  AlwaysOpen = yes
  RemovableMedia = yes
  RandomAccess = no
  Maximum Block Size = 1024
}
Messages {
  Name = Standard
  console = all, !skipped, !saved
}
EOF
  step btape-attached test -c "$N" -a -c "$D0" -a -n "$SG" || return 1
  echo "KVMTEST: btape drive $N, library changer $SG drive 0 $D0"

  # `test`, answered from stdin: it asks nothing of a Device without an autochanger. Half of the
  # guest's time budget (KVM_TIMEOUT) at most: 2 x 10000 blocks written and read back are the
  # bulk of this run (btape's count is a constant of its source, 1 KiB its smallest block).
  mt-st -f "$N" setblk 0 && mt-st -f "$N" rewind
  local rc
  printf 'test\nquit\n' | timeout $((${KVM_TIMEOUT:-440} / 2)) btape -c "$W/bacula-sd.conf" Nexus-Drive >"$W/test.log" 2>&1; rc=$?
  grep -E '^(btape: btape.c:[0-9-]+ )?(===|We should be|Block re-read|.*re-read correctly|Wrote [0-9]+ blocks|Done appending|Append test failed|.*NOT correct|.*ERR=|Total files|[0-9]+ blocks? of)' "$W/test.log" |
    grep -v 'bytes in file\|64448' | sed 's/^/KVMTEST: btape /'
  local first second
  first=$(grep -c '=== Test Succeeded. End Write, rewind, and re-read test ===' "$W/test.log")
  # The first verdict is the write/re-read of 2 x 10000 blocks, the second the block positioning.
  step btape-write-reread test "$first" -ge 1
  step btape-block-position test "$first" -ge 2
  appended() {
    grep -q 'We should be in file 3. I am at file 3. This is correct!' "$W/test.log" &&
    grep -q 'We should be in file 4. I am at file 4. This is correct!' "$W/test.log" &&
    ! grep -q 'Append test failed' "$W/test.log"
  }
  step btape-append appended
  step btape-reread-block grep -q 'Block re-read correct. Test succeeded!' "$W/test.log"
  fsf() {
    second=$(sed -n '/=== Forward space files test ===/,/=== End Forward space files test ===/p' "$W/test.log")
    echo "$second" | grep -q '=== End Forward space files test ===' && ! echo "$second" | grep -q 'NOT correct'
  }
  step btape-fsf fsf
  step btape-test-exit test "$rc" = 0 || tail -30 "$W/test.log" | sed 's/^/KVMTEST: btape log /'
  echo "KVMTEST: btape test exit $rc, $(awk "BEGIN{print $(up)-$t0}")s"

  # `autochanger`: btape asks whether to go on (y). With a cartridge from slot 4 in drive 0, the
  # script's "loaded" finds it, "unload" puts it back, "load 1" brings slot 1's, and btape
  # rewinds and writes filemarks on it.
  mtx -f "$SG" load 4 0 >/dev/null 2>&1
  printf 'autochanger\ny\nquit\n' | timeout 120 btape -c "$W/bacula-sd.conf" Nexus-Library-Drive0 >"$W/changer.log" 2>&1; rc=$?
  grep -E '^(3[0-9]{3} |Slot|Nothing loaded|unload status|Rewound|Wrote EOF|The test|.*ERR=|You must)' "$W/changer.log" |
    sed 's/^/KVMTEST: btape /'
  step btape-autochanger sh -c "[ $rc = 0 ] && grep -q 'The test autochanger worked!!' '$W/changer.log' &&
    grep -q 'Slot 4 loaded. I am going to unload it.' '$W/changer.log'"
  mt-st -f "$D0" offline >/dev/null 2>&1; mtx -f "$SG" unload 1 0 >/dev/null 2>&1
  echo "KVMTEST: btape steps $(awk "BEGIN{print $(up)-$t0}")s"
}
btape_steps
