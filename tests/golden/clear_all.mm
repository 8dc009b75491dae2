vm config net A B 300
vlans add manual 400
vlans range 120 200
namespace foo vm config net X
namespace foo vlans range 500 600
namespace bar
clear all
namespace
vlans
vlans blacklist
vlans range
vm config net
namespace foo vlans
vm config net C
vlans
