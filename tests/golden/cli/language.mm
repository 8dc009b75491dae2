# Words match any unique prefix of a command's words
vm config networks LAN
vm conf net
vm c n
vl
clear vm conf n
vm config net

# Quoting and comments
vlans add "my alias" 300 # a trailing comment
vlans add 'it''s' 301
vlans add "#hash" 302
vlans add back\\slash 303
vlans
vlans add "unterminated 304

# Unknown commands, wrong arguments, ambiguous prefixes
frobnicate
vlans add foo
vlans range 1
vm config networks,LAN
clear namespace a b

# Builtins: for one command, or for the session
.columns vlan vlans
.columns vl,al vlans
.filter alias=LAN vlans
.filter vlan!=300 .filter alias~a vlans
.filter nothing vlans
.filter x=1 vlans
.headers false vlans
.sort false vlans
.csv true vlans
.json true vlans
.annotate true vlans
.annotate true vm config net
.headers
.headers false
.headers
vlans
.headers true
.csv true
.csv
vlans
.json true
.csv
.json
.json false
vlans

# a prefix only has to be unique among the commands the rest of the line fits:
# clear vm config needs more words, so clear v is clear vlans
clear v
vlans
