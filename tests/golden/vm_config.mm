vm config net
vm config networks LAN DMZ
vm config net
clear vm config net
vm config net
# aliases stay allocated
vlans
vm config net LAN
clear vm config
vm config net
vm config net DMZ,13:37:13:37:00:01
namespace foo vm config net
namespace foo vm config net X
vm config net
# a failing spec empties the list; aliases of the specs before it stay allocated
vm config net P Q,bogus,bogus R
vm config net
vlans
# the fields a guest needs (used by KVM VMs on --backend ovs)
vm config memory
vm config memory 512
vm config memory 0
vm config memory lots
vm config vcpus 2
vm config vcpus
vm config kernel /boot/vmlinuz
vm config kernel
vm config initrd /boot/initrd.gz
vm config append console=ttyS0 labwire_ip=10.0.0.5/24
vm config append
vm config disks a.qcow2 b.qcow2
vm config disks
clear vm config
vm config memory
vm config kernel
vm config disks
