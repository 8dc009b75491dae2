#!/usr/bin/env bash
# Builds labwire's test guest for KVM VMs into DIR: a Debian cloud kernel and a busybox initramfs, from
# Debian packages fetched with `apt-get download` and unpacked with `dpkg-deb -x` (nothing is installed).
# (recipes/environment.md, section 4.)
#
#   scripts/guest-image.sh DIR    prints DIR/vmlinuz and DIR/initrd.gz, one a line
#
# Does nothing (but print the paths) when DIR/vmlinuz and DIR/initrd.gz exist; remove them to rebuild.
#
# The guest's /init mounts proc, sysfs and devtmpfs, insmods the virtio-net modules in dependency order (and
# e1000 when the kernel has it as a module), brings up the first NIC with the address of `labwire_ip=A/N` on
# the kernel command line (optional: `labwire_gw=G` adds a default route), prints `LABWIRE_GUEST_UP A/N` on
# the console, then sleeps forever: the guest's kernel answers ARP and ping. Boot it with
# `-kernel DIR/vmlinuz -initrd DIR/initrd.gz -append "console=ttyS0 labwire_ip=10.77.0.50/24"`.
#
# Messages go to standard error; standard output carries only the two paths. On failure: one sentence
# starting "Cannot build the test guest:", exit status 1.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# The kernel modules, in dependency order, that virtio-net-pci needs (Debian builds them as modules).
VIRTIO_MODULES=(
  drivers/virtio/virtio_ring
  drivers/virtio/virtio
  drivers/virtio/virtio_pci_modern_dev
  drivers/virtio/virtio_pci_legacy_dev
  drivers/virtio/virtio_pci
  net/core/failover
  drivers/net/net_failover
  drivers/net/virtio_net
)

die() {
  echo "Cannot build the test guest: $*" >&2
  exit 1
}

# The last lines of a file, joined on one line (for a one-sentence error).
tail_of() {
  tail -n 3 "$1" 2>/dev/null | tr '\n' ' ' | sed 's/  */ /g; s/ $//'
}

(($# == 1)) || {
  echo "usage: $0 DIR" >&2
  exit 2
}
case $1 in
  /*) dir=$1 ;;
  *) dir=$PWD/$1 ;;
esac
dir=${dir%/}

if [[ -f $dir/vmlinuz && -f $dir/initrd.gz ]]; then
  printf '%s\n%s\n' "$dir/vmlinuz" "$dir/initrd.gz"
  exit 0
fi

for p in apt-get apt-cache dpkg-deb gzip; do
  command -v "$p" >/dev/null 2>&1 || die "$p is not installed (this script needs Debian's apt and dpkg)."
done
mkdir -p "$dir" || die "cannot create $dir."

work=$(mktemp -d "$dir/.build.XXXXXX") || die "cannot create a temporary folder in $dir."
trap 'rm -rf "$work"' EXIT

# The versioned kernel package, e.g. linux-image-6.1.0-56-cloud-amd64.
resolve_kernel() {
  apt-cache depends linux-image-cloud-amd64 2>"$work/apt-cache.err" |
    awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
kpkg=$(resolve_kernel || true)
if [[ -z $kpkg ]]; then
  echo "guest-image: linux-image-cloud-amd64 unknown to apt; running apt-get update" >&2
  apt-get update >"$work/apt-update.log" 2>&1 ||
    die "apt-get update failed: $(tail_of "$work/apt-update.log")"
  kpkg=$(resolve_kernel || true)
  [[ -n $kpkg ]] ||
    die "apt-cache depends linux-image-cloud-amd64 names no linux-image package: $(tail_of "$work/apt-cache.err")"
fi

echo "guest-image: downloading $kpkg and busybox-static" >&2
for pkg in "$kpkg" busybox-static; do
  (cd "$work" && apt-get download -o APT::Sandbox::User=root "$pkg") >"$work/download.log" 2>&1 ||
    die "apt-get download $pkg failed: $(tail_of "$work/download.log")"
done

for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$work/root" 2>"$work/dpkg.log" || die "dpkg-deb -x $deb failed: $(tail_of "$work/dpkg.log")"
done

vmlinuz=$(ls "$work"/root/boot/vmlinuz-* 2>/dev/null | head -n 1)
[[ -n $vmlinuz ]] || die "the package $kpkg has no /boot/vmlinuz-*."
moddir=$(ls -d "$work"/root/lib/modules/*/kernel 2>/dev/null | head -n 1)
[[ -n $moddir ]] || die "the package $kpkg has no /lib/modules/*/kernel."
busybox=$work/root/bin/busybox
[[ -x $busybox ]] || die "the package busybox-static has no /bin/busybox."

initramfs=$work/initramfs
mkdir -p "$initramfs"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$busybox" "$initramfs/bin/busybox"
modules=()
for m in "${VIRTIO_MODULES[@]}"; do
  ko=$moddir/$m.ko
  [[ -f $ko ]] || die "the kernel $kpkg has no module $m.ko (it is not compressed in Debian 12; is it now?)."
  cp "$ko" "$initramfs/lib/modules/"
  modules+=("$(basename "$m")")
done
# e1000: a module in some kernels, built in or absent in others (the cloud kernel has no e1000 at all).
e1000=$(find "$moddir" -name e1000.ko 2>/dev/null | head -n 1)
if [[ -n $e1000 ]]; then
  cp "$e1000" "$initramfs/lib/modules/"
  modules+=(e1000)
else
  echo "guest-image: $kpkg has no e1000 module; guests need virtio-net-pci NICs (or a built-in driver)" >&2
fi

cat >"$initramfs/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
for m in ${modules[*]}; do
  insmod /lib/modules/\$m.ko || echo "LABWIRE_GUEST_WARN insmod \$m failed"
done
ip=''
gw=''
for kv in \$(cat /proc/cmdline); do
  case \$kv in
    labwire_ip=*) ip=\${kv#labwire_ip=} ;;
    labwire_gw=*) gw=\${kv#labwire_gw=} ;;
  esac
done
ip link set lo up
nic=''
i=0
while [ -z "\$nic" ] && [ \$i -lt 50 ]; do
  for n in /sys/class/net/*; do
    n=\${n##*/}
    [ "\$n" = lo ] && continue
    nic=\$n
    break
  done
  [ -n "\$nic" ] || { sleep 0.1; i=\$((i + 1)); }
done
if [ -z "\$nic" ]; then
  echo "LABWIRE_GUEST_FAIL no network interface"
elif [ -z "\$ip" ]; then
  ip link set "\$nic" up
  echo "LABWIRE_GUEST_UP none"
else
  ip link set "\$nic" up
  ip addr add "\$ip" dev "\$nic"
  [ -n "\$gw" ] && ip route add default via "\$gw"
  echo "LABWIRE_GUEST_UP \$ip"
fi
while true; do sleep 3600; done
INIT
chmod 755 "$initramfs/init"

(cd "$initramfs" && find . | "$busybox" cpio -o -H newc 2>"$work/cpio.log" | gzip -1 >"$work/initrd.gz") ||
  die "packing the initramfs failed: $(tail_of "$work/cpio.log")"

# vmlinuz first, initrd.gz last: the pair is complete only once both are there.
cp "$vmlinuz" "$work/vmlinuz.new"
mv -f "$work/vmlinuz.new" "$dir/vmlinuz"
mv -f "$work/initrd.gz" "$dir/initrd.gz"
echo "guest-image: built $dir from $kpkg" >&2
printf '%s\n%s\n' "$dir/vmlinuz" "$dir/initrd.gz"
