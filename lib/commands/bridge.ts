// Runtime-neutral.
/**
 * `bridge`, `bridge trunk`, `bridge notrunk`, `bridge config` and `bridge destroy`.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import type { Session } from "./session.ts";
import { bridgeRows } from "./_tables.ts";

/** The `bridge` commands. */
export function bridgeHandlers(): Handler<Session>[] {
  return [{
    patterns: [
      "bridge",
      "bridge <config,> <bridge> <config>",
      "bridge <trunk,> <bridge> <interface>",
      "bridge <notrunk,> <bridge> <interface>",
      "bridge <destroy,> <bridge>",
      "bridge <patch,> <bridge> <bridge2>",
      "bridge <nopatch,> <bridge> <bridge2>",
    ],
    helpShort: "display information about and modify virtual bridges",
    helpLong: `Bridges are made when a VM NIC or a tap first uses them. Bridges are not namespace aware.

	bridge                            the bridges: vlans in use, trunks, tunnels, bonds, config
	bridge trunk <bridge> <iface>     adds an untagged port carrying every VLAN (e.g. to another host)
	bridge notrunk <bridge> <iface>   removes it
	bridge config <bridge> <k=v>      sets a bridge setting, e.g. rstp_enable=true
	bridge destroy <bridge>           destroys a bridge, its host taps, trunks, mirrors and captures
	bridge patch <bridge> <bridge2>   joins two bridges with patch ports (patch-<bridge2> on <bridge>,
	                                  patch-<bridge> on <bridge2>), trunks carrying every VLAN (labwire)
	bridge nopatch <bridge> <bridge2> removes that link

Unlike minimega, listing bridges does not create mega_bridge, and a bridge that VM NICs are on is not
destroyed under them.`,
    async run(cmd, session) {
      const lab = session.lab;
      const bridge = cmd.strings.get("bridge");
      if (cmd.bools.has("trunk")) return await lab.trunk(bridge!, cmd.strings.get("interface")!);
      if (cmd.bools.has("notrunk")) return await lab.notrunk(bridge!, cmd.strings.get("interface")!);
      if (cmd.bools.has("config")) return await lab.configureBridge(bridge!, cmd.strings.get("config")!);
      if (cmd.bools.has("destroy")) return await lab.destroyBridge(bridge!);
      if (cmd.bools.has("patch")) return await lab.patchBridges(bridge!, cmd.strings.get("bridge2")!);
      if (cmd.bools.has("nopatch")) return await lab.unpatchBridges(bridge!, cmd.strings.get("bridge2")!);
      return {
        header: ["bridge", "preexisting", "vlans", "trunks", "tunnels", "bonds", "config"],
        rows: bridgeRows(lab, lab.activeNamespace),
        records: lab.bridgeInfo(),
      };
    },
  }];
}
