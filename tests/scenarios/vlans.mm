# Two VLANs on one bridge: who reaches whom, and what a bridge capture, a VM capture and a host tap see
vm config net LAN
vm launch container a,b
vm config net DMZ
vm launch container c
vm start all
vm net ip a 0 10.81.0.1/24
vm net ip b 0 10.81.0.2/24
vm net ip c 0 10.81.0.3/24
tap create LAN ip 10.81.0.254/24 lwscn0
capture pcap bridge mega_bridge bridge.pcap
capture pcap vm a 0 a.pcap
capture pcap vm c 0 c.pcap
ping a:0 10.81.0.2 3
ping c:0 10.81.0.1 1
ping lwscn0 10.81.0.2 2
ping b:0 10.81.0.3 2
ping lwscn0 10.81.0.1 1
clear capture
