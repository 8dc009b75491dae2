// Runtime-neutral.
/**
 * `vm config networks` and `clear vm config`: a namespace's VM network config.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import { formatNetspec } from "../netspec.ts";
import type { Session } from "./session.ts";

/** The `vm config` network commands. */
export function vmHandlers(): Handler<Session>[] {
  return [
    {
      patterns: ["vm config networks [netspec]..."],
      helpShort: "network config for the VMs to launch",
      helpLong: `Sets the NICs of the VMs launched next, one netspec per NIC, in order:

	[bridge,]vlan[,mac][,driver][,qinq]

- bridge: the Open vSwitch bridge to plug the NIC into; mega_bridge when left out.
- vlan: a VLAN number (0 to 4095), or an alias such as DMZ that gets a VLAN on first use (see
  "vlans"); ns//alias names an alias of another namespace.
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
        if (specs === undefined) return `[${lab.networks(ns).map(formatNetspec).join(" ")}]`;
        await session.refreshDrivers();
        session.lab.configureNetworks(ns, specs);
      },
    },
    {
      patterns: ["clear vm config", "clear vm config <networks,>"],
      helpShort: "reset the VM config",
      helpLong: `Resets the VM config of the active namespace to its defaults: "clear vm config networks"
empties the network list. VLAN aliases stay allocated.`,
      run(_cmd, session) {
        session.lab.clearNetworks(session.lab.activeNamespace);
      },
    },
  ];
}
