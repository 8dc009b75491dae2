# VMs get a tap per NIC of the namespace's VM config, and a MAC unless configured
vm config net LAN DMZ,13:37:13:37:00:01 lab,100,qinq
vm launch kvm web[1-2]
vm launch container db
vm info
.columns name,tap,qinq vm info
bridge
tap

# names
vm launch kvm web1
vm launch kvm all
vm launch kvm x[3-1]
vm launch kvm "a,,b"
vm launch kvm 2
.columns id,name vm info

# lifecycle: VMs start paused; a killed container loses its taps until it starts again
vm start web1
vm stop web1
vm start db,web2
vm kill db
.columns name,state,tap vm info
bridge
vm start db
.columns name,state,tap vm info
vm start nosuch
vm kill all
vm flush
vm info
bridge
# a VM without NICs
clear vm config
vm launch container lonely
.columns name,vlan,tap vm info
