// Runtime-neutral.
/**
 * `vlans`, `vlans add`, `vlans range`, `vlans blacklist` and `clear vlans`: minimega's VLAN alias
 * commands, namespace aware.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import { LabError } from "../errors.ts";
import { parseGoInt } from "../go_int.ts";
import { vlanInfo } from "../lab/info.ts";
import { asLabError } from "../lab/model.ts";
import type { Session } from "./session.ts";

/** The `vlans` family of commands. */
export function vlansHandlers(): Handler<Session>[] {
  return [
    {
      patterns: [
        "vlans",
        "vlans <range,>",
        "vlans <range,> <min> <max>",
        "vlans <add,> <alias> <vlan>",
        "vlans <blacklist,> [vlan]",
      ],
      helpShort: "display allocated VLANs",
      helpLong: `Shows and manages VLAN aliases: names such as DMZ that stand for VLAN numbers.

	vlans                      the aliases of the active namespace and their VLANs
	vlans add <alias> <vlan>   gives an alias a VLAN of your choice, 1 to 4094
	vlans range                the VLAN range aliases are allocated from
	vlans range <min> <max>    sets it: min up to max-1, within 1 to 4094 (max at most 4095)
	vlans blacklist            the VLANs that are never allocated
	vlans blacklist <vlan>     adds one (an alias it had is dropped)

An alias gets a VLAN the first time a command uses it (vm config networks, tap create, ...): the
lowest free number of the range, 101 to 4094 by default. A VLAN a command uses by number is
blacklisted, so that no alias is ever given it. VLANs 0 and 4095 are reserved and refused (minimega
takes both): on VLAN 0 a port has no tag, and carries every VLAN.

Each namespace has its own aliases, and may have its own range; in the default namespace, the range
is the global one, which other namespaces use when they have none.`,
      run(cmd, session) {
        const lab = session.lab;
        const ns = lab.activeNamespace;
        if (cmd.bools.has("add")) {
          const vlan = parseGoInt(cmd.strings.get("vlan")!);
          if (vlan === undefined) throw new LabError("invalid-vlan", "expected integer VLAN");
          // a number outside 1..4094 is refused (code invalid-vlan), as in a netspec
          withLabError(() => lab.vlans.add(ns, cmd.strings.get("alias")!, vlan));
          return;
        }
        if (cmd.bools.has("range")) {
          if (cmd.strings.has("min")) {
            const min = parseGoInt(cmd.strings.get("min")!);
            const max = parseGoInt(cmd.strings.get("max")!);
            if (min === undefined || max === undefined) {
              throw new LabError("invalid-argument", "expected integer values for min/max");
            }
            // minimega's words, inverted as they are there: they mean "expected max > min"
            if (max <= min) throw new LabError("invalid-argument", "expected min > max");
            // a range holding VLANs outside 1..4094 is refused (code invalid-argument)
            withLabError(() => lab.vlans.setRange(ns, min, max));
            return;
          }
          const range = lab.vlans.range(ns);
          const rows = range === undefined
            ? []
            : [[String(range.min), String(range.max), String(range.next)]];
          return { header: ["min", "max", "next"], rows };
        }
        if (cmd.bools.has("blacklist")) {
          const token = cmd.strings.get("vlan");
          if (token !== undefined) {
            const vlan = parseGoInt(token);
            if (vlan === undefined) throw new LabError("invalid-vlan", "expected integer VLAN");
            lab.vlans.blacklist(vlan);
            return;
          }
          return { header: ["vlan"], rows: lab.vlans.blacklisted().map((v) => [String(v)]) };
        }
        const records = vlanInfo(lab, ns);
        return {
          header: ["alias", "vlan"],
          rows: records.map(({ alias, vlan }) => [alias, String(vlan)]),
          records,
        };
      },
    },
    {
      patterns: ["clear vlans [prefix]"],
      helpShort: "clear allocated VLANs",
      helpLong: `Frees VLAN aliases, so that their VLANs can be allocated again. Clear only aliases that no
running VM uses any more.

	clear vlans            the active namespace's aliases, and its own range; allocation starts
	                       again from the bottom of every range; blacklisted VLANs stay
	clear vlans <prefix>   only the active namespace's aliases that start with the prefix
	clear vlans all        everything, in every namespace, blacklisted VLANs and ranges included`,
      run(cmd, session) {
        const prefix = cmd.strings.get("prefix");
        if (prefix === "all") {
          session.lab.vlans.reset();
          return;
        }
        session.lab.vlans.clear(session.lab.activeNamespace, prefix ?? "");
      },
    },
  ];
}

/** Runs a change of the VLAN table, its errors as {@linkcode LabError}s with a code. */
function withLabError(change: () => void): void {
  try {
    change();
  } catch (error) {
    throw asLabError(error);
  }
}
