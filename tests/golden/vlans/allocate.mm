# Aliases get VLANs on first use, lowest free first, from 101
vm config net A
vm config net B C
vlans
# an alias that exists keeps its VLAN
vm config net C A
vlans
vm config net

# A number is used as it is, and blacklisted so that no alias gets it
vm config net 104 D
vlans
vlans blacklist
# a number that has an alias is not blacklisted
vm config net 101
vlans blacklist

# Go's Atoi: leading zeros and a plus sign are numbers too, printed as typed
vm config net 0106 +107
vm config net
vlans blacklist
vm config net E
vlans

# 1 to 4094 are VLANs; 0 and 4095 are refused (minimega takes them); anything else is not
vm config net 1 4094
vm config net
vm config net 0
vm config net 4095
vm config net 4096
vm config net
vm config net -1
vm config net minimega//4096
# too big for an integer: an alias, as in minimega
vm config net 99999999999999999999
vlans

# An empty VLAN field
vm config net 100,
vm config net experiment, A
vm config net ,
vm config net ""
vm config net
