#!/usr/bin/env bash
# run.sh - Linux's own iSCSI initiator against Nexus, in a QEMU VM (npm run test:kernel).
#
# Boots Debian's kernel under QEMU (TCG: KVM is not usable on these hosts) with the host's / as a
# read-only 9p root under a tmpfs overlay; in the guest open-iscsi discovers and logs in to the
# target running on the host, then raw O_DIRECT write/read/verify, mkfs.ext4, fsck, 16 MiB
# through the file system verified after dropping caches, fsck, logout (guest/iscsi.sh). The
# target also exports a CD-ROM (LUN 3; Nexus "handler": "vcdrom", tgtd's mmc) over an ISO image
# made here with xorriso: the guest's sr driver attaches it, blkid sees ISO 9660, every file mounted with
# -t iso9660 is compared with the tree the image was made from; then eject (the tray opens), load
# (the kernel closes the tray) and the same comparison again; then the host changes the medium
# through the daemon's control socket (`nexus device medium`): the guest mounts the second disc,
# and with a disc mounted (the tray locked) the host's eject is refused.
# Either target also exports two tape drives (LUNs 4 and 5; Nexus "handler": "vtape" over
# cartridges made with `nexus tape create`, tgtd's ssc over tgtimg images): the guest's
# st driver with mt-st and tar writes archives separated by filemarks and reads them back by
# fsf, eod, bsf, tell/seek, in variable and fixed-block mode, reads past end-of-data and is
# refused by the write-protected cartridge (guest/tape.sh, TAPE_STEPS). Both targets also export
# a library (LUN 6 a medium changer, LUNs 7 and 8 its tape drives, six cartridges with bar codes)
# that mtx and mt-st drive (guest/changer.sh, CHANGER_STEPS). Bacula's btape qualifies the LUN 4
# drive (its `test`) and the library (its `autochanger` test) (guest/btape.sh, BTAPE_STEPS).
# Against Nexus the target has a second
# portal (another address in the namespace, another forward in user mode) in target port group 2:
# the guest logs in through both and dm-multipath (multipath-tools, prio alua) runs over the two
# paths of LUN 0 through state changes, SET TARGET PORT GROUPS, a path failure and persistent
# reservations (guest/multipath.sh, MPATH_STEPS; the host's part in mpath-host.sh).
# Prints "PASS kernel-vm.<step>" / "FAIL kernel-vm.<step>" per step (a step the guest never
# reached is a FAIL) and, last, "N passed, N failed". Exit 0 only when all steps passed.
# Host tools (qemu-system-x86_64, cpio, mkfs.ext4, and ip or socat) are prerequisites
# (test/helpers/prereq.ts): without one the run is skipped, printing why ("0 passed, 0 failed,
# N skipped", one per step), or with CI=true every step fails.
#
# Guest pieces are downloaded only through apt-get (test/kernel-vm/setup.sh), cached in
# .cache/kernel-vm/.
# Environment:
#   NEXUS_KVM_TARGET=nexus|tgt   target on the host (default nexus)
#   NEXUS_KVM_NET=tap|user       tap: a network namespace this script creates, holding a tap for
#                                the VM and the target (default; faster); user: QEMU user-net with
#                                a guestfwd to the target on 127.0.0.1:NEXUS_KVM_PORT
#   NEXUS_KVM_PORT=3271          target port (user mode)
#   NEXUS_KVM_TIMEOUT=480        seconds for the whole VM
#   NEXUS_KVM_ONLY=devices       the device-type steps alone (CD/DVD-ROM, library, tape drives) with
#                                the login around them: no disk I/O, btape or multipath; what the
#                                peer comparison runs against tgtd (run-peer.sh, NEXUS_KVM_MODE=peer)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# Pass-through devices need Nexus inside the guest: their own mode (run-passthrough.sh).
[ "${NEXUS_KVM_MODE:-}" = passthrough ] && exec bash "$HERE/run-passthrough.sh"
# The HBA target-mode shim needs Nexus and the initiator in the guest too: run-tcmu.sh.
[ "${NEXUS_KVM_MODE:-}" = tcmu ] && exec bash "$HERE/run-tcmu.sh"
# tgtd as the peer of the device-type steps, compared step by step with the Nexus run: run-peer.sh.
[ "${NEXUS_KVM_MODE:-}" = peer ] && exec bash "$HERE/run-peer.sh"
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=$ROOT/.cache/kernel-vm
KIND=${NEXUS_KVM_TARGET:-nexus}
NET=${NEXUS_KVM_NET:-tap}
VM_TO=${NEXUS_KVM_TIMEOUT:-480}
IQN=iqn.2026-11.io.nexus:kernel-vm
ONLY=${NEXUS_KVM_ONLY:-}
case $ONLY in ""|devices) ;; *) echo "kernel-vm: NEXUS_KVM_ONLY must be devices or unset"; exit 2 ;; esac
RUN=$CACHE/run-$KIND${ONLY:+-$ONLY}
STEPS="discovery login disk-attached"
[ -z "$ONLY" ] && STEPS="$STEPS raw-direct-write raw-direct-read-verify mkfs-ext4 fsck-clean fs-write fs-read-verify fsck-after-io"
# The CD/DVD-ROM steps, against either target (tgtd: its mmc over the same image). The last two
# are the host's medium change: the guest ejects and asks the host (cdrom_request below) to insert
# a second image (`nexus device medium`; tgtadm's path= for tgtd), then mounts it; with the disc
# mounted (sr locks the tray) the host's eject (tgtd: online=0) is refused with the reason.
CD_STEPS="cdrom-attached cdrom-blkid cdrom-mount-verify cdrom-eject cdrom-tray-open cdrom-load cdrom-remount-verify cdrom-host-insert-verify cdrom-locked-host-eject-refused"
STEPS="$STEPS $CD_STEPS"
# The library steps (guest/changer.sh), against either target (tgtd: its VTL, smc and ssc, as
# tgt's README.vtl sets it up; it keeps no library state across the restart). mtx status, load,
# unload, transfer on the changer's sg device, the loaded tape drive online with a tar written
# and read back, mt offline before unload; then the guest asks for a restart of the target
# (changer_restart below), compares the inventory and reads back a cartridge that went to its
# slot and came back.
CHANGER_STEPS="changer-lsscsi mtx-status mtx-load mtx-load-drive1 mtx-unload mtx-transfer changer-restart mtx-inventory-after-restart mtx-reload-readback"
STEPS="$STEPS $CHANGER_STEPS"
# The tape drive steps (guest/tape.sh), against either target: two drives over cartridges made here.
TAPE_STEPS="tape-attached tape-mt-status tape-setblk-variable tape-tar-two-archives tape-rewind tape-fsf-read-second tape-eod-append-third tape-bsf tape-tell-seek tape-fixed-mode tape-variable-mode tape-read-past-eod tape-write-protected"
STEPS="$STEPS $TAPE_STEPS"
# Bacula's btape (guest/btape.sh), against either target: its `test` on the LUN 4 drive, one step
# per part of it, and its `autochanger` test on the library's changer and drive 0.
BTAPE_STEPS="btape-attached btape-write-reread btape-block-position btape-append btape-reread-block btape-fsf btape-test-exit btape-autochanger"
[ -z "$ONLY" ] && STEPS="$STEPS $BTAPE_STEPS"
# The multipath steps (guest/multipath.sh): Nexus only (tgtd has no ALUA).
MPATH_STEPS="mpath-host-states mpath-second-portal-login mpath-two-sessions mpath-udev mpath-sg-rtpg-per-path mpath-map-optimized-active mpath-stpg-map-follows mpath-io-through-state-flips mpath-path-fail-reinstate-verify mpath-pr-through-map mpath-second-portal-logout"
[ "$KIND" = nexus ] && [ -z "$ONLY" ] && STEPS="$STEPS $MPATH_STEPS"
STEPS="$STEPS logout disk-detached"
T0=$(date +%s)
mkdir -p "$RUN"

source "$HERE/steps.sh"

summary() { # $1 console log (may be missing): PASS/FAIL per expected step, then the count line
  # shellcheck disable=SC2086 # the step list is a word list
  count_steps "$1" kernel-vm. $STEPS
  echo "kernel-vm: $(( $(date +%s) - T0 ))s wall (setup+boot+test), target $KIND, net $NET; console $1"
  echo "$STEPS_PASSED passed, $STEPS_FAILED failed"
  [ "$STEPS_FAILED" = 0 ]
}

needs=(tool:qemu-system-x86_64 tool:cpio tool:mkfs.ext4)
needs+=(tool:mt-st)
needs+=(tool:mtx tool:lsscsi)
[ -z "$ONLY" ] && needs+=(tool:btape)
needs+=(tool:xorriso)
[ "$KIND" = nexus ] && [ -z "$ONLY" ] && needs+=(tool:multipathd tool:sg_rtpg)
[ "$KIND" = tgt ] && needs+=(tool:tgtimg)
if [ "$NET" = user ]; then needs+=(tool:socat); else needs+=(tool:ip); fi
"$ROOT/node_modules/.bin/tsx" "$ROOT/test/helpers/prereq.ts" kernel-vm "${needs[@]}"
case $? in
  0) ;;
  3) echo "0 passed, 0 failed, $(echo "$STEPS" | wc -w) skipped"; exit 0 ;;
  *) summary /dev/null; exit 1 ;;
esac

if ! timeout 1500 bash "$HERE/setup.sh" "$CACHE"; then
  echo "kernel-vm: setup failed"; summary /dev/null; exit 1
fi
KV=$(ls "$CACHE/kroot/lib/modules" | head -1)

# shellcheck source=../../scripts/lib/target.sh
source "$ROOT/scripts/lib/target.sh"
NS=""
cleanup() {
  target_stop
  [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
  NS=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case $NET in
  tap)
    NS=nexus-kvm-$$
    ip netns add "$NS" && ip netns exec "$NS" ip link set lo up &&
    ip netns exec "$NS" ip tuntap add dev tap0 mode tap &&
    ip netns exec "$NS" ip addr add 10.200.0.1/24 dev tap0 &&
    ip netns exec "$NS" ip link set tap0 up &&
    ip netns exec "$NS" ip addr add 10.200.0.3/24 dev tap0 || { echo "kernel-vm: cannot create network namespace"; summary /dev/null; exit 1; }
    TARGET_NETNS=$NS
    ADDR=10.200.0.1; TPORT=3260; PORTAL=10.200.0.1:3260; GUEST_IP=10.200.0.2/24
    PORTAL2=10.200.0.3:3261; SECOND=$PORTAL2
    NETARGS=(-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0)
    ;;
  user)
    ADDR=127.0.0.1; TPORT=${NEXUS_KVM_PORT:-3271}; PORTAL=10.0.2.100:3260; GUEST_IP=10.0.2.15/24
    for i in $(seq 1 20); do _target_listening "$TPORT" || break; TPORT=$((TPORT + 1)); done
    # restrict=on: the guest's only way out is this forward (one socat per guest connection).
    TPORT2=$((TPORT + 1))
    for i in $(seq 1 20); do _target_listening "$TPORT2" || break; TPORT2=$((TPORT2 + 1)); done
    PORTAL2=10.0.2.101:3260; SECOND=127.0.0.1:$TPORT2
    NETARGS=(-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:3260-cmd:socat STDIO TCP:127.0.0.1:$TPORT,guestfwd=tcp:10.0.2.101:3260-cmd:socat STDIO TCP:127.0.0.1:$TPORT2" -device virtio-net-pci,netdev=n0)
    ;;
  *) echo "kernel-vm: NEXUS_KVM_NET must be tap or user"; exit 2 ;;
esac

CHANGER_ARG=""
# The CD's content: files of several sizes, one in a subdirectory, with Rock Ridge names. The guest
# sees this tree through the 9p root and compares it with the mounted disc.
CDSRC=$RUN/cdsrc
rm -rf "$CDSRC" "$RUN/cd.iso" && mkdir -p "$CDSRC/docs/deeper" || exit 1
head -c 3000000 /dev/urandom >"$CDSRC/payload.bin"
head -c 2048 /dev/urandom >"$CDSRC/docs/one-block.bin"
echo "Nexus CD-ROM test medium" >"$CDSRC/README.txt"
seq 1 20000 >"$CDSRC/docs/deeper/numbers.txt"
if ! xorriso -as mkisofs -quiet -R -J -V NEXUS_KVM -o "$RUN/cd.iso" "$CDSRC" 2>"$RUN/xorriso.log"; then
  echo "kernel-vm: xorriso failed: $(tail -3 "$RUN/xorriso.log")"; summary /dev/null; exit 1
fi
export TARGET_CDROM_ISO=$RUN/cd.iso
# The second disc the host inserts while the guest watches (cdrom_request): other files, another
# label; the guest finds its tree beside the first one (KVM_CDSRC, with "2" appended).
rm -rf "$CDSRC"2 "$RUN/cd2.iso" "$RUN/cdreq" && mkdir -p "$CDSRC"2/other "$RUN/cdreq" || exit 1
head -c 1500000 /dev/urandom >"$CDSRC"2/other/second.bin
echo "Nexus CD-ROM second medium" >"$CDSRC"2/README.txt
if ! xorriso -as mkisofs -quiet -R -J -V NEXUS_KVM2 -o "$RUN/cd2.iso" "$CDSRC"2 2>>"$RUN/xorriso.log"; then
  echo "kernel-vm: xorriso failed: $(tail -3 "$RUN/xorriso.log")"; summary /dev/null; exit 1
fi
# The library's six cartridges, each labelled with its bar code; the library state starts fresh
# each run. Nexus: `nexus tape create`; tgtd: tgtimg files named by their bar codes in its
# media_home, two placeholders for its offline drives, and its changer's backing file.
CARTS=$RUN/carts
rm -rf "$CARTS" && mkdir -p "$CARTS" || exit 1
for n in 1 2 3 4 5 6; do
  if [ "$KIND" = nexus ]; then
    "$ROOT/node_modules/.bin/tsx" "$ROOT/src/cli/main.ts" tape create "$CARTS/NXS00${n}L6.tape" --barcode "NXS00${n}L6" --size 8MiB
  else
    tgtimg --op new --device-type tape --barcode "NXS00${n}L6" --size 8 --type data --file "$CARTS/NXS00${n}L6"
  fi >>"$RUN/carts.log" 2>&1 || { echo "kernel-vm: making the library's cartridges failed: $(tail -3 "$RUN/carts.log")"; summary /dev/null; exit 1; }
done
if [ "$KIND" = tgt ]; then
  tgtimg --op new --device-type tape --barcode EMPTY0 --size 1 --type data --file "$CARTS/empty0" >>"$RUN/carts.log" 2>&1 &&
  tgtimg --op new --device-type tape --barcode EMPTY1 --size 1 --type data --file "$CARTS/empty1" >>"$RUN/carts.log" 2>&1 &&
  head -c 1024 /dev/zero >"$CARTS/smc" || { echo "kernel-vm: making tgtd's library failed"; summary /dev/null; exit 1; }
fi
export TARGET_CHANGER_CARTS=$CARTS
CHANGER_ARG=kvm_changer=1
# The second portal, target port group 2 (guest/multipath.sh); the host answers the guest's
# alua.set requests (mpath-host.sh) in RUN/mpreq.
MPATH_ARG=""
source "$HERE/mpath-host.sh"
if [ "$KIND" = nexus ] && [ -z "$ONLY" ]; then
  export TARGET_SECOND_PORTAL=$SECOND
  MPATH_REQ=$RUN/mpreq; rm -rf "$MPATH_REQ" && mkdir -p "$MPATH_REQ" || exit 1
  MPATH_ARG="kvm_mpath=$PORTAL2 kvm_mpath_req=$MPATH_REQ"
fi
# Two cartridges: an empty one and a write-protected one (nexus tape create; tgtimg for tgtd,
# whose drive is made read-only instead).
rm -f "$RUN/tape0.tape" "$RUN/tape1.tape"
if [ "$KIND" = nexus ]; then
  tape=("$ROOT/node_modules/.bin/tsx" "$ROOT/src/cli/main.ts" tape create)
  "${tape[@]}" "$RUN/tape0.tape" --barcode KVM000L1 --size 64MiB >"$RUN/tape.log" 2>&1 &&
  "${tape[@]}" "$RUN/tape1.tape" --barcode KVM001L1 --size 64MiB --write-protect >>"$RUN/tape.log" 2>&1
else
  tgtimg --op new --device-type tape --barcode KVM000L1 --size 64 --type data --file "$RUN/tape0.tape" >"$RUN/tape.log" 2>&1 &&
  tgtimg --op new --device-type tape --barcode KVM001L1 --size 64 --type data --file "$RUN/tape1.tape" >>"$RUN/tape.log" 2>&1
fi || { echo "kernel-vm: making the cartridges failed: $(tail -3 "$RUN/tape.log")"; summary /dev/null; exit 1; }
export TARGET_TAPE_CARTRIDGE=$RUN/tape0.tape TARGET_TAPE_WP_CARTRIDGE=$RUN/tape1.tape

if ! target_start "$KIND" "$RUN/target" "$ADDR" "$TPORT" 128M "$IQN"; then
  echo "kernel-vm: target $KIND did not start"; summary /dev/null; exit 1
fi
echo "kernel-vm: $KIND serving $TARGET_URL ($(( $(date +%s) - T0 ))s); booting $KV"

CONSOLE=$RUN/console.log
ONLY_ARG=kvm_btape=1; [ -n "$ONLY" ] && ONLY_ARG=kvm_only=$ONLY
qemu=(timeout -k 10 "$VM_TO" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1024 -smp 2
  -kernel "$CACHE/kroot/boot/vmlinuz-$KV" -initrd "$CACHE/initrd.gz"
  -append "console=ttyS0 quiet panic=-1 guest_script=$HERE/guest/init.sh kvm_cache=$CACHE kvm_test=$HERE/guest/iscsi.sh kvm_portal=$PORTAL kvm_iqn=$IQN kvm_ip=$GUEST_IP kvm_mb=16 kvm_cdsrc=$CDSRC $CHANGER_ARG kvm_tape=1 $ONLY_ARG kvm_target=$KIND $MPATH_ARG kvm_timeout=$((VM_TO - 40))"
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
  -display none -serial stdio -monitor none -no-reboot "${NETARGS[@]}")
# Under TCG a guest very rarely hangs in early boot and never reaches its init script; that is
# the emulator, not the target. A boot that has not said "guest up" within BOOT_TO seconds is
# stopped (by the PID started here) and tried once more; a guest that is up runs to the end.
BOOT_TO=${NEXUS_KVM_BOOT_TIMEOUT:-90}
# The library's restart (guest/changer.sh): when the guest asks on the console, the target is
# stopped and started again on the same topology; the library state file lives beside the
# cartridges, outside the state directory target_start renews. Once per run.
RESTARTED=""
changer_restart() {
  [ -n "$CHANGER_ARG" ] && [ -z "$RESTARTED" ] && grep -aq 'KVMTEST: changer restart-request' "$CONSOLE" || return 0
  RESTARTED=1
  echo "kernel-vm: restarting $KIND for the library steps"
  target_stop
  target_start "$KIND" "$RUN/target" "$ADDR" "$TPORT" 128M "$IQN" || echo "kernel-vm: target $KIND did not start again"
}
# The CD's host-side medium change (guest/iscsi.sh): the guest asks on the console ("KVMTEST:
# cdrom host-request N insert|eject"), the host runs `nexus device medium` against the daemon's
# control socket and writes the exit status and stderr to RUN/cdreq/N, which the guest reads
# through its 9p view of this host's file system. Each request once.
CDREQ_DONE=" "
cdrom_request() {
  [ -n "$CDSRC" ] || return 0
  local line n what rc
  while read -r line; do
    line=${line%$'\r'}; n=${line#*host-request }; what=${n#* }; n=${n%% *}
    case "$what" in insert|eject) ;; *) continue ;; esac   # a line qemu has not finished writing
    case "$CDREQ_DONE" in *" $n "*) continue ;; esac
    CDREQ_DONE="$CDREQ_DONE$n "
    if [ "$KIND" = nexus ]; then
      local cli=("$ROOT/node_modules/.bin/tsx" "$ROOT/src/cli/main.ts" device medium cd0)
      [ "$what" = insert ] && cli+=("$RUN/cd2.iso")
      "${cli[@]}" --control "$RUN/target/state/control.sock" >"$RUN/cdreq/$n.out" 2>"$RUN/cdreq/$n.err"; rc=$?
    else
      # tgtd: the LUN offline (no medium), then for an insert a new backing file, which puts it
      # back online (tgtd changes the path of an offline LUN only).
      local p=online=0; [ "$what" = insert ] && p=online=0,path=$RUN/cd2.iso
      _target_ns timeout -k 2 10 tgtadm -C "$TARGET_CTRL" --lld iscsi --mode logicalunit --op update --tid 1 --lun 3 \
        --params "$p" >"$RUN/cdreq/$n.out" 2>"$RUN/cdreq/$n.err"; rc=$?
    fi
    echo "kernel-vm: host $what of cd0: exit $rc $(tr '\n' ' ' <"$RUN/cdreq/$n.err")"
    echo "$rc" >"$RUN/cdreq/$n.rc.tmp" && mv "$RUN/cdreq/$n.rc.tmp" "$RUN/cdreq/$n.rc"
  done < <(grep -a 'KVMTEST: cdrom host-request ' "$CONSOLE")
}
run_vm() {
  : >"$CONSOLE"
  if [ -n "$NS" ]; then ip netns exec "$NS" "${qemu[@]}" >"$CONSOLE" 2>&1 </dev/null &
  else "${qemu[@]}" >"$CONSOLE" 2>&1 </dev/null & fi
  local pid=$! waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if grep -aq 'KVMTEST: guest up' "$CONSOLE"; then
      while kill -0 "$pid" 2>/dev/null; do changer_restart; cdrom_request; mpath_request "$CONSOLE" "$RUN/target/state/control.sock"; sleep 0.5; done
      wait "$pid"; return $?
    fi
    if [ "$waited" -ge "$BOOT_TO" ]; then
      kill -TERM "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      return 125
    fi
    sleep 1
    waited=$((waited + 1))
  done
  wait "$pid"
}
t=$(date +%s)
run_vm
rc=$?
if [ "$rc" -eq 125 ]; then
  echo "kernel-vm: the guest did not come up within ${BOOT_TO}s (emulator boot hang); booting once more"
  t=$(date +%s)
  run_vm
  rc=$?
fi
echo "kernel-vm: VM ran $(( $(date +%s) - t ))s, qemu rc=$rc"
grep -a 'KVMTEST: \(guest\|disk\|cdrom \|lsscsi\|mtx\|changer restart\|tape \|mt \|mt-unloaded\|btape \|mpath\|timing\|exit\)' "$CONSOLE" | tr -d '\r' | sed 's/^/  /'
cleanup
summary "$CONSOLE"
