vm config net
vm config networks LAN DMZ
vm config net
clear vm config net
vm config net
# aliases stay allocated
vlans
vm config net LAN
clear vm config
vm config net
vm config net DMZ,13:37:13:37:00:01
namespace foo vm config net
namespace foo vm config net X
vm config net
# a failing spec empties the list; aliases of the specs before it stay allocated
vm config net P Q,bogus,bogus R
vm config net
vlans
