// Runtime-neutral.
/**
 * The part of the backend contract for routers: a VM that forwards IPv4 between its NICs, and its routing
 * table. What the lab model applies when a router is committed (lib/lab/routers.ts).
 *
 * @module
 */

import type { VmSpec } from "./vms.ts";

/** A VM's routing, as a router's commit sets it. */
export interface Routing {
  /** Whether the VM forwards IPv4 between its NICs (Linux's `net.ipv4.ip_forward`, in its namespace). */
  readonly forwarding: boolean;
  /** Static routes: a network (`10.2.0.0/24`) through a next hop on a connected subnet. */
  readonly routes: readonly { readonly network: string; readonly via: string }[];
  /** The default gateway, or "" for none. */
  readonly gateway: string;
}

/** A backend whose VMs route. */
export interface RoutingBackend {
  /**
   * Makes a VM's forwarding and routes exactly `routing` (replacing what an earlier call set; connected
   * routes come from the NICs' addresses). The VM's NICs are plugged.
   */
  setRouting(vm: VmSpec, routing: Routing): Promise<void>;
}
