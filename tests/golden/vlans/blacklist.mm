vlans blacklist
vlans blacklist 300
vlans blacklist 0300
vlans blacklist 7
vlans blacklist
vlans blacklist x

# a blacklisted VLAN is never allocated
vlans range 299 303
vm config net A B
vlans

# blacklisting an aliased VLAN removes the alias; its next use allocates anew
vlans blacklist 299
vlans
vm config net A
vlans
vlans blacklist
