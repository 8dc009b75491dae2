// Runtime-neutral.
/**
 * `clear all` and `nuke`.
 *
 * @module
 */

import type { Handler } from "../cli/registry.ts";
import type { Session } from "./session.ts";

/** `clear all` and `nuke`. */
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
  }, {
    patterns: ["nuke"],
    helpShort: "clean up after a crash",
    helpLong: `Does "clear all", then removes whatever labwire made in the backend for any lab, by this
process or by one that ended without cleaning up: on Open vSwitch, every bridge, port and mirror marked
external_ids:labwire, the network namespaces of container VMs and the taps of KVM VMs. Other labs that share
the Open vSwitch go too: use "clear all" to remove only this lab.`,
    async run(_cmd, session) {
      await session.lab.nuke();
    },
  }];
}
