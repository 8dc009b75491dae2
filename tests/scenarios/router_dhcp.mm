# DMZ and CORE joined by a router that serves DHCP on both: clients get their addresses, one by static
# lease, and the router as their gateway from the offer's router option; they ping across; a host tap
# on DMZ gets its address by DHCP too; the DHCP exchange is in the captures
vm config net DMZ CORE
vm launch container r
vm config net DMZ
vm launch container web
vm config net CORE,00:1f:53:02:0b:52
vm launch container db
vm start all
router r interface 0 10.98.0.1/24
router r interface 1 10.98.1.1/24
router r dhcp 10.98.0.1 range 10.98.0.100 10.98.0.150
router r dhcp 10.98.0.1 router 10.98.0.1
router r dhcp 10.98.1.0 static 00:1f:53:02:0b:52 10.98.1.50
router r dhcp 10.98.1.0 router 10.98.1.1
router r commit
capture pcap vm web 0 web.pcap
capture pcap vm db 0 db.pcap
router web interface 0 dhcp
router web gw 10.98.0.1
router web commit
router db interface 0 dhcp
router db gw 10.98.1.1
router db commit
.columns name,ip vm info
ping web:0 10.98.1.50 2
ping db:0 10.98.0.1 1
tap create DMZ dhcp lwscn6
clear capture
