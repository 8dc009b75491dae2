// Runtime-neutral.
/**
 * `tap`, `tap create`, `tap delete`, `tap mirror`, `clear tap` and `clear tap mirror`: host taps and
 * mirrors, namespace aware.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import type { Session } from "./session.ts";
import { tapRows } from "./_tables.ts";
import { tapInfo } from "../lab/info.ts";

/** The `tap` commands. */
export function tapHandlers(): Handler<Session>[] {
  return [
    {
      patterns: [
        "tap",
        "tap <create,> <vlan>",
        "tap <create,> <vlan> name <tap name>",
        "tap <create,> <vlan> <dhcp,> [tap name]",
        "tap <create,> <vlan> ip <ip> [tap name]",
        "tap <create,> <vlan> bridge <bridge>",
        "tap <create,> <vlan> bridge <bridge> name [tap name]",
        "tap <create,> <vlan> bridge <bridge> <dhcp,> [tap name]",
        "tap <create,> <vlan> bridge <bridge> ip <ip> [tap name]",
        "tap <delete,> <tap name or all>",
      ],
      helpShort: "control host taps for communicating between hosts and VMs",
      helpLong: `Host taps put the host on a VLAN: an interface on a bridge with the VLAN's tag, optionally
with an address (ip 10.0.0.1/24) or one from DHCP.

	tap                                     the active namespace's host taps: bridge, tap, vlan
	tap create <vlan> [bridge <bridge>] [name <name> | ip <ip> [name] | dhcp [name]]
	                                        creates one (on mega_bridge unless a bridge is named)
	                                        and prints its name; the VLAN is 1 to 4094, or an
	                                        alias
	tap delete <name or all>                deletes the namespace's host taps

Unlike minimega, an address or DHCP failure is reported, and the tap removed.`,
      async run(cmd, session) {
        const lab = session.lab;
        const ns = lab.activeNamespace;
        if (cmd.bools.has("create")) {
          const name = cmd.strings.get("tap");
          const bridge = cmd.strings.get("bridge");
          const ip = cmd.strings.get("ip");
          const tap = await lab.createTap(ns, cmd.strings.get("vlan")!, {
            ...(name === undefined ? {} : { name }),
            ...(bridge === undefined ? {} : { bridge }),
            ...(ip === undefined ? {} : { ip }),
            dhcp: cmd.bools.has("dhcp"),
          });
          return tap.name;
        }
        if (cmd.bools.has("delete")) {
          await lab.deleteTap(ns, cmd.strings.get("tap")!);
          return;
        }
        return { header: ["bridge", "tap", "vlan"], rows: tapRows(lab, ns), records: tapInfo(lab, ns) };
      },
    },
    {
      patterns: [
        "tap <mirror,> <src name> <dst name> [bridge]",
        "tap <mirror,> <vm name> <interface index> <vm2 name> <interface2 index>",
      ],
      helpShort: "mirror a tap's traffic to another tap",
      helpLong: `Mirrors the traffic of one tap to another, on mega_bridge or the bridge named:

	tap mirror <src tap> <dst tap> [bridge]
	tap mirror <vm> <nic> <vm2> <nic2>      the first VM NIC's traffic to the second's

The destination gets copies of every frame the source sends or receives, and nothing else: like an
Open vSwitch mirror output port, it no longer takes part in its VLAN. Copies reach an access port
untagged. A destination takes one mirror; a source may feed several.`,
      async run(cmd, session) {
        const lab = session.lab;
        const ns = lab.activeNamespace;
        if (cmd.strings.has("vm")) {
          return void await lab.mirrorVms(
            ns,
            cmd.strings.get("vm")!,
            cmd.strings.get("interface")!,
            cmd.strings.get("vm2")!,
            cmd.strings.get("interface2")!,
          );
        }
        await lab.mirrorTaps(ns, cmd.strings.get("src")!, cmd.strings.get("dst")!, cmd.strings.get("bridge"));
      },
    },
    {
      patterns: [
        "clear tap",
        "clear tap <mirror,> [name]",
        "clear tap <mirror,> <vm name> <interface index or all>",
      ],
      helpShort: "delete host taps and mirrors",
      helpLong: `Deletes the active namespace's mirrors and host taps:

	clear tap                         all its mirrors, then all its host taps
	clear tap mirror [dst tap]        its mirrors, or the one whose destination is the tap
	clear tap mirror <vm> <nic|all>   the mirror whose destination is that VM NIC (or any of its NICs)`,
      async run(cmd, session) {
        const lab = session.lab;
        const ns = lab.activeNamespace;
        if (!cmd.bools.has("mirror")) return await lab.clearTaps(ns);
        if (cmd.strings.has("vm")) {
          return await lab.clearVmMirror(ns, cmd.strings.get("vm")!, cmd.strings.get("interface")!);
        }
        await lab.clearMirror(ns, cmd.strings.get("name"));
      },
    },
  ];
}
