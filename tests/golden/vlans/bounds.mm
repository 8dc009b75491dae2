# VLANs are 1 to 4094: 0 (no tag: the port would carry every VLAN) and 4095 are refused, where
# minimega takes them; numbers outside 0..4095 keep minimega's error
vm config net 0
vm config net 4095
vm config net 4096
vm config net 1 4094
vm config net
vlans blacklist

# explicit numbers inside netspecs
vm config net mega_bridge,0
vm config net lab,4095,e1000
vm config net 0,qinq
vm config net 0,13:37:13:37:00:01
vm config net A lab,0 B
vm config net
vlans

# taps and NICs
tap create 0
tap create 4095
tap create 0 bridge lab name t0
tap
vm config net A
vm launch kvm a
vm net connect a 0 0
vm net connect a 0 4095
vm net add a 0
vm net add a lab,4095
vm info

# vlans add: only 1 to 4094 (minimega takes any integer)
vlans add zero 0
vlans add top 4095
vlans add big 99999
vlans add neg -4096
vlans

# ranges may only hold VLANs 1 to 4094: 1 <= min < max <= 4095 (half-open)
vlans range 0 10
vlans range -4096 10
vlans range 10 4096
vlans range 100 99999
vlans range 2147483648 2147483649
vlans range 0 4096
# minimega's own errors come first
vlans range 10 0
vlans range
namespace foo vlans range 0 10
namespace foo vlans range
# so an alias never gets VLAN 0
namespace foo vm config net SPY
namespace foo vlans

# a range ending at the top never hands out 4095
clear vlans all
vlans range 4090 4095
vm config net V1 V2 V3 V4 V5
vlans
vlans range
vm config net V6
vm config net 4094 4095
