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
    helpLong: `Resets labwire's state: destroys every namespace (their VMs, taps, mirrors, captures, VLAN
aliases and ranges, and VM configs) and every bridge, then clears all VLAN state, blacklisted VLANs
included ("clear namespace all", then "clear vlans all").`,
    async run(_cmd, session) {
      await session.lab.clearAll();
    },
  }];
}
