# Bridges joined by a patch link (labwire): a trunk carrying every VLAN
vm config net LAN
vm launch kvm a
vm config net lab2,LAN
vm launch kvm b
vm start all
vm net ip a 0 10.0.0.1/24
vm net ip b 0 10.0.0.2/24
ping a:0 10.0.0.2 1
bridge patch mega_bridge lab2
.columns bridge,vlans,trunks bridge
ping a:0 10.0.0.2 1
bridge patch mega_bridge lab2
bridge patch lab2 mega_bridge
bridge patch lab2 lab2

# a loop through a third bridge: frames are dropped by the loop guard, not forwarded forever
bridge patch lab2 lab3
bridge patch lab3 mega_bridge
ping a:0 10.0.0.2 2
bridge nopatch lab3 mega_bridge
bridge nopatch lab3 mega_bridge
.columns bridge,trunks bridge

# destroying a bridge removes its patch links
bridge destroy lab3
.columns bridge,trunks bridge
bridge nopatch mega_bridge lab2
ping a:0 10.0.0.2 1
