vm config net A B AB C 150
namespace foo vm config net A
namespace foo vlans range 500 510
vlans

# a prefix clears the active namespace's aliases that start with it; next is kept
clear vlans A
vlans
vlans range
vm config net D
vlans

# no prefix: the namespace's aliases, and allocation starts from the bottom again
clear vlans
vlans
vlans range
vlans blacklist
vm config net E
vlans
namespace foo vlans
namespace foo vlans range

# in a namespace: its aliases and its own range go
namespace foo clear vlans
namespace foo vlans
namespace foo vlans range
namespace

# all: everything, blacklist and ranges included
vlans range 200 300
vm config net F
clear vlans all
vlans
vlans blacklist
vlans range
vm config net G
vlans
