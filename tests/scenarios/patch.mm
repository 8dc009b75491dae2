# Two bridges joined by a patch link (an untagged trunk both ways): VLANs cross it with their tags,
# and stay apart
vm config net lwscnb0,LAN
vm launch container a
vm config net lwscnb1,LAN
vm launch container b
vm config net lwscnb1,DMZ
vm launch container c
vm start all
vm net ip a 0 10.83.0.1/24
vm net ip b 0 10.83.0.2/24
vm net ip c 0 10.83.0.3/24
bridge patch lwscnb0 lwscnb1
capture pcap bridge lwscnb0 br0.pcap
capture pcap bridge lwscnb1 br1.pcap
capture pcap vm b 0 b.pcap
ping a:0 10.83.0.2 2
ping a:0 10.83.0.3 1
ping c:0 10.83.0.2 1
clear capture
