// Runtime-neutral.
/**
 * `nat` and `clear nat`: the way out of a VLAN to the host's uplink (a labwire command, in the spirit of
 * minimega's NAT article; lib/lab/nat.ts).
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import type { Session } from "./session.ts";

/** The `nat` commands. */
export function natHandlers(): Handler<Session>[] {
  return [{
    patterns: ["nat", "nat <vlan> <gateway ip/mask> <uplink>"],
    helpShort: "give a VLAN's VMs the host's uplink, masqueraded (labwire)",
    helpLong:
      `Gives the VMs of a VLAN a way out to the host's uplink, as minimega's NAT article does by hand, but
owned by the lab: a host tap lwnat<vlan> on the VLAN holds the gateway address, and the host masquerades
the VLAN's subnet out of the uplink. The VMs route through the gateway ("vm net route <vm> default <ip>",
or "router <vm> gw <ip>"). Only the lab's subnet is masqueraded, only between the tap and the uplink;
the lab reaches nothing of the host's but answers and pings to its gateway. "clear nat" (or "clear all")
removes it all and restores the host's forwarding setting exactly. On the simulator the uplink is one
given with --sim-uplink NAME=ADDRESS/PREFIX[,HOST/PREFIX...] (hosts outside it that answer ping).

	nat DMZ 10.0.0.1/24 eth0     the VMs of DMZ, with addresses in 10.0.0.0/24, go out of eth0
	nat                          lists the ways out
	clear nat [vlan]             closes them, or one`,
    async run(cmd, session) {
      const lab = session.lab;
      const ns = lab.activeNamespace;
      const vlan = cmd.strings.get("vlan");
      if (vlan !== undefined) {
        await lab.openNat(ns, vlan, cmd.strings.get("gateway")!, cmd.strings.get("uplink")!);
        return;
      }
      const nats = lab.nat.list(ns);
      return {
        header: ["vlan", "gateway", "uplink", "tap"],
        rows: nats.map((n) => [lab.vlans.format(ns, n.vlan), n.gateway, n.uplink, n.tap]),
        records: nats,
      };
    },
  }, {
    patterns: ["clear nat [vlan]"],
    helpShort: "close ways out to the host's uplink (labwire)",
    async run(cmd, session) {
      await session.lab.closeNat(session.lab.activeNamespace, cmd.strings.get("vlan"));
    },
  }];
}
