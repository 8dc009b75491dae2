# A VM's traffic mirrored to another VM on its VLAN and to a host tap on another VLAN (both access
# ports: copies leave untagged; labwire refuses the VLAN 0 tap, an untagged trunk, that kept their tags);
# the mirror destinations capture what they get
vm config net LAN
vm launch container web,client,ids
vm start all
vm net ip web 0 10.82.0.1/24
vm net ip client 0 10.82.0.2/24
vm net ip ids 0 10.82.0.3/24
tap create MON name lwscn1
tap mirror web 0 ids 0
tap mirror mega_tap0 lwscn1
capture pcap vm ids 0 ids.pcap
capture pcap vm client 0 client.pcap
capture pcap bridge mega_bridge bridge.pcap
ping client:0 10.82.0.1 3
# a mirror destination is reserved for mirroring: it answers nobody
ping client:0 10.82.0.3 1
clear capture
