# minimega's dnsmasq on a host tap: VMs get their addresses from its range, one by a static lease added
# after it started, and reach each other; the exchange is in a VM's capture. (Not a ping from a VM to the
# tap: on Open vSwitch another host-side device, with a random MAC, answers ARP for the tap's address
# first: see docs/status.md.)
vm config net LAN
vm launch container a
vm config net LAN,00:1f:53:02:0b:71
vm launch container b
vm start all
tap create LAN ip 10.89.0.1/24 lwscn8
dnsmasq start 10.89.0.1 10.89.0.100 10.89.0.200
dnsmasq configure 0 ip 00:1f:53:02:0b:71 10.89.0.7
.columns id,address,min,max dnsmasq
capture pcap vm b 0 b.pcap
vm net ip a 0 dhcp
vm net ip b 0 dhcp
.columns name,ip vm info
ping a:0 10.89.0.7 1
dnsmasq kill all
clear capture
