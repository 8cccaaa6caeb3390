#!/bin/busybox sh
# /init of the test initramfs: load virtio + 9p + overlay, mount the host's / read-only over 9p
# under a tmpfs overlay and switch_root into it, running guest_script= from the kernel command line.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m || echo "insmod $m failed"; done
script=
for a in $(cat /proc/cmdline); do case $a in guest_script=*) script=${a#guest_script=};; esac; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || { echo "9p mount failed"; poweroff -f; }
mount -t tmpfs -o size=1g tmpfs /upper; mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || { echo "overlay mount failed"; poweroff -f; }
umount /proc /sys; umount /dev 2>/dev/null
exec switch_root /newroot /bin/bash ${script:-}
