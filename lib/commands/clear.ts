// Runtime-neutral.
/**
 * `clear all`.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import type { Session } from "./session.ts";

/** `clear all`. */
export function clearHandlers(): Handler<Session>[] {
  return [{
    patterns: ["clear all"],
    helpShort: "reset all state",
    helpLong: `Resets labwire's state: destroys every namespace (their VLAN aliases and ranges and VM
configs), then clears all VLAN state, blacklisted VLANs included ("clear namespace all" and then
"clear vlans all").`,
    run(_cmd, session) {
      session.lab.clearAll();
    },
  }];
}
