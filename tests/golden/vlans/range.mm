# The global range is [101, 4095), VLANs 101 to 4094 (minimega's is [101, 4096)); next is the VLAN last given out
vlans range
vm config net A
vlans range
vlans range 200 300
vlans range
vm config net B
vlans
vlans range

# minimega's errors (the last one's words are inverted, as in minimega)
vlans range a 300
vlans range 200 3.5
vlans range 300 300
vlans range 300 200
vlans range 1

# namespace ranges: their own aliases stay inside them
namespace foo vlans range 500 600
namespace foo vm config net A B
namespace foo vlans
namespace foo vlans range
namespace bar vlans range 550 650
# touching half-open ranges do not overlap (minimega says they do)
namespace bar vlans range 600 700
namespace bar vm config net A
namespace bar vlans
namespace
# a namespace without its own range shows none and uses the global range
namespace baz vlans range
namespace baz vm config net A
namespace baz vlans

# a namespace range may lie inside the global range: global allocation skips it
namespace skip vlans range 204 206
vm config net C D E F
vlans
vlans range
# but the global range may not overlap a namespace range
vlans range 498 510

# out of VLANs
namespace tiny vlans range 10 12
namespace tiny vm config net X Y Z
namespace tiny vlans
namespace tiny vm config net
