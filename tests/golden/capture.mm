vm config net LAN
vm launch kvm a,b
vm net add a DMZ

# settings of new captures
capture pcap snaplen
capture pcap snaplen 96
capture pcap snaplen
capture pcap snaplen big
capture pcap snaplen -1
capture pcap filter
capture pcap filter "icmp or arp"
capture pcap filter

# VM captures
capture pcap vm a 0 /dev/null
capture pcap vm a 1 /dev/null
capture pcap vm b 0 /dev/null
capture
capture pcap vm a 2 /dev/null
capture pcap vm a x /dev/null
capture pcap vm z 0 /dev/null
capture pcap delete vm a
capture
capture pcap delete vm z
capture pcap delete vm all
capture

# bridge captures: a capture tap (VLAN 0, untagged) fed by a mirror of every port
capture pcap bridge mega_bridge /dev/null
capture
.columns bridge,vlans bridge
capture pcap bridge nosuch /dev/null
capture pcap delete bridge nosuch
capture pcap delete bridge mega_bridge
capture
.columns bridge,vlans bridge

# clear capture stops the namespace's captures only
capture pcap vm a 0 /dev/null
capture pcap bridge mega_bridge /dev/null
namespace other vm config net LAN
namespace other vm launch kvm o
namespace other capture pcap vm o 0 /dev/null
clear capture
capture
namespace other capture
