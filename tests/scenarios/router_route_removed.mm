# a route removed: a reaches b through the chain until r1 forgets its route to b's subnet; then r1
# answers a's pings with ICMP net unreachable
vm config net A AB
vm launch container r1
vm config net AB B
vm launch container r2
vm config net A
vm launch container a
vm config net B
vm launch container b
vm start all
router r1 interface 0 10.92.0.1/24
router r1 interface 1 10.92.1.1/24
router r1 route static 10.92.2.0/24 10.92.1.2
router r1 commit
router r2 interface 0 10.92.1.2/24
router r2 interface 1 10.92.2.1/24
router r2 gw 10.92.1.1
router r2 commit
vm net ip a 0 10.92.0.10/24
vm net route a default 10.92.0.1
vm net ip b 0 10.92.2.10/24
vm net route b default 10.92.2.1
capture pcap vm a 0 a.pcap
ping a:0 10.92.2.10 2
clear router r1 route static 10.92.2.0/24
router r1 commit
ping a:0 10.92.2.10 2
clear capture
