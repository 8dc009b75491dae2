# two routers in a chain with static routes: a (10.91.0.0/24) - r1 - (10.91.1.0/24) - r2 - b (10.91.2.0/24)
vm config net A AB
vm launch container r1
vm config net AB B
vm launch container r2
vm config net A
vm launch container a
vm config net B
vm launch container b
vm start all
router r1 interface 0 10.91.0.1/24
router r1 interface 1 10.91.1.1/24
router r1 route static 10.91.2.0/24 10.91.1.2
router r1 commit
router r2 interface 0 10.91.1.2/24
router r2 interface 1 10.91.2.1/24
router r2 route static 10.91.0.0/24 10.91.1.1
router r2 commit
vm net ip a 0 10.91.0.10/24
vm net route a default 10.91.0.1
vm net ip b 0 10.91.2.10/24
vm net route b default 10.91.2.1
capture pcap vm b 0 b.pcap
ping a:0 10.91.2.10 2
ping b:0 10.91.0.10 2
# r1 reaches b's subnet through r2 (from its NIC on AB), and a reaches r2's address on AB
ping r1:1 10.91.2.10 1
ping a:0 10.91.1.2 1
clear capture
