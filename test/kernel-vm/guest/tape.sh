# Linux's st driver and mt-st against the target's tape drives (sourced by iscsi.sh while logged
# in; KVM_TAPE=1). LUN 4 holds an empty cartridge, LUN 5 a write-protected one. One
# "KVMTEST: PASS|FAIL <step>" line per step, as iscsi.sh's step() prints them.
modprobe st
tape_steps() {
  local N="" WP="" h i l t0
  t0=$(up)
  for i in $(seq 1 150); do
    for h in /sys/class/scsi_device/*; do
      [ "$(cat "$h/device/type" 2>/dev/null)" = 1 ] || continue
      l=${h##*:}
      [ "$l" = 4 ] && N=/dev/$(ls "$h/device/scsi_tape" 2>/dev/null | grep -m1 '^nst[0-9]*$')
      [ "$l" = 5 ] && WP=/dev/$(ls "$h/device/scsi_tape" 2>/dev/null | grep -m1 '^nst[0-9]*$')
    done
    [ -c "$N" ] && [ -c "$WP" ] && break; sleep 0.2
  done
  step tape-attached test -c "$N" -a -c "$WP" || return 1
  echo "KVMTEST: tape $N and $WP: $(cat /sys/class/scsi_tape/${N#/dev/}/device/vendor) $(cat /sys/class/scsi_tape/${N#/dev/}/device/model)"
  mt-st -f "$N" status >/tmp/mt.txt 2>&1; local r=$?
  sed 's/^/KVMTEST: mt /' /tmp/mt.txt
  step tape-mt-status sh -c "[ $r = 0 ] && grep -q 'BOT' /tmp/mt.txt && grep -q ONLINE /tmp/mt.txt"

  # Three small trees, each archived by tar straight to the tape (st writes a filemark on close).
  local d
  for d in 1 2 3; do
    mkdir -p "/tmp/src$d/sub"
    head -c $((40000 * d + 1234)) /dev/urandom >"/tmp/src$d/data.bin"
    seq 1 $((3000 * d)) >"/tmp/src$d/sub/numbers.txt"
  done
  sums() { (cd "$1" && find . -type f | sort | xargs sha256sum); }
  same() { # $1 source tree, $2 extracted tree: the same files with the same checksums
    [ "$(sums "$1")" = "$(sums "$2")" ]
  }
  readback() { # $1 source tree: extract the archive at the position and compare
    rm -rf /tmp/out && mkdir -p /tmp/out && tar -xf "$N" -C /tmp/out && same "$1" /tmp/out
  }
  step tape-setblk-variable mt-st -f "$N" setblk 0
  two() { tar -cf "$N" -C /tmp/src1 . && tar -cf "$N" -C /tmp/src2 .; }
  step tape-tar-two-archives two
  step tape-rewind mt-st -f "$N" rewind
  fsf_read() { mt-st -f "$N" fsf 1 && readback /tmp/src2; }
  step tape-fsf-read-second fsf_read
  eod_append() { mt-st -f "$N" eod && tar -cf "$N" -C /tmp/src3 . && mt-st -f "$N" rewind && mt-st -f "$N" fsf 2 && readback /tmp/src3; }
  step tape-eod-append-third eod_append
  # From end-of-data back over two filemarks (on their beginning side), forward over one: archive 3.
  bsf_read() { mt-st -f "$N" eod && mt-st -f "$N" bsf 2 && mt-st -f "$N" fsf 1 && readback /tmp/src3; }
  step tape-bsf bsf_read
  tell_seek() {
    local at
    mt-st -f "$N" rewind && mt-st -f "$N" fsf 1 || return 1
    at=$(mt-st -f "$N" tell | awk '/At block/ {print $3}' | tr -d .)
    echo "KVMTEST: tape second archive at block $at"
    [ -n "$at" ] && [ "$at" -gt 0 ] && mt-st -f "$N" rewind && mt-st -f "$N" seek "$at" && readback /tmp/src2
  }
  step tape-tell-seek tell_seek

  head -c $((4 * 65536)) /dev/urandom >/tmp/fixed.bin
  fixed() {
    mt-st -f "$N" setblk 65536 && mt-st -f "$N" status | grep -q 'Tape block size 65536 bytes' &&
    mt-st -f "$N" eod && dd if=/tmp/fixed.bin of="$N" bs=65536 status=none && mt-st -f "$N" rewind &&
    mt-st -f "$N" fsf 3 && dd if="$N" of=/tmp/fixed.back bs=65536 count=4 status=none && cmp /tmp/fixed.bin /tmp/fixed.back
  }
  step tape-fixed-mode fixed
  head -c $((3 * 12345)) /dev/urandom >/tmp/var.bin
  variable() {
    mt-st -f "$N" setblk 0 && mt-st -f "$N" status | grep -q 'Tape block size 0 bytes' &&
    mt-st -f "$N" eod && dd if=/tmp/var.bin of="$N" bs=12345 status=none && mt-st -f "$N" rewind &&
    mt-st -f "$N" fsf 4 && dd if="$N" of=/tmp/var.back bs=12345 count=3 status=none && cmp /tmp/var.bin /tmp/var.back
  }
  step tape-variable-mode variable
  # Reading at end-of-data: BLANK CHECK from the drive; st returns no data and then an error,
  # and its status shows EOD.
  past_eod() {
    mt-st -f "$N" eod || return 1
    local n e
    n=$(dd if="$N" bs=65536 count=1 2>/dev/null | wc -c)
    e=$(dd if="$N" of=/dev/null bs=65536 count=1 2>&1)
    mt-st -f "$N" status >/tmp/mt.txt 2>&1
    echo "KVMTEST: tape read past EOD: $n bytes, then: $(echo "$e" | head -1); $(grep -o 'EOD' /tmp/mt.txt | head -1)"
    [ "$n" = 0 ] && echo "$e" | grep -qi 'input/output error' && grep -q EOD /tmp/mt.txt
  }
  step tape-read-past-eod past_eod

  mt-st -f "$WP" status >/tmp/mt.txt 2>&1
  wp() {
    grep -q WR_PROT /tmp/mt.txt || return 1
    ! tar -cf "$WP" -C /tmp/src1 . 2>/dev/null && ! dd if=/tmp/fixed.bin of="$WP" bs=65536 count=1 status=none 2>/dev/null
  }
  step tape-write-protected wp
  mt-st -f "$N" rewind
  echo "KVMTEST: tape steps $(awk "BEGIN{print $(up)-$t0}")s"
}
tape_steps
