// Runtime-neutral.
/**
 * `namespace`, `namespace <name> [command]` and `clear namespace [name]`.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import { makeResponse } from "../cli/response.ts";
import { DEFAULT_NAMESPACE } from "../vlans.ts";
import { namespaceInfo } from "../lab/info.ts";
import type { Session } from "./session.ts";

/** The namespace commands. */
export function namespaceHandlers(): Handler<Session>[] {
  return [
    {
      patterns: ["namespace [name]", "namespace <name> (command)"],
      helpShort: "display or change namespace",
      helpLong: `Namespaces keep labs apart on one machine: each has its own VLAN aliases, VLAN range and VM
config. The default namespace is minimega.

	namespace                     lists them: name, VLAN range (min-max) and which one is active
	namespace <name>              makes <name> active, creating it if needed
	namespace <name> <command>    runs one command in <name>, then comes back`,
      async runMeta(cmd, session, engine) {
        const lab = session.lab;
        const name = cmd.strings.get("name");
        if (name === undefined) {
          const records = namespaceInfo(lab);
          const rows = records.map((ns) => [
            ns.name,
            ns.vlanRange === undefined ? "" : `${ns.vlanRange.min}-${ns.vlanRange.max}`,
            String(ns.active),
          ]);
          return [
            makeResponse(engine.host, { header: ["namespace", "vlans", "active"], tabular: rows, records }),
          ];
        }
        if (cmd.subcommand === undefined) {
          lab.setActiveNamespace(name);
          return [makeResponse(engine.host)];
        }
        const previous = lab.activeNamespace;
        lab.setActiveNamespace(name);
        try {
          return await engine.run(cmd.subcommand);
        } finally {
          // the command may have replaced the lab (reloaded state) or destroyed the old namespace
          const now = session.lab;
          now.setActiveNamespace(now.namespaceNames().includes(previous) ? previous : DEFAULT_NAMESPACE);
        }
      },
    },
    {
      patterns: ["clear namespace [name]"],
      helpShort: "unset or delete namespace",
      helpLong: `Leaves a namespace, or destroys namespaces.

	clear namespace           makes the default namespace, minimega, active again
	clear namespace <name>    destroys <name>: its VLAN aliases and range and its VM config
	clear namespace all       destroys every namespace`,
      async run(cmd, session) {
        const name = cmd.strings.get("name");
        if (name === undefined) session.lab.setActiveNamespace(DEFAULT_NAMESPACE);
        else await session.lab.destroyNamespace(name);
      },
    },
  ];
}
