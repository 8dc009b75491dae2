// Runtime-neutral.
/**
 * `vm config networks` and `clear vm config`: a namespace's VM network config.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import { formatNetspec } from "../netspec.ts";
import type { VmType } from "../lab/records.ts";
import { vmInfoRows } from "./_tables.ts";
import { vmInfo } from "../lab/info.ts";
import type { Session } from "./session.ts";

/** The columns of `vm info`: who the VM is, then minimega's networking columns. */
export const VM_INFO_HEADER = [
  "id",
  "name",
  "state",
  "type",
  "vlan",
  "bridge",
  "tap",
  "mac",
  "ip",
  "ip6",
  "qos",
  "qinq",
  "bond",
] as const;

/** The `vm` commands: config networks, launch, info, lifecycle and runtime NIC changes. */
export function vmHandlers(): Handler<Session>[] {
  return [
    {
      patterns: ["vm launch <kvm,container> <name or count>"],
      helpShort: "launch VMs",
      helpLong: `Launches VMs with the active namespace's VM config: kvm (QEMU) or container VMs. Names may
be a list such as a,b or a range such as vm[1-3]; a number launches that many VMs named vm-<id>.

Each NIC of the config gets a tap (mega_tapN) on its bridge, on its VLAN, and a MAC: the configured
one, or a generated locally administered one. VMs start paused, as in minimega, and a paused VM answers
nothing: see "vm start".`,
      async run(cmd, session) {
        const type: VmType = cmd.bools.has("kvm") ? "kvm" : "container";
        await session.refreshDrivers();
        await session.lab.launchVms(session.lab.activeNamespace, type, cmd.strings.get("name")!);
      },
    },
    {
      patterns: ["vm info"],
      helpShort: "print information about VMs",
      helpLong: `Prints the active namespace's VMs: id, name, state and type, then the networking columns
minimega prints, one item per NIC: vlan (alias and number), bridge, tap, mac, ip (as given with
"vm net ip"), ip6, qos, qinq and bond. Use .columns and .filter to pick, e.g.:

	.columns name,vlan,ip vm info`,
      async run(_cmd, session) {
        const lab = session.lab;
        const ns = lab.activeNamespace;
        await lab.refreshVms(ns);
        return { header: [...VM_INFO_HEADER], rows: vmInfoRows(lab, ns), records: vmInfo(lab, ns) };
      },
    },
    {
      patterns: ["vm <start,stop,kill> <vm target>"],
      helpShort: "start, pause or kill VMs",
      helpLong: `Starts (runs), stops (pauses) or kills VMs. The target is a VM name or id, a list such as
a,b or vm[1-3], or all. A killed KVM VM keeps its taps; a killed container's taps are destroyed and
made again when it starts.`,
      async run(cmd, session) {
        const ns = session.lab.activeNamespace;
        const target = cmd.strings.get("vm")!;
        if (cmd.bools.has("start")) await session.lab.startVms(ns, target);
        else if (cmd.bools.has("stop")) await session.lab.stopVms(ns, target);
        else await session.lab.killVms(ns, target);
      },
    },
    {
      patterns: ["vm flush"],
      helpShort: "discard VMs that quit or failed",
      helpLong: `Forgets the active namespace's VMs that quit or failed, and destroys their taps (and the
mirrors whose destination they were).`,
      async run(_cmd, session) {
        await session.lab.flushVms(session.lab.activeNamespace);
      },
    },
    {
      patterns: [
        "vm net <add,> <vm target> [netspec]...",
        "vm net <connect,> <vm target> <tap position> <vlan> [bridge]",
        "vm net <disconnect,> <vm target> <tap position>",
        "vm net <ip,> <vm target> <tap position> <cidr>",
        "vm net <route,> <vm target> <network or default> <next-hop or none>",
      ],
      helpShort: "change VM NICs at runtime",
      helpLong: `Changes the NICs of running VMs:

	vm net add <vm> <netspec>...                 adds NICs (KVM VMs only), as in vm config networks
	vm net connect <vm> <nic> <vlan> [bridge]    moves NIC number <nic> to a VLAN, on the given bridge,
	                                             else its bridge, else mega_bridge
	vm net disconnect <vm> <nic>                 takes the NIC off its bridge
	vm net ip <vm> <nic> <cidr>                  gives the NIC an address in the guest (a labwire
	                                             extension, so that "ping" can show what reaches what);
	                                             "dhcp" instead of an address asks a DHCP server
	vm net route <vm> <network|default> <ip>     a route (or the default gateway) in the guest, through
	                                             next hop <ip>; "none" removes it. The VM's router
	                                             holds it ("router <vm>") and it applies at once (labwire)`,
      async run(cmd, session) {
        const lab = session.lab;
        const ns = lab.activeNamespace;
        const target = cmd.strings.get("vm")!;
        if (cmd.bools.has("add")) {
          await session.refreshDrivers();
          await session.lab.addVmNics(ns, target, cmd.lists.get("netspec") ?? []);
        } else if (cmd.bools.has("connect")) {
          await lab.connectVmNic(
            ns,
            target,
            cmd.strings.get("tap")!,
            cmd.strings.get("vlan")!,
            cmd.strings.get("bridge"),
          );
        } else if (cmd.bools.has("disconnect")) {
          await lab.disconnectVmNic(ns, target, cmd.strings.get("tap")!);
        } else if (cmd.bools.has("route")) {
          await lab.routeVms(ns, target, cmd.strings.get("network")!, cmd.strings.get("next-hop")!);
        } else {
          await lab.addVmAddress(ns, target, cmd.strings.get("tap")!, cmd.strings.get("cidr")!);
        }
      },
    },
    {
      patterns: ["vm config networks [netspec]..."],
      helpShort: "network config for the VMs to launch",
      helpLong: `Sets the NICs of the VMs launched next, one netspec per NIC, in order:

	[bridge,]vlan[,mac][,driver][,qinq]

- bridge: the Open vSwitch bridge to plug the NIC into; mega_bridge when left out.
- vlan: a VLAN number (1 to 4094: 0 and 4095 are reserved), or an alias such as DMZ that gets a
  VLAN on first use (see "vlans"); ns//alias names an alias of another namespace.
- mac: the NIC's MAC in any usual form (13:37:13:37:00:01, 13-37-..., 1337.1337.0001); when left
  out, each VM gets its own generated MAC at launch.
- driver: a QEMU NIC model such as virtio-net-pci; e1000 when left out. Containers ignore it.
- qinq: make the NIC's port an 802.1ad (QinQ) tunnel: the VLAN is pushed as an outer tag.

A field is recognised by its form, so the order matters: the driver comes after the MAC. For example:

	vm config networks 100
	vm config networks DMZ,13:37:13:37:00:01
	vm config networks lab,DMZ,13:37:13:37:00:01,virtio-net-pci
	vm config networks lab,CORE,qinq

With no netspec, prints the current list, each spec as typed (defaults left out). With netspecs,
replaces the list; if one is wrong, the list is emptied and the error reported (aliases already
allocated for the specs before it stay allocated).`,
      async run(cmd, session) {
        const specs = cmd.lists.get("netspec");
        const lab = session.lab;
        const ns = lab.activeNamespace;
        if (specs === undefined) {
          return `[${lab.networks(ns).map((n) => formatNetspec(n, { drivers: lab.drivers })).join(" ")}]`;
        }
        await session.refreshDrivers();
        await session.lab.configureNetworks(ns, specs);
      },
    },
    {
      patterns: [
        "vm config <memory,> [memory in megabytes]",
        "vm config <vcpus,> [number of CPUs]",
        "vm config <kernel,> [path]",
        "vm config <initrd,> [path]",
        "vm config <append,> [argument]...",
        "vm config <disks,> [path]...",
      ],
      helpShort: "the VM config of the VMs to launch",
      helpLong: `Prints or sets a field of the active namespace's VM config, for the VMs launched next:

	vm config memory [MiB]            memory (2048)
	vm config vcpus [n]               virtual CPUs (1)
	vm config kernel [path]           a kernel to boot directly (KVM VMs)
	vm config initrd [path]           its initrd
	vm config append [argument]...    the kernel command line
	vm config disks [path]...         disk images

With no value, prints the current one.`,
      async run(cmd, session) {
        const lab = session.lab;
        const ns = lab.activeNamespace;
        const config = lab.vmConfig(ns);
        if (cmd.bools.has("disks")) {
          const disks = cmd.lists.get("path");
          if (disks === undefined) return `[${config.disks.join(" ")}]`;
          return await lab.setVmDisks(ns, disks);
        }
        if (cmd.bools.has("append")) {
          const words = cmd.lists.get("argument");
          if (words === undefined) return config.append;
          return await lab.setVmConfig(ns, "append", words.join(" "));
        }
        const field = cmd.bools.has("memory")
          ? "memory"
          : cmd.bools.has("vcpus")
          ? "vcpus"
          : cmd.bools.has("kernel")
          ? "kernel"
          : "initrd";
        const value = cmd.strings.get(field === "memory" ? "memory" : field === "vcpus" ? "number" : "path");
        if (value === undefined) return config[field];
        await lab.setVmConfig(ns, field, value);
      },
    },
    {
      patterns: ["clear vm config", "clear vm config <networks,>"],
      helpShort: "reset the VM config",
      helpLong: `Resets the VM config of the active namespace to its defaults; "clear vm config networks"
only empties the network list. VLAN aliases stay allocated.`,
      async run(cmd, session) {
        if (cmd.bools.has("networks")) await session.lab.clearNetworks(session.lab.activeNamespace);
        else await session.lab.clearVmConfig(session.lab.activeNamespace);
      },
    },
  ];
}
