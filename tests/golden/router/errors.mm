# router: every mistake is one error, in minimega's words where it has them, and changes nothing
vm config net LAN DMZ
vm launch container r,c
vm config kernel /boot/k
vm launch kvm k
router nosuch
router c
router r interface x 1.2.3.4/24
router r interface 5 1.2.3.4/24
router r interface 0 1.2.3.4
router r interface 0 10.0.0.1/24
router r interface 0 10.0.0.1/24
router r interface 0 dhcp lo
router r interface 0 2001:1::1/64
router r dhcp 1.2.3 range 1.2.3.5 1.2.3.6
router r dhcp 10.0.0.1 range 10.0.0.9 10.0.0.5
router r dhcp 10.0.0.1 static zz 10.0.0.5
router r dns 1.1.1 foo
router r dns 1.1.1.1 -bad-
router r gw 10.0.0.300
router r route static 10.9.0.0 10.0.0.9
router r route ospf 0 1
router r route bgp p rrclient
router r ra 2001::
router r rid x
router r fw accept in 0 1.2.3.4:x tcp
router r fw accept in 5 1.2.3.4 tcp
router r fw drop out 0 1.2.3 1.2.3.4 tcp
router r fw chain C apply in 0
router r
clear router nosuch
clear router c
clear router r interface 9
clear router r dhcp 9.9.9.9
clear router r dns 9.9.9.9
clear router r route static 9.9.9.0/24

# commit checks what minimega leaves to its agent
router r dhcp 10.1.0.1 range 10.1.0.5 10.1.0.9
router r commit
clear router r dhcp
router r dhcp 10.0.0.1 range 10.1.0.5 10.1.0.9
router r commit
clear router r dhcp
router r route static 10.5.0.0/24 10.9.9.9
router r commit
clear router r route
router r gw 10.7.7.7
router r commit
clear router r gw
router k interface 0 10.0.0.9/24
router k commit
router c interface 0 10.0.0.2/24
vm kill c
router c commit
clear router c
router c
router c commit
vm launch container e
router e log level debug
router e commit
