# a firewall rule on a router blocks one flow: web's pings to db are dropped on the way in, while db's
# pings to web pass, their answers too (a connection let through); then default drop with one rule
# accepting db's pings, and the firewall cleared
vm config net DMZ CORE
vm launch container r
vm config net DMZ
vm launch container web
vm config net CORE
vm launch container db
vm start all
router r interface 0 10.97.0.1/24
router r interface 1 10.97.1.1/24
router r commit
vm net ip web 0 10.97.0.10/24
vm net route web default 10.97.0.1
vm net ip db 0 10.97.1.10/24
vm net route db default 10.97.1.1
capture pcap vm db 0 db.pcap
ping web:0 10.97.1.10 1
router r fw drop in 0 10.97.1.10 icmp
router r commit
ping web:0 10.97.1.10 2
ping db:0 10.97.0.10 2
clear router r fw
router r fw default drop
router r fw accept in 1 10.97.0.10 icmp
router r
router r commit
ping web:0 10.97.1.10 1
ping db:0 10.97.0.10 1
clear router r fw
router r commit
ping web:0 10.97.1.10 1
clear capture
