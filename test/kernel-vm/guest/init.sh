#!/bin/bash
# PID 1 of the test VM, after the initramfs switch_root'ed into overlay(host / read-only + tmpfs).
# Kernel command line: kvm_cache=DIR (extracted Debian packages in DIR/kroot) kvm_test=SCRIPT,
# plus the variables SCRIPT reads (kvm_portal= kvm_iqn= kvm_ip= kvm_mb=).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run; mkdir -p /run/lock/iscsi
for a in $(cat /proc/cmdline); do
  case $a in kvm_*=*) k=${a%%=*}; export "${k^^}=${a#*=}";; esac
done
K=$KVM_CACHE/kroot
# The guest runs the host's binaries, but the kernel modules, kmod and open-iscsi come from the
# extracted Debian packages (the host has neither).
mkdir -p /lib/modules && mount --bind "$K/lib/modules" /lib/modules
cp "$K/bin/kmod" /usr/bin/kmod
for t in modprobe insmod rmmod lsmod depmod modinfo; do ln -sf /usr/bin/kmod /usr/sbin/$t; done
cp -a "$K"/sbin/iscsi* /usr/sbin/
cp -a "$K/usr/lib/x86_64-linux-gnu/." /usr/lib/x86_64-linux-gnu/
rm -rf /etc/iscsi; cp -a "$K/etc/iscsi" /etc/
hostname nexus-kvm
echo "KVMTEST: guest up $(uname -r) at $(cut -d' ' -f1 /proc/uptime)s"
timeout "${KVM_TIMEOUT:-240}" bash "$KVM_TEST"
echo "KVMTEST: exit rc=$? at $(cut -d' ' -f1 /proc/uptime)s"
sync
"$K/bin/busybox" poweroff -f
