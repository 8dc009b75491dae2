# the experiment network of issue 11: DMZ and CORE joined by a router that serves DHCP on both (web and db
# by static lease, mail from the range); they ping across; a host tap on DMZ; captures on both sides show
# the TTL drop; a firewall rule on the router blocks one flow (web to db) and lets the other (db to web)
vm config net DMZ CORE
vm launch container r
vm config net DMZ,00:1f:53:02:0b:61
vm launch container web
vm config net DMZ
vm launch container mail
vm config net CORE,00:1f:53:02:0b:62
vm launch container db
vm start all
router r interface 0 10.99.0.1/24
router r interface 1 10.99.1.1/24
router r dhcp 10.99.0.1 range 10.99.0.100 10.99.0.150
router r dhcp 10.99.0.1 router 10.99.0.1
router r dhcp 10.99.0.1 static 00:1f:53:02:0b:61 10.99.0.10
router r dhcp 10.99.1.1 static 00:1f:53:02:0b:62 10.99.1.10
router r dhcp 10.99.1.1 router 10.99.1.1
router r dns 10.99.1.10 db.lab
router r commit
router web interface 0 dhcp
router web gw 10.99.0.1
router web commit
router mail interface 0 dhcp
router mail commit
router db interface 0 dhcp
router db gw 10.99.1.1
router db commit
tap create DMZ ip 10.99.0.254/24 lwscn7
capture pcap vm web 0 web.pcap
capture pcap vm db 0 db.pcap
.columns name,ip vm info
ping web:0 10.99.1.10 2
ping lwscn7 10.99.0.10 1
router r fw drop in 0 10.99.1.10 icmp
router r commit
ping web:0 10.99.1.10 1
ping db:0 10.99.0.10 1
clear capture
