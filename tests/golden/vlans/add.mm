# vlans add names a VLAN by hand
vlans add foo 200
vlans add bar 300
vlans
vm config net foo bar baz
vlans

# minimega's errors
vlans add foo 201
vlans add qux 200
vlans add qux abc
vlans add qux 1.5
vlans add qux 0x10
vm config net 400
vlans add qux 400
vlans blacklist 401
vlans add qux 401

# only VLANs 1 to 4094 (minimega takes any integer)
vlans add big 5000
vlans add neg -3
vlans add zero 0
vlans add top 4095
vlans add low 1
vlans add high 4094
vlans

# an alias in another namespace
vlans add other//X 250
vlans
namespace other vlans
vm config net other//X
vm config net

# a manual alias is never allocated again
vlans range 199 202
vm config net P Q
vlans
vm config net R
