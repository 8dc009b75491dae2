# A VM NIC unplugged and moved between VLANs keeps its addresses and ARP cache, and a capture of it follows
# it; a ping nobody answered leaves no ARP entry behind, so the next one asks again
vm config net LAN
vm launch container a,b
vm config net DMZ
vm launch container c
vm start all
vm net ip a 0 10.85.0.1/24
vm net ip b 0 10.85.0.2/24
vm net ip c 0 10.85.0.3/24
capture pcap vm b 0 b.pcap
capture pcap bridge mega_bridge bridge.pcap
ping a:0 10.85.0.2 2
vm net disconnect b 0
ping a:0 10.85.0.2 1
vm net connect b 0 DMZ
ping c:0 10.85.0.2 2
ping a:0 10.85.0.2 1
vm net connect b 0 LAN
ping a:0 10.85.0.2 1
clear capture
