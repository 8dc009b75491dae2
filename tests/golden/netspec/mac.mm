# Every MAC form minimega accepts, printed in lower-case colon form
vm config net LAN,13:37:13:37:00:AA LAN,13-37-13-37-00-bb LAN,1337.1337.00cc
vm config net
# a NIC's MAC has 6 octets (minimega fails later, in QEMU); a multicast one only gets a warning
vm config net LAN,13:37:13:37:00:01:02:03
vm config net LAN,01:00:5e:00:00:01
vm config net
# not a MAC: then a bridge and a VLAN alias
vm config net 13:37:13:37:00,LAN
vm config net
