# minimega's tests/router, its sections that need no agent in the VM (labwire has no "vm config
# filesystem": a container VM is a network namespace). The output must be minimega's, line for line.

# router interfaces
vm config net 100 200
vm launch container vm0
vm start all
router vm0 interface 0 1.2.3.4/24
router vm0 interface 0 dhcp
router vm0 interface 1 5.6.7.8/16
router vm0 interface 0 10.0.0.1/32 lo
router vm0 interface 1 10.0.0.2/32 lo
router vm0 interface 2 10.0.0.3/32 lo
router vm0
clear router vm0 interface 0 1.2.3.4/24
router vm0
clear router vm0 interface 1 5.6.7.8/24
router vm0
clear router vm0 interface 1 5.6.7.8/16
router vm0
clear router vm0 interface 2 10.0.0.3/32 lo
router vm0
clear router vm0 interface 0 all lo
router vm0
router vm0 interface 0 1.2.3.4/24
router vm0 interface 1 5.6.7.8/16
clear router vm0 interface 0
router vm0
router vm0 interface 0 1.2.3.4/24
router vm0 interface 0 dhcp
clear router vm0 interface
router vm0
router vm0 interface 0 1.2.3.4/24
router vm0 interface 0 dhcp
router vm0 interface 1 5.6.7.8/16
clear router vm0
router vm0

# router dhcp
clear router vm0
router vm0 dhcp 1.2.3.4 range 1.2.3.5 1.2.3.254
router vm0 dhcp 1.2.3.4 router 1.2.3.1
router vm0 dhcp 1.2.3.4 dns 8.8.8.8
router vm0 dhcp 1.2.3.4 static 00:11:22:33:44:55 1.2.3.66
router vm0 dhcp 1.2.3.4 static 00:11:22:33:44:56 1.2.3.67
router vm0 dhcp 5.6.7.8 range 1.1.1.1 1.1.1.2
router vm0
router vm0 dhcp 5.6.7.8 static 00:11:22:33:44:60 5.6.7.9
router vm0
clear router vm0 dhcp 1.2.3.4 router
router vm0
clear router vm0 dhcp 1.2.3.4 dns
router vm0
clear router vm0 dhcp 1.2.3.4 static 00:11:22:33:44:56
router vm0
clear router vm0 dhcp 1.2.3.4 static
router vm0
clear router vm0 dhcp 1.2.3.4 range
router vm0
clear router vm0 dhcp 5.6.7.8
router vm0

# dns
clear router vm0
router vm0 interface 0 1.2.3.4/24
router vm0 interface 0 5.6.7.8/24
router vm0 dhcp 1.2.3.4 router 1.2.3.254
router vm0 dhcp 1.2.3.4 dns 1.2.3.4
router vm0 dhcp 1.2.3.4 range 1.2.3.5 1.2.3.254
router vm0 dhcp 1.2.3.4 static 00:1f:53:02:0b:51 1.2.3.250
router vm0 dns 1.1.1.1 foo.com
router vm0 dns 2.2.2.2 bar.com
router vm0 dns 3.3.3.3 foobar.com
router vm0
clear router vm0 dns 1.1.1.1
router vm0
clear router vm0 dns
router vm0

# minimega's tests/router_static: static and named routes
clear router
vm config net a b
vm launch container routerA
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
router routerA route static 0.0.0.0/0 2.0.0.2 defaultroute
router routerA route static 10.0.0.0/24 0 foobar
router routerA route static 11.0.0.0/24 0 foobar
router routerA
clear router routerA route static 11.0.0.0/24 foobar
router routerA
clear router routerA route static all foobar
router routerA
clear router routerA route namedstatic
router routerA
