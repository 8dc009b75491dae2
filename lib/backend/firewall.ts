// Runtime-neutral.
/**
 * The part of the backend contract for a router's firewall (`router <vm> fw ...`): what it lets through
 * when it forwards, as a commit sets it (lib/lab/routers.ts).
 *
 * @module
 */

import type { RouterFw } from "../lab/router_config.ts";
import type { VmSpec } from "./vms.ts";

/** A backend whose routers filter what they forward. */
export interface FirewallBackend {
  /**
   * Makes a VM's firewall exactly `fw`, replacing what an earlier call set: forwarded packets that belong
   * to a connection already let through pass; the others meet the rules of their NIC (in or out), in
   * order, chains included, then the default. A firewall with no rules and default `accept` removes it.
   */
  setFirewall(vm: VmSpec, fw: RouterFw): Promise<void>;
}
