// Runtime-neutral.
/**
 * The backend contract for routing (optional): what a committed router configuration (`router <vm> ...
 * commit`, the experiment-network spec, section 1.9) asks of the VM's network stack beyond the addresses of its NICs
 * (`EndpointBackend.addAddress`): IPv4 forwarding between its NICs, static routes and a default
 * gateway. A VM is one node: all its NICs are interfaces of one network stack (on Open vSwitch, one
 * network namespace; on the simulator, one `SimStack`), so routes and forwarding are per VM, not per NIC.
 *
 * Each call replaces one part of the VM's configuration, whole, and is idempotent: the lab model sends
 * what the committed configuration says, every time (no diffs to keep). The configuration holds whether
 * the VM runs or not, and stays across stop and start; a VM that does not run forwards nothing (it is
 * paused). A backend may be asked before the VM's NICs are plugged: it keeps the configuration and
 * applies it when they are. Addresses come first: a route's gateway must be in the subnet of one of the
 * VM's addresses to be used (Linux refuses such a route with `Nexthop has invalid gateway`; the simulator
 * keeps it and uses it once an address makes the gateway reachable).
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

/** IPv4 forwarding, static routes and default gateways of VMs. */
export interface RoutingBackend {
  /**
   * Turns IPv4 forwarding between the VM's NICs on or off (`net.ipv4.ip_forward` in its namespace only;
   * off until asked). On, the VM routes packets for other addresses as Linux does: TTL decremented, ICMP
   * time exceeded, net unreachable (no route) and host unreachable (no ARP answer from the next hop).
   */
  setForwarding(vm: RoutedVm, on: boolean): Promise<void>;
  /**
   * Replaces the VM's static routes (`ip route replace NETWORK via GW` for each, and the ones no longer
   * wanted deleted); `[]` removes them all. The default gateway is not one of them.
   *
   * @throws {SyntaxError} When a network or gateway cannot be parsed.
   * @throws {Error} When a network has host bits set, is `0.0.0.0/0`, or appears twice.
   */
  setRoutes(vm: RoutedVm, routes: readonly StaticRoute[]): Promise<void>;
  /**
   * Sets the VM's default gateway (`ip route replace default via GW`), or removes its default route
   * (`ip route del default`, no error when there is none) with `undefined`: minirouter's `route add
   * default gw GW` / `route del default`.
   *
   * @throws {SyntaxError} When `gateway` is not an IPv4 address.
   */
  setDefaultGateway(vm: RoutedVm, gateway: string | undefined): Promise<void>;
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
  const b = backend as Partial<RoutingBackend>;
  return typeof b.setForwarding === "function" && typeof b.setRoutes === "function" &&
    typeof b.setDefaultGateway === "function";
}
