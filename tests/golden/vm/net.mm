vm config net LAN
vm launch kvm a,b
vm launch container c
.columns name,vlan,bridge,tap vm info

# add NICs (KVM only)
vm net add a DMZ 100,13:37:13:37:00:0a
vm net add c DMZ
vm net add nosuch DMZ
.columns name,vlan,bridge,tap,mac vm info

# move a NIC: to the given bridge, else its bridge; an alias gets a VLAN on first use
vm net connect a 0 LAN2
vm net connect b 0 LAN3 other
.columns name,vlan,bridge vm info
vm net connect a 9 LAN
vm net connect a x LAN

# disconnect, then reconnect to mega_bridge
vm net disconnect a 0
vm net disconnect a 0
.columns name,vlan,bridge vm info
vm net connect a 0 LAN
.columns name,vlan,bridge vm info

# addresses in the guest (labwire)
vm net ip a 0 10.0.0.1/24
vm net ip b 0 10.0.0.2
vm net ip a 0 10.0.0.300/24
vm net ip a 7 10.0.0.1/24
.columns name,ip vm info
