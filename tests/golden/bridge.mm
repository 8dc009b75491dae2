# listing does not create mega_bridge (minimega's does)
bridge
vm config net LAN 100 4094
vm launch kvm a
tap create DMZ bridge lab
bridge

# trunks
bridge trunk lab eth1
bridge trunk lab eth0
bridge trunk lab eth1
bridge trunk lab mega_tap3
.columns bridge,trunks bridge
bridge notrunk lab eth1
bridge notrunk lab eth1
bridge notrunk nosuch eth1
.columns bridge,trunks bridge

# config
bridge config lab rstp_enable=true
bridge config lab stp_enable=false
bridge config lab bogus
bridge config lab -x=1
bridge config lab other_config:stp-priority=0x7800
.columns bridge,config bridge

# destroy
bridge destroy mega_bridge
bridge destroy nosuch
bridge destroy lab
bridge
tap
