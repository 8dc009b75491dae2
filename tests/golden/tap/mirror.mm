vm config net LAN
vm launch kvm a,b,c
tap create LAN name ids
tap create LAN name web

# tap to tap, on mega_bridge unless a bridge is named
tap mirror web ids
tap mirror web web
tap mirror nosuch ids
tap mirror web nosuch
tap mirror mega_tap0 ids
tap mirror web ids lab
# one source may feed several destinations
tap mirror web mega_tap2

# VM to VM
tap mirror a 0 b 0
tap mirror a x b 0
tap mirror a 1 b 0
tap mirror a 0 b 1
tap mirror a 0 z 0
tap mirror y 0 z 0
vm config net DMZ
vm launch kvm d
vm config net lab,LAN
vm launch kvm e
tap mirror a 0 e 0

# clearing, by destination
clear tap mirror b 0
clear tap mirror b 0
clear tap mirror b x
clear tap mirror z 0
clear tap mirror ids
clear tap mirror ids
clear tap mirror
tap mirror web ids
tap mirror a 0 b 0
clear tap mirror b all
clear tap mirror all

# clear tap: mirrors, then host taps
tap mirror web ids
clear tap
tap
