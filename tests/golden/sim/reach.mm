# Who reaches whom, on the simulator: VLANs isolate, a host tap joins a VLAN
vm config net DMZ
vm launch kvm web,mail
vm config net CORE
vm launch kvm db
vm config net DMZ CORE
vm launch kvm router
vm start all
vm net ip web 0 10.0.1.10/24
vm net ip mail 0 10.0.1.11/24
vm net ip db 0 10.0.1.20/24
vm net ip router 0 10.0.1.1/24
vm net ip router 1 10.0.2.1/24
tap create DMZ ip 10.0.1.254/24 admin
.columns name,vlan,ip vm info

# same VLAN: replies
ping web:0 10.0.1.11
ping admin 10.0.1.10 2
ping router:0 10.0.1.10 1
# db has a DMZ-like address but sits on CORE: isolated
ping web:0 10.0.1.20
# no such host
ping web:0 10.0.1.99 1
# not in any of the host's subnets: no routing on the simulator
ping web:0 10.0.2.1 1

# moving a NIC moves its reachability
vm net connect db 0 DMZ
ping web:0 10.0.1.20 1
vm net disconnect db 0
ping web:0 10.0.1.20 1

# a mirror destination no longer takes part in its VLAN (as Open vSwitch's output ports)
tap mirror web 0 mail 0
ping web:0 10.0.1.11 1
clear tap mirror mail 0
ping web:0 10.0.1.11 1

# mistakes
ping nosuch:0 10.0.1.1
ping web:5 10.0.1.1
ping web:0 10.0.1.300
ping web:0 10.0.1.11 0
ping web:0 10.0.1.11 x
ping db:0 10.0.1.11
ping nosuchtap 10.0.1.1
