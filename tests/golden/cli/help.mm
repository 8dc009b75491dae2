help vlans
help clear vl
help vm config net
help namespace
help nosuch
help .filter
help
