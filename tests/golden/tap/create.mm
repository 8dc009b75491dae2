# tap create: on a VLAN (number or alias), on mega_bridge unless a bridge is named
tap
tap create 10
tap create LAN
tap create LAN name lan_tap
tap create LAN ip 10.0.0.254/24
tap create LAN ip 10.0.0.253 lan_tap2
tap create 20 bridge lab
tap create 20 bridge lab name lab_tap
tap create 20 bridge lab ip 10.1.0.1/16 lab_tap2
tap
bridge
vlans

# mistakes
tap create LAN name lan_tap
tap create LAN name all
tap create LAN bridge all
tap create LAN ip 10.0.0.999/24
tap create LAN ip bogus
tap create 4096
tap create ""
tap create LAN name mega_bridge
tap create LAN bridge lab name lab
tap create LAN name -x
tap create LAN name ../..
tap create LAN name abcdefghijklmnop
# unlike minimega, a DHCP failure is reported and the tap removed
tap create LAN dhcp
tap create LAN bridge lab dhcp dtap
tap

# delete
tap delete lan_tap
tap delete lan_tap
tap delete nosuch
vm config net LAN
vm launch kvm v
tap delete mega_tap4
namespace other tap delete lab_tap
tap delete all
tap
bridge

# an empty name gets a generated one, as in minimega
tap create 30 name ""
tap
