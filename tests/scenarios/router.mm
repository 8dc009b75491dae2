# DMZ and CORE joined by a router: web on DMZ and db on CORE reach each other through it, each with the
# router as its gateway; a host tap on DMZ reaches DMZ only; the captures on both sides show the TTL drop;
# the router's loopback address answers
vm config net DMZ CORE
vm launch container r
vm config net DMZ
vm launch container web
vm config net CORE
vm launch container db
vm start all
router r interface 0 10.90.0.1/24
router r interface 1 10.90.1.1/24
router r interface 0 10.90.9.1/32 lo
router r commit
router web interface 0 10.90.0.10/24
router web gw 10.90.0.1
router web commit
router db interface 0 10.90.1.10/24
router db gw 10.90.1.1
router db commit
tap create DMZ ip 10.90.0.254/24 lwscn5
capture pcap vm web 0 web.pcap
capture pcap vm db 0 db.pcap
ping web:0 10.90.1.10 3
ping db:0 10.90.0.10 3
ping lwscn5 10.90.0.10 1
# the router's loopback address, through it
ping web:0 10.90.9.1 1
# the host tap has no route to CORE
ping lwscn5 10.90.1.10 1
.columns name,ip vm info
clear capture
