# A VM that does not run answers nothing and sends nothing; a ping with no route is Network is unreachable
vm config net LAN
vm launch container a,b
vm net ip a 0 10.86.0.1/24
vm net ip b 0 10.86.0.2/24
tap create LAN ip 10.86.0.254/24 lwscn6
capture pcap vm b 0 b.pcap
# launched, not started: paused, silent
ping lwscn6 10.86.0.2 2
ping a:0 10.86.0.2 1
vm start all
ping a:0 10.86.0.2 2
vm stop b
ping a:0 10.86.0.2 2
ping lwscn6 10.86.0.2 1
vm start b
ping lwscn6 10.86.0.2 2
# no address, no route
vm config net LAN
vm launch container c
vm start c
ping c:0 10.86.0.1 1
ping a:0 10.87.0.1 1
ping lwscn6 10.87.0.1 1
clear capture
