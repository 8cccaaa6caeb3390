# Linux's iSCSI initiator (open-iscsi + iscsi_tcp) against the target on the host:
# discovery, login, raw O_DIRECT write/read/verify, mkfs.ext4, fsck, file write/verify after
# dropping caches, fsck again, logout. One "KVMTEST: PASS|FAIL <step>" line per step.
# Reads KVM_PORTAL (ip:port), KVM_IQN, KVM_IP (guest address/prefix), KVM_MB (MiB to write);
# KVM_ONLY=devices skips the disk I/O steps (the login stays: the device-type steps need it).
# With KVM_CDSRC (the tree a CD image of the target was made from, seen through the 9p root):
# the CD-ROM steps on the sr device (cdrom_steps below).
MB=${KVM_MB:-16}; P=$KVM_PORTAL; IQN=$KVM_IQN
ok() { echo "KVMTEST: PASS $1"; }
bad() { echo "KVMTEST: FAIL $1${2:+ ($2)}"; }
step() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "rc=$?"; return 1; fi; }
up() { cut -d' ' -f1 /proc/uptime; }

modprobe virtio_net; modprobe iscsi_tcp; modprobe sd_mod; modprobe ext4; modprobe crc32c_generic 2>/dev/null
# No udev here: the CD-ROM's driver and file system are loaded before the LUNs are scanned.
[ -n "${KVM_CDSRC:-}" ] && { modprobe sr_mod; modprobe isofs; }
ip link set lo up; ip link set eth0 up; ip addr add "$KVM_IP" dev eth0
echo "InitiatorName=iqn.2026-11.io.nexus:kernel-vm-guest" >/etc/iscsi/initiatorname.iscsi
# Fail fast instead of the 120 s defaults: a hung target should cost seconds, not minutes.
sed -i -e 's/^node.session.timeo.replacement_timeout = .*/node.session.timeo.replacement_timeout = 15/' \
       -e 's/^node.conn\[0\].timeo.login_timeout = .*/node.conn[0].timeo.login_timeout = 15/' /etc/iscsi/iscsid.conf
setsid iscsid -f >/tmp/iscsid.log 2>&1 &   # own session: iscsid signals its process group on exit
# iscsiadm -m session: 0 = sessions, 21 = none (iscsid answered), 20 = cannot reach iscsid yet
for i in $(seq 1 100); do iscsiadm -m session >/dev/null 2>&1; r=$?; [ $r = 0 ] || [ $r = 21 ] && break; sleep 0.1; done
echo "KVMTEST: iscsid up at $(up)s"
t0=$(up)

discover() { timeout 30 iscsiadm -m discovery -t sendtargets -p "$P" | tee /tmp/disc.txt | grep -q " $IQN\$"; }
step discovery discover; cat /tmp/disc.txt
# SendTargets returns the portal the target listens on; through QEMU's user-net forward that is
# the host's loopback, so make sure a node record exists for the portal the guest can reach.
iscsiadm -m node -T "$IQN" -p "$P" >/dev/null 2>&1 || iscsiadm -m node -o new -T "$IQN" -p "$P" >/dev/null
step login timeout 40 iscsiadm -m node -T "$IQN" -p "$P" --login || { echo "KVMTEST: iscsid log:"; tail -20 /tmp/iscsid.log; exit 1; }
D=""
for i in $(seq 1 150); do
  D=$(iscsiadm -m session -P 3 2>/dev/null | awk '/Attached scsi disk sd/ {print $4; exit}')
  [ -n "$D" ] && [ -b "/dev/$D" ] && break; D=""; sleep 0.2
done
step disk-attached test -n "$D" || exit 1
echo "KVMTEST: disk /dev/$D $(cat /sys/block/$D/device/vendor 2>/dev/null) $(cat /sys/block/$D/device/model 2>/dev/null) $(($(cat /sys/block/$D/size) / 2048)) MiB, login+scan $(awk "BEGIN{print $(up)-$t0}")s"
t1=$(up)

# KVM_ONLY=devices (run.sh's NEXUS_KVM_ONLY): the device-type steps alone, no disk I/O.
disk_io_steps() {
  dd if=/dev/urandom of=/tmp/pat bs=1M count="$MB" status=none
  raw_write() { dd if=/tmp/pat of="/dev/$D" bs=1M seek=8 oflag=direct conv=fsync status=none; }
  raw_read() { dd if="/dev/$D" of=/tmp/back bs=1M skip=8 count="$MB" iflag=direct status=none && cmp /tmp/pat /tmp/back; }
  step raw-direct-write raw_write
  step raw-direct-read-verify raw_read

  step mkfs-ext4 mkfs.ext4 -q -F "/dev/$D"
  step fsck-clean e2fsck -fn "/dev/$D"
  mkdir -p /mnt/t
  fs_write() { mount "/dev/$D" /mnt/t && cp /tmp/pat /mnt/t/data && sync && umount /mnt/t; }
  fs_verify() { echo 3 >/proc/sys/vm/drop_caches; mount "/dev/$D" /mnt/t && cmp /tmp/pat /mnt/t/data; local r=$?; umount /mnt/t; return $r; }
  step fs-write fs_write
  step fs-read-verify fs_verify
  step fsck-after-io e2fsck -fn "/dev/$D"
}
[ -z "${KVM_ONLY:-}" ] && disk_io_steps
t2=$(up)

# Linux's cdrom layer ioctls (linux/cdrom.h), as eject(1) uses them: through sr to START STOP UNIT,
# and the drive status from TEST UNIT READY / GET EVENT STATUS NOTIFICATION.
cdrom_ioctl() { # $1 device, $2 CDROMEJECT | CDROMCLOSETRAY | CDROM_DRIVE_STATUS; prints the result
  python3 -c '
import fcntl, os, sys
req = {"CDROMEJECT": 0x5309, "CDROMCLOSETRAY": 0x5319, "CDROM_DRIVE_STATUS": 0x5326}[sys.argv[2]]
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
print(fcntl.ioctl(fd, req, 0))' "$1" "$2"
}
cdrom_steps() {
  local CD="" h i
  for i in $(seq 1 150); do
    for h in /sys/class/scsi_device/*/device; do
      [ "$(cat "$h/type" 2>/dev/null)" = 5 ] && CD=$(ls "$h/block" 2>/dev/null | head -1) && break
    done
    [ -n "$CD" ] && [ -b "/dev/$CD" ] && break; CD=""; sleep 0.2
  done
  step cdrom-attached test -n "$CD" || return 1
  echo "KVMTEST: cdrom /dev/$CD $(cat /sys/block/$CD/device/vendor) $(cat /sys/block/$CD/device/model) type $(cat /sys/block/$CD/device/type) $(($(cat /sys/block/$CD/size) / 4)) KiB"
  echo "KVMTEST: cdrom $(blkid -p "/dev/$CD")"
  step cdrom-blkid sh -c "blkid -p /dev/$CD | grep -q 'TYPE=\"iso9660\"' && blkid -p /dev/$CD | grep -q 'LABEL=\"NEXUS_KVM\"'"
  mkdir -p /mnt/cd
  cd_verify() { mount -t iso9660 -o ro "/dev/$CD" /mnt/cd || return 1; diff -r "$KVM_CDSRC" /mnt/cd; local r=$?; umount /mnt/cd; return $r; }
  step cdrom-mount-verify cd_verify
  step cdrom-eject cdrom_ioctl "/dev/$CD" CDROMEJECT
  # CDS_TRAY_OPEN (2): sr reads it from MEDIUM NOT PRESENT - TRAY OPEN
  step cdrom-tray-open test "$(cdrom_ioctl "/dev/$CD" CDROM_DRIVE_STATUS)" = 2
  # CDS_DISC_OK (4) once the tray is closed again with the disc in it
  cd_load() { cdrom_ioctl "/dev/$CD" CDROMCLOSETRAY >/dev/null && for i in $(seq 1 50); do
    [ "$(cdrom_ioctl "/dev/$CD" CDROM_DRIVE_STATUS)" = 4 ] && return 0; sleep 0.2; done; return 1; }
  step cdrom-load cd_load
  step cdrom-remount-verify cd_verify
  # The host's medium change (run.sh's cdrom_request): ask on the console, wait for the host's
  # `nexus device medium` to finish (its exit status in a file of the host's, seen through 9p).
  host_request() { # $1 request number, $2 insert|eject; sets HOST_RC, the host CLI's exit status
    local rc=${KVM_CDSRC%/*}/cdreq/$1.rc
    HOST_RC=""
    echo "KVMTEST: cdrom host-request $1 $2"
    # The root is 9p with cache=loose under an overlay: a name looked up before the host made it
    # stays absent until the dentries are dropped.
    for i in $(seq 1 100); do echo 2 >/proc/sys/vm/drop_caches; [ -f "$rc" ] && { HOST_RC=$(cat "$rc"); return 0; }; sleep 0.3; done
    echo "KVMTEST: cdrom host did not answer request $1"; return 1
  }
  host_insert() { # eject from the guest, the host inserts the second image, mount and compare
    cdrom_ioctl "/dev/$CD" CDROMEJECT >/dev/null && host_request 1 insert && [ "$HOST_RC" = 0 ] || return 1
    for i in $(seq 1 50); do [ "$(cdrom_ioctl "/dev/$CD" CDROM_DRIVE_STATUS)" = 4 ] && break; sleep 0.2; done
    blkid -p "/dev/$CD" | grep -q 'LABEL="NEXUS_KVM2"' || return 1
    mount -t iso9660 -o ro "/dev/$CD" /mnt/cd || return 1
    diff -r "${KVM_CDSRC}2" /mnt/cd; local r=$?; umount /mnt/cd; return $r
  }
  step cdrom-host-insert-verify host_insert
  locked() { # sr locks the tray while the disc is mounted: the host's eject fails with the reason
    mount -t iso9660 -o ro "/dev/$CD" /mnt/cd || return 1
    local r=1 err=${KVM_CDSRC%/*}/cdreq/2.err
    # Nexus's CLI exits 1 naming the condition; tgtadm (KVM_TARGET=tgt) exits 22 with its words.
    local want_rc=1 why='MEDIUM REMOVAL PREVENTED'
    [ "${KVM_TARGET:-nexus}" = tgt ] && want_rc=22 why='Prevent Removal'
    host_request 2 eject && [ "$HOST_RC" = "$want_rc" ] && grep -q "$why" "$err" && diff -r "${KVM_CDSRC}2" /mnt/cd && r=0
    echo "KVMTEST: cdrom host eject: $(cat "$err" 2>/dev/null | tr '\n' ' ')"
    umount /mnt/cd; return $r
  }
  step cdrom-locked-host-eject-refused locked
}
[ -n "${KVM_CDSRC:-}" ] && cdrom_steps
# The library steps (mtx on the changer's sg device): guest/changer.sh.
[ -n "${KVM_CHANGER:-}" ] && . "${KVM_TEST%/*}/changer.sh"
# With KVM_TAPE: the tape drive steps (guest/tape.sh).
[ -n "${KVM_TAPE:-}" ] && . "$(dirname "$KVM_TEST")/tape.sh"
# With KVM_BTAPE: Bacula's btape on a drive and on the library (guest/btape.sh).
[ -n "${KVM_BTAPE:-}" ] && . "$(dirname "$KVM_TEST")/btape.sh"
# With KVM_MPATH (a second portal of the target, in another target port group): dm-multipath over
# both paths of LUN 0 (guest/multipath.sh).
[ -n "${KVM_MPATH:-}" ] && . "$(dirname "$KVM_TEST")/multipath.sh"

step logout timeout 30 iscsiadm -m node -T "$IQN" -p "$P" --logout
gone() { for i in $(seq 1 50); do [ -b "/dev/$D" ] || return 0; sleep 0.2; done; return 1; }
step disk-detached gone
iscsiadm -k 0 >/dev/null 2>&1
echo "KVMTEST: timing login+scan=$(awk "BEGIN{print $t1-$t0}")s io=$(awk "BEGIN{print $t2-$t1}")s"
