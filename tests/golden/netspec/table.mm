# minimega's netspec table, row by row: [bridge,]vlan[,mac][,driver][,qinq]
# vm config net prints each spec back: bridge unless mega_bridge, the VLAN as typed, the MAC,
# the driver unless e1000, then qinq

# 1 field: vlan
vm config net LAN
vm config net

# 2 fields
# f1 qinq: vlan,qinq
vm config net LAN,qinq LAN,QINQ
vm config net
# f1 MAC: vlan,mac
vm config net LAN,13:37:13:37:00:01
vm config net
# f1 driver: vlan,driver
vm config net LAN,virtio-net-pci LAN,e1000
vm config net
# otherwise: bridge,vlan (never an error)
vm config net br0,LAN2 mega_bridge,LAN3
vm config net
vlans
vm config net aa:bb:cc:dd:ee:ff,100
vm config net
# issue #914: a driver before a MAC makes the first field a bridge and the driver a VLAN alias
vm config net A,i82559c,13:37:13:37:00:02
vm config net
vlans

# 3 fields
# f2 qinq and f1 MAC: vlan,mac,qinq
vm config net LAN,13:37:13:37:00:03,qinq
vm config net
# f2 qinq and f1 driver: vlan,driver,qinq
vm config net LAN,virtio-net-pci,qinq
vm config net
# f2 qinq: bridge,vlan,qinq
vm config net br0,LAN,qinq
vm config net
# f2 MAC: bridge,vlan,mac
vm config net br0,LAN,13:37:13:37:00:04
vm config net
# f1 MAC and f2 driver: vlan,mac,driver
vm config net LAN,13:37:13:37:00:05,virtio-net-pci
vm config net
# f2 driver: bridge,vlan,driver
vm config net br0,LAN,virtio-net-pci
vm config net
# otherwise: malformed
vm config net my_bridge,foo,bar
vm config net

# 4 fields
# f3 qinq and f1 MAC: vlan,mac,driver,qinq (the driver is not checked)
vm config net LAN,13:37:13:37:00:06,anything,qinq
vm config net
# f3 qinq and f2 MAC: bridge,vlan,mac,qinq
vm config net br0,LAN,13:37:13:37:00:07,qinq
vm config net
# f3 qinq and f2 driver: bridge,vlan,driver,qinq
vm config net br0,LAN,virtio-net-pci,qinq
vm config net
# f3 driver and f2 MAC: bridge,vlan,mac,driver
vm config net br0,LAN,13:37:13:37:00:08,virtio-net-pci
vm config net
# otherwise: malformed
vm config net my_bridge,foo,bar,baz
vm config net foo,bar,baz,qux

# 5 fields: bridge,vlan,mac,driver,qinq
vm config net br0,LAN,13:37:13:37:00:09,virtio-net-pci,qinq
vm config net
# otherwise: malformed
vm config net my_bridge,foo,bar,virtio-net-pci,qinq
vm config net my_bridge,foo,de:ad:be:ef:ca:fe,bar,qinq
vm config net my_bridge,foo,de:ad:be:ef:ca:fe,virtio-net-pci,bar

# 6 fields or more: malformed
vm config net a,b,c,d,e,f
vm config net
