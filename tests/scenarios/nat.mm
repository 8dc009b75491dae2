# The way out: a VLAN's VMs reach a host outside the lab through the lab host's uplink, masqueraded; the
# gateway answers them, the uplink's own address too; a VM with no route has none, and once the way out is
# closed nothing gets out. (The outside, named below, is made by the test: a namespace on Open vSwitch,
# --sim-uplink on the simulator.)
# uplink: lwup0 198.51.100.1/24 198.51.100.7/24
vm config net DMZ
vm launch container web,db
vm start all
vm net ip web 0 10.0.0.10/24
vm net ip db 0 10.0.0.11/24
nat DMZ 10.0.0.1/24 lwup0
.columns vlan,gateway,uplink,tap nat
vm net route web default 10.0.0.1
capture pcap vm web 0 web.pcap
ping web:0 198.51.100.7 2
ping web:0 10.0.0.1 1
ping web:0 198.51.100.1 1
ping db:0 198.51.100.7 1
clear capture
clear nat
ping web:0 198.51.100.7 1
