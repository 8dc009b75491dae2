# dnsmasq: a DHCP and DNS server on a host tap; VMs get their addresses from it
vm config net LAN
vm launch container a
vm config net LAN,00:11:22:33:44:55
vm launch container b
vm start all
tap create LAN ip 10.0.0.1/24 dm0
dnsmasq start 10.0.0.1 10.0.0.2 10.0.0.254
.columns id,address,min,max dnsmasq
dnsmasq configure 0 ip 00:11:22:33:44:55 10.0.0.7
dnsmasq configure 0 dns 10.0.0.7 b.lab
dnsmasq configure 0 dns 10.0.0.7 other.lab
dnsmasq configure all options option:dns-server,10.0.0.1
dnsmasq configure 0 ip
dnsmasq configure 0 dns
dnsmasq configure 0 dns upstream
dnsmasq configure 0 options
vm net ip a 0 dhcp
vm net ip b 0 dhcp
.columns name,ip vm info

# mistakes
dnsmasq start 10.9.9.9 10.9.9.10 10.9.9.20
dnsmasq start 10.0.0.1 10.1.0.2 10.1.0.9
dnsmasq start 10.0.0.x 10.0.0.2 10.0.0.9
dnsmasq start /etc/dnsmasq.conf
dnsmasq configure 0 ip zz 10.0.0.9
dnsmasq configure 0 options "bad option"
dnsmasq configure 7 ip
dnsmasq kill x
dnsmasq kill 5

# kill, and clear all kills the rest
dnsmasq kill 0
.columns id,address dnsmasq
dnsmasq start 10.0.0.1 10.0.0.100 10.0.0.110
.columns id,address dnsmasq
clear all
.columns id,address dnsmasq
