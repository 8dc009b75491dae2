# minimega's tests/router_routes, with labwire's ping for its cc exec ping: two routers in a chain, each a
# DHCP server with a static lease for the VM behind it, and static routes between them
vm config net a b
vm launch container routerA
vm config net b c
vm launch container routerB
vm config net a,00:1f:53:02:0b:51
vm launch container vmA
vm config net c,00:1f:53:02:0b:52
vm launch container vmB
router routerA interface 0 1.0.0.1/24
router routerA interface 1 2.0.0.1/24
router routerA dhcp 1.0.0.0 static 00:1f:53:02:0b:51 1.0.0.3
router routerA route static 3.0.0.0/24 2.0.0.2
router routerA route static 4.0.0.0/24 4.0.0.2
router routerA
clear router routerA route static 4.0.0.0/24
router routerA
clear router routerA route
router routerA
router routerA route static 3.0.0.0/24 2.0.0.2
router routerA commit
router routerB interface 0 2.0.0.2/24
router routerB interface 1 3.0.0.2/24
router routerB dhcp 3.0.0.0 static 00:1f:53:02:0b:52 3.0.0.3
router routerB route static 1.0.0.0/24 2.0.0.1
router routerB commit
router vmA interface 0 dhcp
router vmA commit
router vmB interface 0 dhcp
router vmB commit
vm start routerA,routerB
vm start vmA,vmB
capture pcap vm vmB 0 vmB.pcap
ping vmA:0 3.0.0.3 1
ping vmB:0 1.0.0.3 1
.columns name,ip vm info
clear capture
