namespace
vm config net A

# switching namespace
namespace foo
namespace
vm config net A
vlans
vm config net
namespace bar
vm config net A
vlans
namespace

# an alias of another namespace, as in minimega's test
vm config net minimega//A foo//A
vm config net
vlans
clear namespace
vlans
vm config net

# one command in another namespace
namespace foo vlans
namespace foo vm config net
namespace
namespace foo namespace bar vlans

# destroying a namespace
clear namespace foo
namespace
namespace foo vlans
clear namespace nosuch
namespace bar
clear namespace bar
namespace

# names
namespace "a b"
namespace all
namespace a//b
namespace ""
namespace lab-1.test_2 vlans
clear namespace all
namespace
