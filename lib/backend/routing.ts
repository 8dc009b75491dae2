// Runtime-neutral.
/**
 * The backend contract for routing (optional): what a committed router configuration (`router <vm> ...
 * commit`, the experiment-network spec, section 1.9) asks of the VM's network stack beyond the addresses
 * of its NICs (`EndpointBackend.addAddress`): IPv4 forwarding between its NICs, static routes and a
 * default gateway. A VM is one node: all its NICs are interfaces of one network stack (on Open vSwitch,
 * one network namespace; on the simulator, one `SimStack`), so routes and forwarding are per VM, not per
 * NIC.
 *
 * One call sets the VM's whole routing and is idempotent: the lab model sends what the committed
 * configuration says, every time (no diffs to keep). The routing holds whether the VM runs or not, and
 * stays across stop and start; a VM that does not run forwards nothing (it is paused). Addresses come
 * first: a route's gateway must be in the subnet of one of the VM's addresses to be used (Linux refuses
 * such a route with `Nexthop has invalid gateway`; the lab model checks it before).
 *
 * @module
 */

import type { VmSpec } from "./vms.ts";

/** The VM a routing call is about: its id is unique in the lab. */
export type RoutedVm = Pick<VmSpec, "id" | "name" | "namespace">;

/** A static route: `network/prefix via gateway`, as minirouter's `route static <network> <next-hop>`. */
export interface StaticRoute {
  /** The destination network with its prefix, host bits 0: `10.2.0.0/24`. Not `0.0.0.0/0`: that is the gateway. */
  readonly network: string;
  /** The next hop, an IPv4 address in the subnet of one of the VM's addresses. */
  readonly via: string;
}

/** A VM's routing, as a router's commit sets it. */
export interface Routing {
  /**
   * IPv4 forwarding between the VM's NICs (`net.ipv4.ip_forward` in its namespace only; off until set).
   * On, the VM routes packets for other addresses as Linux does: TTL decremented, ICMP time exceeded, net
   * unreachable (no route) and host unreachable (no ARP answer from the next hop).
   */
  readonly forwarding: boolean;
  /** Static routes (`ip route replace NETWORK via GW` each; those no longer listed go). */
  readonly routes: readonly StaticRoute[];
  /** The default gateway (`ip route replace default via GW`), or "" for no default route. */
  readonly gateway: string;
  /** Addresses of the VM's loopback (`ip addr add CIDR dev lo`), a router's `interface N ip lo`. */
  readonly loopbacks: readonly string[];
}

/** A backend whose VMs route. */
export interface RoutingBackend {
  /**
   * Makes a VM's forwarding and routes exactly `routing`, replacing what an earlier call set.
   *
   * @throws {SyntaxError} When a network or gateway cannot be parsed.
   * @throws {Error} When a network has host bits set, is `0.0.0.0/0`, appears twice, or the VM's type
   * cannot route (a KVM VM's routing is its guest's).
   */
  setRouting(vm: RoutedVm, routing: Routing): Promise<void>;
}

/**
 * Whether a backend implements {@linkcode RoutingBackend}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRoutingBackend } from "./routing.ts";
 * assert.equal(isRoutingBackend({}), false);
 * ```
 */
export function isRoutingBackend<T extends object>(backend: T): backend is T & RoutingBackend {
  return typeof (backend as Partial<RoutingBackend>).setRouting === "function";
}
