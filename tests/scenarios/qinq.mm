# QinQ (OVS dot1q-tunnel ports): two VMs in one service VLAN reach each other; their frames carry an
# 802.1ad outer tag inside the bridge, which the bridge capture keeps; an access VM does not reach them
vm config net LAN
vm launch container a
vm config net SVC,qinq
vm launch container q1,q2
vm start all
vm net ip a 0 10.84.0.1/24
vm net ip q1 0 10.84.0.11/24
vm net ip q2 0 10.84.0.12/24
capture pcap bridge mega_bridge bridge.pcap
capture pcap vm q2 0 q2.pcap
ping q1:0 10.84.0.12 2
ping a:0 10.84.0.11 1
clear capture
