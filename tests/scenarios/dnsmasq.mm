# minimega's dnsmasq on a host tap: VMs get their addresses from its range, one by a static lease added
# after it started, reach each other and the tap; the exchange is in a VM's capture. (The tap's ARP reply
# is the only one: on Open vSwitch the host side of a VM's veth is a bridge port that answers no ARP.)
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
ping b:0 10.89.0.1 1
dnsmasq kill all
clear capture
